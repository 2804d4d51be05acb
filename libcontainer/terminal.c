/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/terminal.h"

int oci_console_socket_connect(const char *path, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_console_socket_connect: not implemented");
}

int oci_terminal_setup(const struct oci_process *p, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_terminal_setup: not implemented");
}

int oci_send_fd(int sock, int fd, const char *name, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_send_fd: not implemented");
}

int oci_recv_fd(int sock, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_recv_fd: not implemented");
}

int oci_terminal_relay(int master, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_terminal_relay: not implemented");
}
