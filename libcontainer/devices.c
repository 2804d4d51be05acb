/* ocirun — /dev inside the container: the spec's default devices, the
 * config's linux.devices and the usual symlinks.
 *
 * Outside a user namespace nodes are made with mknod. In one, mknod of a
 * device is refused: a runtime that is root on the host makes the config's
 * nodes beforehand, on the host, and the init attaches them; otherwise
 * (the default devices, a rootless runtime) the host's node is bind-mounted
 * onto an empty file, after checking it is the device the config names. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ocirun/log.h"
#include "ocirun/rootfs.h"
#include "ocirun/safepath.h"
#include "ocirun/utils.h"
#include "rootfs-internal.h"

/* config-linux.md "Default Devices" (/dev/console and /dev/ptmx are made
 * elsewhere: the terminal code and the ptmx symlink below). */
static const struct oci_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

static bool path_is_dev(const char *p) {
  while (*p == '/')
    p++;
  if (strncmp(p, "dev", 3) != 0)
    return false;
  for (p += 3; *p == '/'; p++)
    ;
  return *p == '\0';
}

bool oci_config_binds_dev(const struct oci_config *cfg) {
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (!path_is_dev(m->destination))
      continue;
    bool bind = m->type != NULL && strcmp(m->type, "bind") == 0;
    for (size_t k = 0; k < m->n_options; k++)
      bind |= strcmp(m->options[k], "bind") == 0 || strcmp(m->options[k], "rbind") == 0;
    if (bind)
      return true;
  }
  return false;
}

static mode_t device_type_bits(char type) {
  switch (type) {
  case 'b':
    return S_IFBLK;
  case 'p':
    return S_IFIFO;
  default: /* 'c' and 'u' (unbuffered character) */
    return S_IFCHR;
  }
}

/* Split "/dev/net/tun" into an O_PATH fd of "/dev/net" (made if missing,
 * inside the root) and "tun". */
