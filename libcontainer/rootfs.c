/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/rootfs.h"

int oci_rootfs_setup(const struct oci_rootfs_ctx *ctx, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_rootfs_setup: not implemented");
}

int oci_rootfs_finalize(const struct oci_rootfs_ctx *ctx, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_rootfs_finalize: not implemented");
}

int oci_mount_parse_options(char **options, size_t n, unsigned long *flags, unsigned long *propagation, bool *recursive, char **data, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_mount_parse_options: not implemented");
}
