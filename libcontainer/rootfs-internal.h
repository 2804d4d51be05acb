/* ocirun — helpers shared by rootfs.c, mount-api.c, mount-options.c,
 * devices.c and safepath.c. Private to libcontainer. */
#ifndef OCIRUN_ROOTFS_INTERNAL_H
#define OCIRUN_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"
#include "ocirun/rootfs.h"

/* ---- safepath.c ------------------------------------------------------ */

/* oci_safe_open with a choice: no_symlinks refuses any symlink on the way
 * (RESOLVE_NO_SYMLINKS), used for proc/sysfs targets. */
int oci_safe_open_ex(int root_fd, const char *path, int flags, mode_t mode,
                     bool no_symlinks, oci_error *err);
int oci_safe_mount_target_ex(int root_fd, const char *path, bool is_dir,
                             bool no_symlinks, oci_error *err);
/* Tests: pretend openat2(2) is missing so the hand-written walk runs. */
void oci_safepath_force_fallback(bool on);
/* "/proc/self/fd/N" for fd into buf. */
const char *oci_fd_path(int fd, char buf[static 32]);

/* ---- mount-options.c -------------------------------------------------- */

struct oci_mount_opts {
  unsigned long flags;        /* MS_* asked for (incl. MS_BIND, MS_REC for rbind) */
  unsigned long cleared;      /* MS_* explicitly turned off (rw, suid, dev ...) */
  unsigned long rflags;       /* MS_* asked recursively (rro, rnosuid ...) */
  unsigned long rcleared;
  unsigned long propagation;  /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE [|MS_REC] */
  bool bind;                  /* bind or rbind */
  bool recursive;             /* rbind */
  bool tmpcopyup;
  bool idmap, ridmap;
  char *data;                 /* fs-specific, comma separated; NULL when none */
};

int oci_mount_opts_parse(char **options, size_t n, struct oci_mount_opts *out, oci_error *err);
void oci_mount_opts_free(struct oci_mount_opts *o);
/* MS_RDONLY|MS_NOSUID... -> MOUNT_ATTR_*; atime bits map to the atime field. */
uint64_t oci_ms_to_mount_attr(unsigned long ms);
/* Which MOUNT_ATTR_* to clear so `set` can take effect plus the ones asked off. */
uint64_t oci_ms_to_mount_attr_clr(unsigned long set, unsigned long cleared);

/* ---- mount-api.c: new mount API with a classic fallback ---------------- */

/* Only the errno text (and the kernel's fs-context message): the caller
 * names the mount, `mount "X" to "Y": no such file or directory`. */
int oci_error_plain(oci_error *err, int e, const char *kernel_msg);

/* What to mount; built by rootfs.c from a config entry or for masking. */
struct oci_mnt_req {
  const char *source;         /* for fsconfig "source" and messages */
  int source_fd;              /* bind: O_PATH fd of the source, else -1 */
  bool source_is_tree;        /* source_fd is a detached tree to attach as it
                               * is (oci_rootfs_open_bind_trees), not cloned */
  const char *fstype;         /* NULL for bind mounts */
  bool recursive;             /* rbind */
  unsigned long flags;        /* MS_* (mount-level and superblock flags) */
  unsigned long cleared;
  unsigned long rflags, rcleared;
  const char *data;
  int userns_fd;              /* idmapped mount: -1 when none */
  bool idmap_recursive;
};

/* True when open_tree/move_mount/fsopen/mount_setattr can be used. */
bool oci_mnt_new_api(void);
/* Tests: force the classic mount(2) path. */
void oci_mnt_force_legacy(bool on);
/* New API: a detached mount fd ready to be attached (flags applied). */
int oci_mnt_create(const struct oci_mnt_req *r, oci_error *err);
/* Attach a detached mount onto the O_PATH fd target_fd. */
int oci_mnt_attach(int mnt_fd, int target_fd, oci_error *err);
/* Set propagation (MS_SHARED... | MS_REC) of a mount given by fd. */
int oci_mnt_propagation(int mnt_fd, unsigned long propagation, oci_error *err);
/* Classic: mount(2) onto /proc/self/fd/N of target_fd. The caller reopens
 * the destination to reach the new mount and applies flags with
 * oci_mnt_setflags (a bind ignores ro/nosuid/... on the first call). */
int oci_mnt_legacy(const struct oci_mnt_req *r, int target_fd, oci_error *err);
/* Change flags of the mount at fd (mount_setattr, or remount keeping the
 * existing statvfs flags). recursive: whole subtree. */
int oci_mnt_setflags(int fd, unsigned long set, unsigned long clr, bool recursive,
                     oci_error *err);
/* Bind src_fd (any O_PATH fd) onto target_fd. */
int oci_mnt_bind_fd(int src_fd, int target_fd, bool recursive, oci_error *err);
/* A user namespace fd with these mappings (for idmapped mounts). */
int oci_mnt_userns_fd(const struct oci_mount *m, oci_error *err);
/* Copy the tree under src_dirfd into dst_dirfd (tmpcopyup). */
int oci_copy_tree(int src_dirfd, int dst_dirfd, oci_error *err);

/* ---- devices.c -------------------------------------------------------- */

/* Default devices, linux.devices, the /dev symlinks. root_fd is the
 * rootfs (before pivot_root). */
int oci_devices_setup(const struct oci_rootfs_ctx *ctx, int root_fd, oci_error *err);
/* Does the config bind-mount /dev itself (then devices are the host's)? */
bool oci_config_binds_dev(const struct oci_config *cfg);

#endif
