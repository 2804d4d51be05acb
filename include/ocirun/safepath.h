/* ocirun — open paths under a root without ever leaving it.
 *
 * openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) where the kernel has it; a
 * component-by-component walk with O_NOFOLLOW and in-root symlink resolution
 * elsewhere. Used for every mount target, device, masked path and cwd. */
#ifndef OCIRUN_SAFEPATH_H
#define OCIRUN_SAFEPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/error.h"

/* Open `path` (absolute or relative, read as relative to root_fd) inside
 * root_fd. flags as openat(2) (O_CLOEXEC is added). Returns fd or -1. */
int oci_safe_open(int root_fd, const char *path, int flags, mode_t mode, oci_error *err);

/* mkdir -p of `path` inside root_fd; returns an O_PATH fd of the last dir. */
int oci_safe_mkdir_p(int root_fd, const char *path, mode_t mode, oci_error *err);

/* Make the mount target for `path` inside root_fd: a directory (is_dir) or
 * an empty file (for file bind mounts). Returns an O_PATH fd of it, to mount
 * onto through /proc/self/fd/N (no path re-resolution, no race). */
int oci_safe_mount_target(int root_fd, const char *path, bool is_dir, oci_error *err);

#endif
