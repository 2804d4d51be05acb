/* ocirun — terminals: pty inside the container, console socket, relay. */
#ifndef OCIRUN_TERMINAL_H
#define OCIRUN_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

/* Connect to --console-socket (a unix stream socket); returns the fd. */
int oci_console_socket_connect(const char *path, oci_error *err);
/* Seconds a peer (console socket, seccomp agent, NOTIFY_SOCKET) may take to
 * accept a connection or take what we send before we give up. */
#define OCI_PEER_TIMEOUT_S 10

/* A connected AF_UNIX stream socket to path (any length: long paths go
 * through their directory's fd), connect and sends bounded by
 * OCI_PEER_TIMEOUT_S; errors read "WHAT "path": ...". */
int oci_unix_connect(const char *path, const char *what, oci_error *err);

/* In the container (after pivot_root): open a pty from the container's
 * /dev/ptmx, apply consoleSize, make the slave the controlling terminal and
 * fds 0-2 of the caller. Returns the master fd. */
int oci_terminal_setup(const struct oci_process *p, oci_error *err);

/* Send fd over a unix socket with SCM_RIGHTS (the runc console protocol). */
int oci_send_fd(int sock, int fd, const char *name, oci_error *err);
/* Receive one fd sent by oci_send_fd. */
int oci_recv_fd(int sock, oci_error *err);

/* Foreground `run`/`exec` with a tty and no console socket: put our stdin
 * in raw mode, copy master <-> stdio, forward SIGWINCH, until the master
 * hangs up. Restores the terminal. */
int oci_terminal_relay(int master, oci_error *err);

/* An fd the relay also polls: ready() runs when it is readable and returns
 * 0 to go on, 1 to end the relay, -1 (err set) to fail it. */
struct oci_relay_watch {
  int fd;
  int (*ready)(void *data, oci_error *err);
  void *data;
};

/* oci_terminal_relay, but it ends when a watch says so, not when the master
 * hangs up (a process left in the container may keep the slave open): then
 * it copies out what the master holds and returns. The foreground wait
 * watches the init's pidfd and a signalfd this way. */
int oci_terminal_relay_watching(int master, const struct oci_relay_watch *watches,
                                size_t n_watches, oci_error *err);

#endif
