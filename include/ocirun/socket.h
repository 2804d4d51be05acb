/* ocirun — unix socket helpers: connecting with bounded waits, fd passing. */
#ifndef OCIRUN_SOCKET_H
#define OCIRUN_SOCKET_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ocirun/error.h"

/* Seconds a peer (console socket, seccomp agent, NOTIFY_SOCKET) may take to
 * accept a connection or take what we send before we give up. */
#define OCI_PEER_TIMEOUT_S 10

/* A connected AF_UNIX stream socket to path (any length: long paths go
 * through their directory's fd), connect and sends bounded by
 * OCI_PEER_TIMEOUT_S; errors read "WHAT "path": ...". */
int oci_unix_connect(const char *path, const char *what, oci_error *err);

/* Send the iovecs whole on a stream socket, with fd (when >= 0) attached to
 * the first bytes through SCM_RIGHTS; what the first sendmsg does not take
 * follows with plain writes. -1 with errno on failure. */
int oci_send_with_fd(int sock, const struct iovec *iov, size_t n_iov, int fd);

/* Send fd over a unix socket with SCM_RIGHTS (the runc console protocol). */
int oci_send_fd(int sock, int fd, const char *name, oci_error *err);
/* recvmsg of up to len bytes into buf (flags: e.g. MSG_WAITALL), retried on
 * EINTR, with the one fd the peer may attach in *fd (-1: none). A message
 * carrying more than one fd, or a truncated control part, fails with
 * EBADMSG and every fd it carried closed. -1 with errno on failure. */
ssize_t oci_recv_with_fd(int sock, void *buf, size_t len, int flags, int *fd);
/* Receive one fd sent by oci_send_fd. */
int oci_recv_fd(int sock, oci_error *err);

#endif
