/* ocirun — the container's root filesystem: mounts, devices, pivot_root,
 * masked and readonly paths. Runs in the container's init, inside its new
 * mount namespace. Every path under the rootfs is resolved inside it
 * (safepath.h): a symlink in the rootfs never leads to the host. */
#ifndef OCIRUN_ROOTFS_H
#define OCIRUN_ROOTFS_H

#include <stdbool.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

struct oci_cgroup;

struct oci_rootfs_ctx {
  const struct oci_config *cfg;
  const char *bundle;                 /* absolute */
  const char *rootfs;                 /* absolute host path of root.path */
  bool no_pivot;                      /* --no-pivot: MS_MOVE + chroot */
  bool userns;                        /* in a new user namespace: bind devices, no mknod */
  bool host_mount_ns;                 /* no mount namespace: the runtime bound the rootfs in
                                         the host's; no propagation change, chroot */
  bool cgroupns;                      /* a new cgroup namespace was made */
  const struct oci_cgroup *cgroup;    /* for "cgroup" mounts; may be NULL */
  /* Called after every mount and device is in place, just before
   * pivot_root, with the cwd at the rootfs: the init uses it to run the
   * createRuntime (via the runtime) and createContainer hooks, which the
   * spec places there. NULL: nothing to do. */
  int (*before_pivot)(void *data, oci_error *err);
  /* Called before the first step that needs the container's cgroup (a
   * "cgroup" mount, device nodes, else before_pivot): the init builds the
   * rest of its rootfs while the runtime is still making the cgroup, and
   * waits here until it has been placed in it. May be called more than
   * once. NULL: the cgroup is there already. */
  int (*await_cgroup)(void *data, oci_error *err);
  void *callback_data;                /* for both */
  /* oci_rootfs_open_bind_trees' result, one per mount (-1: none); NULL
   * when not made. */
  const int *bind_trees;
  /* oci_devices_make_nodes' result, one per linux.devices entry (-1:
   * none); NULL when not made. */
  const int *device_nodes;
};

/* For an init in a user namespace: every bind mount's source cloned on the
 * host (open_tree), before that namespace exists, so a source its root
 * could not reach (a 0700 directory on the way) is still mounted, as runc
 * opens them before entering it. Entries are -1 where that failed (the
 * init then tries the path and reports the error) or for other mounts;
 * NULL without the new mount API. Close with oci_rootfs_close_bind_trees. */
int *oci_rootfs_open_bind_trees(const struct oci_config *cfg, const char *bundle);
void oci_rootfs_close_bind_trees(int *trees, size_t n);

/* For an init in a user namespace, made by a runtime that is root on the
 * host: each linux.devices node (fifos aside) made on the host, before that
 * namespace exists, with the config's type, numbers, mode and owner (ids
 * mapped to the host's through linux.uidMappings/gidMappings), in a private
 * tmpfs attached nowhere; one detached mount of each node, for the init to
 * attach at its path. mknod is refused inside the namespace, and the host's
 * own node, bound instead, would have the host's mode and owner or not
 * exist at all. *out is NULL without the new mount API (the init then binds
 * the host's nodes). Close with oci_devices_close_nodes. */
int oci_devices_make_nodes(const struct oci_config *cfg, int **out, oci_error *err);
void oci_devices_close_nodes(int *nodes, size_t n);

/* Propagation, rootfs bind, config mounts in order, /dev (default devices,
 * config devices, symlinks; nothing when config bind-mounts /dev; no
 * /dev/pts or /dev/shm of our own, as runc), pivot_root (or move+chroot).
 * On return the process's root and cwd are the container's "/" and no fd
 * of the host's root is left open. */
int oci_rootfs_setup(const struct oci_rootfs_ctx *ctx, oci_error *err);

/* After sysctl and hostname: readonlyPaths, maskedPaths, root.readonly.
 * Each target is checked to be what it claims (procfs/sysfs) before a bind
 * goes over it. */
int oci_rootfs_finalize(const struct oci_rootfs_ctx *ctx, oci_error *err);

/* Mount option string -> flags (a table). Exposed for tests.
 * Returns 0 and fills flags (MS_*, incl. MS_BIND|MS_REC for rbind),
 * propagation (MS_SHARED... | MS_REC for r-variants), recursive (rbind) and
 * data (fs-specific options joined with ",", malloc'd, NULL when none). */
int oci_mount_parse_options(char **options, size_t n, unsigned long *flags,
                            unsigned long *propagation, bool *recursive,
                            char **data, oci_error *err);

#endif