static int open_parent(int root_fd, const char *path, const char **base, oci_error *err) {
  const char *slash = strrchr(path, '/');
  *base = slash ? slash + 1 : path;
  if (**base == '\0' || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
    return oci_error_setx(err, EINVAL, "bad device path");
  _cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : oci_xstrdup("");
  return oci_safe_mkdir_p(root_fd, dir, 0755, err);
}

static int mknod_device(int root_fd, const struct oci_device *d, mode_t perm, oci_error *err) {
  const char *base;
  _cleanup_close_ int parent = open_parent(root_fd, d->path, &base, err);
  if (parent < 0)
    return -1;
  dev_t dev = d->type == 'p' ? 0 : makedev(d->major, d->minor);
  mode_t mode = device_type_bits(d->type) | perm;
  /* umask would strip the mode the config asked for; init is one thread. */
  mode_t old = umask(0);
  int r = mknodat(parent, base, mode, dev);
  if (r < 0 && errno == EEXIST && unlinkat(parent, base, 0) == 0)
    r = mknodat(parent, base, mode, dev); /* the image's own node: replace it */
  int e = errno;
  umask(old);
  if (r < 0)
    return oci_error_set(err, e, "mknod");
  uid_t uid = d->uid.set ? d->uid.v : 0;
  gid_t gid = d->gid.set ? d->gid.v : 0;
  if (fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return oci_error_errno(err, "chown");
  return 0;
}

/* The host node must be the device asked for: a bind of anything else
 * (a directory, a regular file) would hand the container host content. */
static int open_host_device(const struct oci_device *d, oci_error *err) {
  _cleanup_close_ int fd = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open host device");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return oci_error_errno(err, "stat host device");
  if ((st.st_mode & S_IFMT) != device_type_bits(d->type) ||
      (d->type != 'p' && st.st_rdev != makedev(d->major, d->minor)))
    return oci_error_set(err, ENODEV, "host \"%s\" is not device %c %lld:%lld", d->path,
                         d->type, (long long)d->major, (long long)d->minor);
  return OCI_STEAL_FD(fd);
}

/* The bind is made nosuid,noexec: a device node needs neither, and the
 * host node's mount must not lend the container either (crun does so too).
 * Only these two are added; flags the mount has (locked ones in a user
 * namespace) stay. */
static int bind_device(int root_fd, const struct oci_device *d, oci_error *err) {
  _cleanup_close_ int src = open_host_device(d, err);
  if (src < 0)
    return -1;
  _cleanup_close_ int target = oci_safe_mount_target(root_fd, d->path, false, err);
  if (target < 0 || oci_mnt_bind_fd(src, target, false, err) < 0)
    return -1;
  /* target still names the file under the mount: walk the path again (in
   * the root) to reach the new mount itself. */
  _cleanup_close_ int mnt = oci_safe_open(root_fd, d->path, O_PATH, 0, err);
  if (mnt < 0)
    return -1;
  return oci_mnt_setflags(mnt, MS_NOSUID | MS_NOEXEC, 0, false, err);
}

/* A node oci_devices_make_nodes made on the host: its detached mount goes
 * onto an empty file at the path (nosuid,noexec set before, as for a bind). */
static int attach_device_node(int root_fd, const struct oci_device *d, int node,
                              oci_error *err) {
  _cleanup_close_ int target = oci_safe_mount_target(root_fd, d->path, false, err);
  if (target < 0)
    return -1;
  return oci_mnt_attach(node, target, err);
}

static int create_device(const struct oci_rootfs_ctx *ctx, int root_fd,
                         const struct oci_device *d, int node, oci_error *err) {
  mode_t perm = d->file_mode.set ? (d->file_mode.v & 07777) : 0666;
  int r;
  /* A fifo needs no privilege, so it is made even in a user namespace.
   * The runtime itself may run in one (rootless podman): mknod of a device
   * is refused there too, as runc knows. */
  if (node >= 0)
    r = attach_device_node(root_fd, d, node, err);
  else if ((ctx->userns || !oci_in_initial_userns()) && d->type != 'p')
    r = bind_device(root_fd, d, err);
  else
    r = mknod_device(root_fd, d, perm, err);
  if (r < 0)
    return oci_error_wrap(err, "device \"%s\"", d->path);
  return 0;
}

static bool config_has_device(const struct oci_config *cfg, const char *path) {
  for (size_t i = 0; cfg->linux_ && i < cfg->linux_->n_devices; i++)
    if (strcmp(cfg->linux_->devices[i].path, path) == 0)
      return true;
  return false;
}

static int make_symlink(int dev_fd, const char *target, const char *name, bool replace,
                        oci_error *err) {
  if (replace && unlinkat(dev_fd, name, 0) < 0 && errno != ENOENT)
    return oci_error_errno(err, "remove /dev/%s", name);
  if (symlinkat(target, dev_fd, name) < 0 && errno != EEXIST)
    return oci_error_errno(err, "symlink /dev/%s -> %s", name, target);
  return 0;
}

static int make_dev_symlinks(int root_fd, oci_error *err) {
  static const struct { const char *target, *name; } links[] = {
      {"/proc/self/fd", "fd"},
      {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"},
  };
  _cleanup_close_ int dev = oci_safe_mkdir_p(root_fd, "/dev", 0755, err);
  if (dev < 0)
    return -1;
  for (size_t i = 0; i < OCI_ARRAY_SIZE(links); i++)
    if (make_symlink(dev, links[i].target, links[i].name, false, err) < 0)
      return -1;
  /* Every container gets the ptmx of its own devpts instance. */
  if (make_symlink(dev, "pts/ptmx", "ptmx", true, err) < 0)
    return -1;
  if (access("/proc/kcore", F_OK) == 0 && make_symlink(dev, "/proc/kcore", "core", false, err) < 0)
    return -1;
  return 0;
}

int oci_devices_setup(const struct oci_rootfs_ctx *ctx, int root_fd, oci_error *err) {
  const struct oci_config *cfg = ctx->cfg;
  /* The host's /dev bound in: its nodes are the devices (as runc does). */
  if (oci_config_binds_dev(cfg))
    return 0;
  for (size_t i = 0; i < OCI_ARRAY_SIZE(default_devices); i++) {
    const struct oci_device *d = &default_devices[i];
    if (!config_has_device(cfg, d->path) && create_device(ctx, root_fd, d, -1, err) < 0)
      return -1;
  }
  for (size_t i = 0; cfg->linux_ && i < cfg->linux_->n_devices; i++)
    if (create_device(ctx, root_fd, &cfg->linux_->devices[i],
                      ctx->device_nodes ? ctx->device_nodes[i] : -1, err) < 0)
      return -1;
  return make_dev_symlinks(root_fd, err);
}

/* ---- nodes made on the host for a user namespace ------------------------ */

/* The host id a container id maps to; false when no mapping covers it. */
static bool map_to_host(const struct oci_id_mapping *m, size_t n, uint32_t id, uint32_t *out) {
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container_id && id - m[i].container_id < m[i].size) {
      *out = m[i].host_id + (id - m[i].container_id);
      return true;
    }
  return false;
}

/* One node in the tmpfs, named by its index; a clone of it, nosuid,noexec,
 * detached, is returned. */
static int make_node(int tmpfs, size_t i, const struct oci_device *d, uid_t uid, gid_t gid,
                     oci_error *err) {
  char name[32];
  snprintf(name, sizeof(name), "%zu", i);
  mode_t perm = d->file_mode.set ? (d->file_mode.v & 07777) : 0666;
  mode_t old = umask(0); /* the mode the config asked for, not less */
  int r = mknodat(tmpfs, name, device_type_bits(d->type) | perm, makedev(d->major, d->minor));
  int e = errno;
  umask(old);
  if (r < 0)
    return oci_error_set(err, e, "mknod");
  if (fchownat(tmpfs, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return oci_error_errno(err, "chown");
  _cleanup_close_ int node = open_tree(tmpfs, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (node < 0)
    return oci_error_errno(err, "open_tree");
  if (oci_mnt_setflags(node, MS_NOSUID | MS_NOEXEC, 0, false, err) < 0)
    return -1;
  return OCI_STEAL_FD(node);
}

static int device_host_ids(const struct oci_linux *l, size_t i, uid_t *uid, gid_t *gid,
                           oci_error *err) {
  const struct oci_device *d = &l->devices[i];
  uint32_t u = d->uid.set ? d->uid.v : 0, g = d->gid.set ? d->gid.v : 0, hu, hg;
  if (!map_to_host(l->uid_mappings, l->n_uid_mappings, u, &hu))
    return oci_error_setx(err, EINVAL,
                          "linux.devices[%zu].uid: %u is not mapped by linux.uidMappings", i, u);
  if (!map_to_host(l->gid_mappings, l->n_gid_mappings, g, &hg))
    return oci_error_setx(err, EINVAL,
                          "linux.devices[%zu].gid: %u is not mapped by linux.gidMappings", i, g);
  *uid = hu;
  *gid = hg;
  return 0;
}

/* A tmpfs of the host's user namespace (its nodes open as devices in any
 * mount namespace), attached in a mount namespace of the helper's own,
 * private, so nothing reaches the host: open_tree clones only from a mount
 * of the caller's namespace (before 6.15, not from a detached one). */
static int helper_tmpfs(oci_error *err) {
  if (unshare(CLONE_NEWNS) < 0)
    return oci_error_errno(err, "unshare the mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return oci_error_errno(err, "make \"/\" private");
  struct oci_mnt_req req = {.source = "tmpfs", .source_fd = -1, .fstype = "tmpfs",
                            .flags = MS_NOSUID | MS_NOEXEC, .data = "mode=700,size=64k",
                            .userns_fd = -1};
  _cleanup_close_ int tmpfs = oci_mnt_create(&req, err);
  if (tmpfs < 0)
    return -1;
  static const char *const spots[] = {"/tmp", "/run", "/mnt", "/dev"};
  for (size_t k = 0; k < OCI_ARRAY_SIZE(spots); k++)
    if (move_mount(tmpfs, "", AT_FDCWD, spots[k], MOVE_MOUNT_F_EMPTY_PATH) == 0)
      return OCI_STEAL_FD(tmpfs);
  return oci_error_errno(err, "attach the tmpfs");
}

/* The helper process: each node's mount sent to the runtime, then READY;
 * or an error. */
static __attribute__((noreturn)) void node_maker(int sock, const struct oci_linux *l,
                                                 const uid_t *uids, const gid_t *gids) {
  oci_error err = {0};
  int tmpfs = helper_tmpfs(&err);
  if (tmpfs < 0) {
    oci_error_wrap(&err, "tmpfs for the nodes");
    oci_sync_send_error(sock, &err);
    _exit(1);
  }
  for (size_t i = 0; i < l->n_devices; i++) {
    if (l->devices[i].type == 'p')
      continue; /* a fifo is made inside, no privilege needed */
    _cleanup_close_ int node = make_node(tmpfs, i, &l->devices[i], uids[i], gids[i], &err);
    if (node < 0 || oci_sync_send(sock, OCI_SYNC_DEVICE_FD, &i, sizeof(i), node, &err) < 0) {
      oci_error_wrap(&err, "device \"%s\"", l->devices[i].path);
      oci_sync_send_error(sock, &err);
      _exit(1);
    }
  }
  oci_sync_send(sock, OCI_SYNC_READY, NULL, 0, -1, &err);
  _exit(0);
}

struct node_list {
  int *nodes;
  size_t n;
};

static int take_node(void *data, struct oci_sync_msg *m, oci_error *err) {
  struct node_list *l = data;
  size_t i;
  if (m->type != OCI_SYNC_DEVICE_FD || m->len != sizeof(i) || m->fd < 0 ||
      (memcpy(&i, m->data, sizeof(i)), i >= l->n) || l->nodes[i] >= 0)
    return oci_error_setx(err, EPROTO, "linux.devices: the node maker sent message %d",
                          (int)m->type);
  l->nodes[i] = m->fd;
  m->fd = -1;
  return 0;
}

int oci_devices_make_nodes(const struct oci_config *cfg, int **out, oci_error *err) {
  *out = NULL;
  const struct oci_linux *l = cfg->linux_;
  if (l == NULL || l->n_devices == 0 || !oci_mnt_new_api() || oci_config_binds_dev(cfg))
    return 0;
  _cleanup_free_ uid_t *uids = oci_xmalloc0(l->n_devices * sizeof(*uids));
  _cleanup_free_ gid_t *gids = oci_xmalloc0(l->n_devices * sizeof(*gids));
  for (size_t i = 0; i < l->n_devices; i++)
    if (l->devices[i].type != 'p' && device_host_ids(l, i, &uids[i], &gids[i], err) < 0)
      return oci_error_wrap(err, "device \"%s\"", l->devices[i].path);
  /* A process of its own: unsharing the mount namespace is refused to a
   * runtime with threads, and ours must stay where it is. */
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return oci_error_errno(err, "linux.devices: socketpair");
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return oci_error_errno(err, "linux.devices: fork");
  }
  if (pid == 0) {
    close(sv[0]);
    node_maker(sv[1], l, uids, gids);
  }
  close(sv[1]);
  int *nodes = oci_xmalloc0(l->n_devices * sizeof(*nodes));
  for (size_t i = 0; i < l->n_devices; i++)
    nodes[i] = -1;
  struct node_list list = {nodes, l->n_devices};
  int r = oci_sync_serve(sv[0], take_node, &list, err);
  if (r < 0)
    oci_error_wrap(err, "linux.devices");
  close(sv[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (r < 0) {
    oci_devices_close_nodes(nodes, l->n_devices);
    return -1;
  }
  *out = nodes;
  return 0;
}

void oci_devices_close_nodes(int *nodes, size_t n) {
  for (size_t i = 0; nodes != NULL && i < n; i++)
    if (nodes[i] >= 0)
      close(nodes[i]);
  free(nodes);
}
