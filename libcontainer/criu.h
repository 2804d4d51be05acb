/* ocirun — a client of CRIU's RPC service (`criu swrk`), internal to
 * libcontainer.
 *
 * CRIU is meant to be driven from another program through its RPC: the
 * caller starts `criu swrk FD` with one end of a SOCK_SEQPACKET socketpair
 * and sends it one request, a protobuf message (rpc.proto, shipped with
 * Debian's criu package together with its generated C code in libcriu).
 * While it works, CRIU may send notifications ("setup-namespaces",
 * "post-restore", "orphan-pts-master" with the pty master attached...),
 * each answered before it goes on; its last message is the response. */
#ifndef OCIRUN_CRIU_H
#define OCIRUN_CRIU_H

#include <stdbool.h>
#include <sys/types.h>

#include <criu/rpc.pb-c.h>

#include "ocirun/error.h"

/* The criu binary: `configured` (global --criu) when given, else "criu"
 * looked up in PATH. NULL with *err filled when there is none. */
char *oci_criu_find(const char *configured, oci_error *err);

/* CRIU's version as "3.17.1" (asked over RPC), or NULL with *err filled. */
char *oci_criu_version(const char *binary, oci_error *err);

/* A running `criu swrk`. */
struct oci_criu {
  pid_t pid;
  int sock;
};

/* How the swrk process starts: fds it must inherit at their numbers (the
 * caller's stdio for inherit_fd, --status-fd). */
struct oci_criu_spawn {
  const int *keep_fds;
  size_t n_keep_fds;
};

/* For a restore: CRIU needs its root to be a mount point, and opens the
 * image and work directories through the caller's fds (/proc/PID/fd/N),
 * which must be on mounts of its own namespace. So the caller moves into
 * a new mount namespace (host mounts still propagate in) where rootfs is
 * bound onto itself, opens the directories and starts CRIU there, then
 * returns to the host's namespace with oci_criu_leave_private_root(): its
 * hooks see the host's mounts, and the bind goes away with CRIU.
 * Returns an fd of the host's namespace. */
int oci_criu_enter_private_root(const char *rootfs, oci_error *err);
int oci_criu_leave_private_root(int host_ns, oci_error *err);

int oci_criu_start(const char *binary, const struct oci_criu_spawn *sp, struct oci_criu *c,
                   oci_error *err);

/* A notification: script name, the pid CRIU gives with it, the fd attached
 * (-1 when none; the callback owns it). A negative return fails the
 * request: CRIU is told and the error is the callback's. */
typedef int (*oci_criu_notify_fn)(const char *script, pid_t pid, int fd, void *data,
                                  oci_error *err);

/* Send req, answer the notifications through cb (may be NULL), and return
 * the response (free with criu_resp__free_unpacked(resp, NULL)). A
 * response with success false is returned as is. */
int oci_criu_call(struct oci_criu *c, CriuReq *req, oci_criu_notify_fn cb, void *data,
                  CriuResp **resp, oci_error *err);

/* Close the socket and reap the swrk process. */
void oci_criu_stop(struct oci_criu *c);

/* Why a request failed, from the response and the first error line of
 * CRIU's log (log_path), into *err. Returns -1. */
int oci_criu_failure(const CriuResp *resp, const char *what, const char *log_path,
                     oci_error *err);

#endif
