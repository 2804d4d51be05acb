/* ocirun — terminals: pty inside the container, console socket, relay. */
#ifndef OCIRUN_TERMINAL_H
#define OCIRUN_TERMINAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"
#include "ocirun/socket.h"

/* Connect to --console-socket (a unix stream socket); returns the fd. */
int oci_console_socket_connect(const char *path, oci_error *err);

/* In the container (after pivot_root): open a pty from the container's
 * /dev/ptmx, apply consoleSize, make the slave the controlling terminal and
 * fds 0-2 of the caller. Returns the master fd. */
int oci_terminal_setup(const struct oci_process *p, oci_error *err);

/* In the container (after pivot_root): bind the pty slave `slave` onto
 * /dev/console, made as an empty file when missing, never through a
 * symlink. */
int oci_terminal_bind_console(int slave, oci_error *err);

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

/* Turn off the pty's "\n" -> "\r\n" on output, before the container's
 * process writes: a foreground run's output then reads as runc's does (it
 * clears ONLCR on the master it relays), the same as without a terminal. */
void oci_terminal_clear_onlcr(int master);
/* Give the pty the window size of our own terminal (stdin, else stdout),
 * if we have one: done as soon as the master arrives, before the process
 * is let go, so that its first look at the size is not 0x0 (the relay
 * only starts later). */
void oci_terminal_inherit_size(int master);

/* Copy to stdout what the master still holds, without waiting for more:
 * for a process that exited before the relay started. */
void oci_terminal_drain(int master);

#endif
