/* ocirun — the rootfs of a container without a mount namespace.
 *
 * The spec lets a config leave out the mount namespace: the container then
 * shares the runtime's, and the mounts its config asks for are made in the
 * host's mount table. They all go below one bind of the rootfs onto itself,
 * made here by the runtime (never a change to the host's own mounts or their
 * propagation, which runc's make-"/"-rslave would do), and recorded in the
 * state directory, so that removing the directory (delete, delete --force,
 * a failed create) detaches that bind and everything below it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "internal.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define ROOTFS_RECORD "rootfs.mount"

/* The id of the mount fd lies on (/proc/self/fdinfo's mnt_id); -1 when it
 * cannot be read. */
static long mount_id_of(int fd) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  _cleanup_free_ char *text = NULL;
  oci_error ignored;
  if (oci_read_file(path, &text, NULL, &ignored) < 0)
    return -1;
  const char *p = strstr(text, "mnt_id:");
  return p ? strtol(p + 7, NULL, 10) : -1;
}

/* The id of the topmost mount at path, -1 if none can be read. */
static long top_mount_id(const char *path) {
  _cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? -1 : mount_id_of(fd);
}

int oci_host_rootfs_bind(const char *state_dir, const char *rootfs, oci_error *err) {
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return oci_error_errno(err, "bind rootfs \"%s\" onto itself (no mount namespace)", rootfs);
  long id = top_mount_id(rootfs);
  _cleanup_free_ char *record = oci_xasprintf("%ld %s\n", id, rootfs);
  _cleanup_free_ char *path = oci_xasprintf("%s/" ROOTFS_RECORD, state_dir);
  if (id < 0 || oci_write_file_atomic(path, record, strlen(record), err) < 0) {
    umount2(rootfs, MNT_DETACH);
    return id < 0 ? oci_error_setx(err, EIO, "rootfs \"%s\": its bind's mount id", rootfs)
                  : oci_error_wrap(err, "rootfs record");
  }
  return 0;
}

void oci_host_rootfs_unbind(const char *state_dir) {
  _cleanup_free_ char *path = oci_xasprintf("%s/" ROOTFS_RECORD, state_dir);
  _cleanup_free_ char *text = NULL;
  oci_error ignored;
  if (oci_read_file(path, &text, NULL, &ignored) < 0)
    return;
  char *rootfs = strchr(text, ' ');
  long id = strtol(text, NULL, 10);
  if (rootfs == NULL || rootfs[1] != '/' || id <= 0)
    return;
  rootfs++;
  rootfs[strcspn(rootfs, "\n")] = '\0';
  /* Only our own bind, still on top: never a mount someone put there
   * since, nor the engine's own (an overlay) below ours. */
  if (top_mount_id(rootfs) == id && umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
    oci_warn("rootfs \"%s\": detach the container's mounts: %s", rootfs, strerror(errno));
}
