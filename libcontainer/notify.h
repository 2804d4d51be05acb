/* ocirun — NOTIFY_SOCKET passthrough (libcontainer/notify.c). */
#ifndef OCIRUN_NOTIFY_H
#define OCIRUN_NOTIFY_H

#include "internal.h"

/* create: when NOTIFY_SOCKET is set, make <dir>/notify, add its read-only
 * bind mount at /run/notify to st->config and NOTIFY_SOCKET to the process
 * env. Before the init is spawned. */
int oci_notify_prepare(struct oci_state *st, oci_error *err);
/* start: bind <dir>/notify/notify.sock and return its fd; -1 with err
 * untouched (errnum 0) when there is nothing to relay. */
int oci_notify_listen(const struct oci_state *st, oci_error *err);
/* Wait for READY=1 on sock and pass it to the host's NOTIFY_SOCKET with
 * MAINPID=init; returns early (a warning) when the init exits first. */
int oci_notify_wait_ready(int sock, pid_t init, oci_error *err);

#endif
