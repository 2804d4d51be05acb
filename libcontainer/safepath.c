/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/safepath.h"

int oci_safe_open(int root_fd, const char *path, int flags, mode_t mode, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_safe_open: not implemented");
}

int oci_safe_mkdir_p(int root_fd, const char *path, mode_t mode, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_safe_mkdir_p: not implemented");
}

int oci_safe_mount_target(int root_fd, const char *path, bool is_dir, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_safe_mount_target: not implemented");
}
