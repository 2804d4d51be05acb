/* ocirun — the container's root filesystem: propagation, the config's
 * mounts in order, /dev, pivot_root; later readonly and masked paths and a
 * read-only root.
 *
 * Every destination is resolved inside the rootfs (safepath.c) and mounted
 * through the resulting fd (mount-api.c), so a symlink in the image can only
 * ever point somewhere else inside the image. Sources of bind mounts are
 * host paths and are resolved normally. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ocirun/cgroup.h"
#include "ocirun/log.h"
#include "ocirun/rootfs.h"
#include "ocirun/safepath.h"
#include "ocirun/utils.h"
#include "internal.h"
#include "rootfs-internal.h"

/* ---- one mount -------------------------------------------------------- */

/* How to mount and where: shared by config mounts, masking and fallbacks. */
struct mount_job {
  struct oci_mnt_req req;
  int root_fd;
  const char *dest;          /* as written in the config, for messages */
  int target_fd;             /* O_PATH, resolved inside root_fd */
  unsigned long propagation;
  bool tmpcopyup;
};

static bool is_type(const char *type, const char *name) {
  return type != NULL && strcmp(type, name) == 0;
}

static int mount_job_new_api(const struct mount_job *j, oci_error *err) {
  _cleanup_close_ int m = oci_mnt_create(&j->req, err);
  if (m < 0)
    return -1;
  if (j->tmpcopyup) {
    /* Fill the tmpfs while it is still detached: nobody sees it half done. */
    _cleanup_close_ int src = openat(j->target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int dst = openat(m, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src < 0 || dst < 0)
      return oci_error_errno(err, "tmpcopyup: open");
    if (oci_copy_tree(src, dst, err) < 0)
      return oci_error_wrap(err, "tmpcopyup");
  }
  if (oci_mnt_attach(m, j->target_fd, err) < 0)
    return -1;
  return oci_mnt_propagation(m, j->propagation, err);
}

static int mount_job_legacy(const struct mount_job *j, oci_error *err) {
  _cleanup_close_ int old = -1;
  if (j->tmpcopyup) {
    old = openat(j->target_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (old < 0)
      return oci_error_errno(err, "tmpcopyup: open");
  }
  if (oci_mnt_legacy(&j->req, j->target_fd, err) < 0)
    return -1;
  /* target_fd still names what the mount covers; walk the path again (in
   * the root) to reach the new mount itself. */
  _cleanup_close_ int fd = oci_safe_open(j->root_fd, j->dest, O_PATH, 0, err);
  if (fd < 0)
    return -1;
  bool bind = j->req.fstype == NULL && !(j->req.flags & MS_REMOUNT);
  if (bind && (j->req.flags & ~(MS_BIND | MS_REC) || j->req.cleared) &&
      oci_mnt_setflags(fd, j->req.flags & ~(MS_BIND | MS_REC), j->req.cleared, false, err) < 0)
    return -1;
  if (j->tmpcopyup) {
    _cleanup_close_ int dst = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dst < 0)
      return oci_error_errno(err, "tmpcopyup: open");
    if (oci_copy_tree(old, dst, err) < 0)
      return oci_error_wrap(err, "tmpcopyup");
  }
  return oci_mnt_propagation(fd, j->propagation, err);
}

/* iversion and silent are superblock flags fsconfig(2) has no key for. */
static bool needs_mount_syscall(const struct oci_mnt_req *r) {
  return (r->flags & MS_REMOUNT) || (r->fstype != NULL && (r->flags & (MS_I_VERSION | MS_SILENT)));
}

static int mount_job_run(const struct mount_job *j, oci_error *err) {
  if (oci_mnt_new_api() && !needs_mount_syscall(&j->req))
    return mount_job_new_api(j, err);
  return mount_job_legacy(j, err);
}

/* ---- config mounts ---------------------------------------------------- */

static char *bind_source_path(const struct oci_rootfs_ctx *ctx, const char *src) {
  if (src[0] == '/' || ctx->bundle == NULL)
    return oci_xstrdup(src);
  return oci_xasprintf("%s/%s", ctx->bundle, src); /* relative to the bundle */
}

static int await_cgroup(const struct oci_rootfs_ctx *ctx, oci_error *err) {
  return ctx->await_cgroup ? ctx->await_cgroup(ctx->callback_data, err) : 0;
}

/* Co-mounted v1 controllers ("cpu,cpuacct") get a symlink per name. */
static int link_comounted(int top, const char *controllers, oci_error *err) {
  if (strchr(controllers, ',') == NULL)
    return 0;
  _cleanup_free_ char *copy = oci_xstrdup(controllers);
  char *save = NULL;
  for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
    if (symlinkat(controllers, top, c) < 0 && errno != EEXIST)
      return oci_error_errno(err, "symlink \"%s\"", c);
  return 0;
}

/* One hierarchy onto target_fd: the container's cgroup directory bound, or
 * with a cgroup namespace a fresh cgroup fs. The mount's own filesystem
 * options ("nsdelegate", "memory_recursiveprot") go to a fresh mount after
 * the hierarchy's controllers, for the kernel to take or refuse; a bind
 * cannot apply them, so there they are refused rather than dropped. */
static int mount_cgroup_view(const struct mount_job *parent, const struct oci_cgroup_view *v,
                             int target_fd, const char *dest, bool cgroupns, oci_error *err) {
  unsigned long keep = parent->req.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
  struct mount_job c = {.root_fd = parent->root_fd, .dest = dest, .target_fd = target_fd};
  _cleanup_close_ int src = -1;
  const char *own = parent->req.data && *parent->req.data ? parent->req.data : NULL;
  _cleanup_free_ char *data = NULL;
  if (cgroupns) {
    if (own != NULL)
      data = v->options ? oci_xasprintf("%s,%s", v->options, own) : oci_xstrdup(own);
    c.req = (struct oci_mnt_req){.source = v->fstype, .source_fd = -1, .fstype = v->fstype,
                                 .flags = keep, .data = data ? data : v->options,
                                 .userns_fd = -1};
  } else if (own != NULL) {
    return oci_error_setx(err, EINVAL,
                          "cgroup filesystem options \"%s\": without a cgroup namespace the "
                          "container's cgroup is bound, not mounted, and cannot take them",
                          own);
  } else {
    src = open(v->host_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (src < 0)
      return oci_error_errno(err, "open \"%s\"", v->host_dir);
    c.req = (struct oci_mnt_req){.source = v->host_dir, .source_fd = src, .recursive = true,
                                 .flags = MS_BIND | MS_REC | keep, .userns_fd = -1};
  }
  if (mount_job_run(&c, err) < 0)
    return oci_error_wrap(err, "%s \"%s\"", cgroupns ? v->fstype : "bind", cgroupns ? dest : v->host_dir);
  return 0;
}

/* The container's cgroups, as cgroup.c describes them, mounted like every
 * other mount: onto fds resolved inside the rootfs, never by a host path a
 * process sharing the rootfs could redirect (CVE-2021-30465). On v1 and
 * hybrid hosts a tmpfs goes first, then a directory per hierarchy in it. */
static int mount_cgroup_tree(const struct oci_rootfs_ctx *ctx, const struct oci_cgroup *cg,
                             const struct mount_job *j, oci_error *err) {
  struct oci_cgroup_view v[32];
  bool tmpfs;
  size_t n = oci_cgroup_views(cg, v, OCI_ARRAY_SIZE(v), &tmpfs);
  if (n > OCI_ARRAY_SIZE(v))
    return oci_error_setx(err, E2BIG, "%zu cgroup hierarchies, at most %zu supported", n,
                          OCI_ARRAY_SIZE(v));
  if (!tmpfs)
    return n ? mount_cgroup_view(j, &v[0], j->target_fd, j->dest, ctx->cgroupns, err) : 0;
  unsigned long keep = j->req.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  struct mount_job t = {.root_fd = j->root_fd, .dest = j->dest, .target_fd = j->target_fd};
  t.req = (struct oci_mnt_req){.source = "tmpfs", .source_fd = -1, .fstype = "tmpfs",
                               .flags = keep, .data = "mode=755", .userns_fd = -1};
  if (mount_job_run(&t, err) < 0)
    return oci_error_wrap(err, "tmpfs");
  /* The new tmpfs, walked to again inside the root: it is ours alone (our
   * mount namespace), so the names made in it stay what we made. */
  _cleanup_close_ int top = oci_safe_open(j->root_fd, j->dest, O_PATH | O_DIRECTORY, 0, err);
  if (top < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (mkdirat(top, v[i].name, 0755) < 0 && errno != EEXIST)
      return oci_error_errno(err, "mkdir \"%s\"", v[i].name);
    _cleanup_close_ int sub = openat(top, v[i].name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
      return oci_error_errno(err, "open \"%s\"", v[i].name);
    _cleanup_free_ char *dest = oci_xasprintf("%s/%s", j->dest, v[i].name);
    if (mount_cgroup_view(j, &v[i], sub, dest, ctx->cgroupns, err) < 0 ||
        (v[i].options && link_comounted(top, v[i].options, err) < 0))
      return -1;
  }
  if ((j->req.flags & MS_RDONLY) && oci_mnt_setflags(top, MS_RDONLY | keep, 0, false, err) < 0)
    return oci_error_wrap(err, "tmpfs read-only");
  return 0;
}

static int mount_cgroup(const struct oci_rootfs_ctx *ctx, struct mount_job *j,
                        const struct oci_mount *m, oci_error *err) {
  if (ctx->cgroup != NULL)
    return mount_cgroup_tree(ctx, ctx->cgroup, j, err);
  if (!ctx->cgroupns) {
    /* No cgroup of its own (rootless, none delegated): the container is in
     * the runtime's cgroups, so those are what it is shown, bound as its
     * own would be (runc does the same; `spec --rootless` makes no cgroup
     * namespace). A fresh cgroup2 mount would show the host's whole tree. */
    struct oci_cgroup *cur = NULL;
    oci_error local = {0};
    int r = oci_cgroup_current(&cur, &local);
    if (r == 0)
      r = mount_cgroup_tree(ctx, cur, j, &local);
    oci_cgroup_free(cur);
    if (r < 0)
      oci_warn("mount \"%s\": no cgroup namespace and no cgroup of its own: %s; left incomplete",
               m->destination, local.msg);
    return 0;
  }
  j->req.fstype = "cgroup2";
  j->req.source = "cgroup2";
  oci_error local = {0};
  if (mount_job_run(j, &local) < 0)
    oci_warn("mount \"%s\" (type cgroup2): %s; left empty", m->destination, local.msg);
  return 0;
}

/* In a user namespace without its own network namespace the kernel refuses
 * a new sysfs; the host's, bound recursively, is what runc gives too. */
static int mount_sysfs_fallback(struct mount_job *j, oci_error *err) {
  _cleanup_close_ int sys = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sys < 0)
    return oci_error_errno(err, "open /sys");
  j->req.fstype = NULL;
  j->req.source = "/sys";
  j->req.source_fd = sys;
  j->req.recursive = true;
  j->req.data = NULL;
  return mount_job_run(j, err);
}

/* The mount's own mappings, else (spec) the container's user namespace,
 * which this process is already in. */
static int idmap_userns(const struct oci_rootfs_ctx *ctx, const struct oci_mount *m,
                        oci_error *err) {
  if (m->n_uid_mappings > 0 && m->n_gid_mappings > 0)
    return oci_mnt_userns_fd(m, err);
  if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
    return oci_error_setx(err, EINVAL, "idmap: uidMappings and gidMappings go together");
  if (!ctx->userns)
    return oci_error_setx(err, EINVAL, "idmap: no uidMappings/gidMappings and no user namespace");
  int fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open /proc/self/ns/user");
  return fd;
}

static int check_pseudo_fs(int fd, const char *path, oci_error *err);

/* A target below /proc or /sys: a procfs/sysfs file, or under /sys the
 * tmpfs a host's cgroup v1 tree sits on (rootless containers bind the
 * host's /sys), but never a file of the rootfs itself. */
static int check_below_pseudo_fs(int root_fd, int target, const char *dest, oci_error *err) {
  struct statfs sfs;
  struct stat t, r;
  if (fstatfs(target, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC && fstat(target, &t) == 0 &&
      fstat(root_fd, &r) == 0 && t.st_dev != r.st_dev) {
    while (*dest == '/')
      dest++;
    if (strncmp(dest, "sys/", 4) == 0)
      return 0;
  }
  return check_pseudo_fs(target, dest, err);
}

/* "/proc/x" or "/sys/x", not "/proc" or "/sys" themselves. */
static bool below_proc_or_sys(const char *dest) {
  while (*dest == '/')
    dest++;
  const char *rest = strncmp(dest, "proc/", 5) == 0 ? dest + 5
                     : strncmp(dest, "sys/", 4) == 0 ? dest + 4 : NULL;
  while (rest && *rest == '/')
    rest++;
  return rest && *rest != '\0';
}

static bool has_mode_option(const char *data) {
  for (const char *p = data; p != NULL; p = strchr(p, ',')) {
    if (*p == ',')
      p++;
    if (strncmp(p, "mode=", 5) == 0)
      return true;
  }
  return false;
}

/* A tmpfs without mode= takes the mode of the directory it covers, as with
 * runc, instead of tmpfs's 1777: a 0700 directory stays private. The
 * directory is looked up inside the root like any mount target; a missing
 * one keeps the default. NULL: data stays as it is. */
static char *tmpfs_data_with_dir_mode(int root_fd, const char *dest, const char *data) {
  if (has_mode_option(data))
    return NULL;
  oci_error ignored;
  _cleanup_close_ int fd = oci_safe_open(root_fd, dest, O_PATH, 0, &ignored);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
    return NULL;
  unsigned mode = st.st_mode & 07777;
  return data ? oci_xasprintf("%s,mode=%o", data, mode) : oci_xasprintf("mode=%o", mode);
}

/* A read-only /dev or tmpfs is mounted read-write and made read-only by
 * oci_rootfs_finalize (as runc does): /dev/pts, the device nodes,
 * /dev/console and mounts below need to be created in it first. */
static bool readonly_later(const struct oci_mount *m, const struct oci_mount_opts *o) {
  if (!(o->flags & MS_RDONLY))
    return false;
  if (is_type(m->type, "tmpfs"))
    return true;
  const char *d = m->destination;
  while (d[0] == '/' && d[1] == '/')
    d++;
  return strncmp(d, "/dev", 4) == 0 && strspn(d + 4, "/") == strlen(d + 4);
}

static int mount_one(const struct oci_rootfs_ctx *ctx, int root_fd, const struct oci_mount *m,
                     int tree, oci_error *err) {
  struct oci_mount_opts o;
  if (oci_mount_opts_parse(m->options, m->n_options, &o, err) < 0)
    return -1;
  _cleanup_free_ char *data = o.data;
  _cleanup_free_ char *src_path = NULL;
  _cleanup_close_ int src_fd = -1;
  _cleanup_close_ int userns_fd = -1;
  bool bind = o.bind || is_type(m->type, "bind");
  bool is_dir = true;

  if (bind) {
    if (m->source == NULL)
      return oci_error_setx(err, EINVAL, "bind mount without a source");
    src_path = bind_source_path(ctx, m->source);
    src_fd = tree >= 0 ? fcntl(tree, F_DUPFD_CLOEXEC, 3) : open(src_path, O_PATH | O_CLOEXEC);
    struct stat st;
    if (src_fd < 0 || fstat(src_fd, &st) < 0)
      return oci_error_plain(err, errno, NULL);
    is_dir = S_ISDIR(st.st_mode);
  }
  if (!bind && is_type(m->type, "tmpfs")) {
    char *with_mode = tmpfs_data_with_dir_mode(root_fd, m->destination, data);
    if (with_mode != NULL) {
      free(data);
      data = with_mode;
    }
  }
  /* config.md: given mappings MUST be used, idmap option or not (it only
   * guards against runtimes that would ignore them). */
  if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
    o.idmap = true;
  if (o.idmap) {
    userns_fd = idmap_userns(ctx, m, err);
    if (userns_fd < 0)
      return -1;
  }
  /* proc and sysfs land only on plain directories: no symlink anywhere
   * on the way (the runc /proc mount-target races). */
  bool strict = is_type(m->type, "proc") || is_type(m->type, "sysfs");
  _cleanup_close_ int target = oci_safe_mount_target_ex(root_fd, m->destination, is_dir,
                                                        strict, err);
  if (target < 0 && strict && (err->errnum == ELOOP || err->errnum == ENOTDIR ||
                               err->errnum == EEXIST))
    /* runc's words, which scripts and its tests match. */
    return oci_error_wrap(err, "filesystem \"%s\" must be mounted on ordinary directory",
                          m->type);
  if (target < 0)
    return -1;
  /* Anything mounted below /proc or /sys goes over a file of the procfs or
   * sysfs mounted before it, never over something the image (or another
   * container sharing a volume) put there. */
  if (!strict && below_proc_or_sys(m->destination) &&
      check_below_pseudo_fs(root_fd, target, m->destination, err) < 0)
    return -1;

  struct mount_job j = {
      .req = {.source = bind ? src_path : m->source, .source_fd = src_fd,
              .source_is_tree = bind && tree >= 0,
              .fstype = bind ? NULL : (m->type ? m->type : "none"),
              .recursive = o.recursive,
              .flags = readonly_later(m, &o) ? o.flags & ~MS_RDONLY : o.flags,
              .cleared = o.cleared,
              .rflags = o.rflags, .rcleared = o.rcleared, .data = data,
              .userns_fd = userns_fd, .idmap_recursive = o.ridmap},
      .root_fd = root_fd, .dest = m->destination, .target_fd = target,
      .propagation = o.propagation, .tmpcopyup = o.tmpcopyup};

  if (is_type(m->type, "cgroup") && !bind)
    return await_cgroup(ctx, err) < 0 ? -1 : mount_cgroup(ctx, &j, m, err);
  int ret = mount_job_run(&j, err);
  if (ret < 0 && err->errnum == EPERM && ctx->userns && is_type(m->type, "sysfs"))
    ret = mount_sysfs_fallback(&j, err);
  return ret;
}

int *oci_rootfs_open_bind_trees(const struct oci_config *cfg, const char *bundle) {
  if (!oci_mnt_new_api() || cfg->n_mounts == 0)
    return NULL;
  const struct oci_rootfs_ctx ctx = {.cfg = cfg, .bundle = bundle};
  int *trees = oci_xmalloc0(cfg->n_mounts * sizeof(*trees));
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    struct oci_mount_opts o;
    oci_error ignored;
    trees[i] = -1;
    if (oci_mount_opts_parse(m->options, m->n_options, &o, &ignored) < 0)
      continue;
    bool bind = (o.bind || is_type(m->type, "bind")) && m->source != NULL;
    oci_mount_opts_free(&o);
    if (!bind)
      continue;
    _cleanup_free_ char *src = bind_source_path(&ctx, m->source);
    trees[i] = open_tree(AT_FDCWD, src,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o.recursive ? AT_RECURSIVE : 0));
  }
  return trees;
}

void oci_rootfs_close_bind_trees(int *trees, size_t n) {
  for (size_t i = 0; trees != NULL && i < n; i++)
    if (trees[i] >= 0)
      close(trees[i]);
  free(trees);
}

/* `mount "src" to "dst" (type t): <what went wrong>`. A mount without a
 * type that is not a bind mount goes to the kernel as type "none", which
 * fails with ENODEV: name the missing field, not just "No such device". */
static int wrap_mount_error(const struct oci_mount *m, size_t index, oci_error *err) {
  char where[1024];
  bool bind_option = false;
  for (size_t i = 0; i < m->n_options && !bind_option; i++)
    bind_option = strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0;
  bool bind = m->type == NULL || is_type(m->type, "bind") || bind_option;
  snprintf(where, sizeof(where), "mount \"%s\" to \"%s\"%s%s%s",
           m->source ? m->source : "none", m->destination, bind ? "" : " (type ",
           bind ? "" : m->type, bind ? "" : ")");
  if (m->type == NULL && !bind_option && err->errnum == ENODEV)
    return oci_error_wrap(err, "mounts[%zu].type: missing, and it is not a bind mount: %s", index,
                          where);
  return oci_error_wrap(err, "%s", where);
}

/* ---- propagation, rootfs bind, pivot ---------------------------------- */

static int parse_root_propagation(const struct oci_config *cfg, unsigned long *out,
                                  oci_error *err) {
  static const struct { const char *name; unsigned long flags; } props[] = {
      {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
      {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC}};
  const char *want = cfg->linux_ ? cfg->linux_->rootfs_propagation : NULL;
  *out = 0;
  if (want == NULL || *want == '\0')
    return 0;
  for (size_t i = 0; i < OCI_ARRAY_SIZE(props); i++)
    if (strcmp(props[i].name, want) == 0) {
      *out = props[i].flags;
      return 0;
    }
  return oci_error_setx(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"", want);
}

static int make_mount_private(const struct oci_mountinfo_entry *mounts, size_t n,
                              const char *path, oci_error *err) {
  char real[4096];
  if (realpath(path, real) == NULL)
    return oci_error_errno(err, "realpath \"%s\"", path);
  const struct oci_mountinfo_entry *fs = oci_mountinfo_mountpoint(mounts, n, real);
  if (fs == NULL)
    return oci_error_set(err, ENOENT, "no mount holds \"%s\"", real);
  if (!fs->shared)
    return 0;
  if (mount(NULL, fs->target, NULL, MS_PRIVATE, NULL) < 0)
    return oci_error_errno(err, "make \"%s\" private", fs->target);
  return 0;
}

/* pivot_root refuses a new root whose parent mount is shared, and the
 * rootfs's bind, made in a shared mount, would join its peer group: the
 * host would see it and every mount the container makes on it. A shared
 * "/" (rshared) makes every mount shared; a non-recursive value changes
 * "/" alone and leaves the mounts below it as they were, shared ones too
 * (systemd's /tmp). Make private, in our namespace, the mount holding the
 * rootfs's parent directory and, when the rootfs is a mount of its own (an
 * engine's overlay snapshot), that one too: it becomes the parent of the
 * rootfs's bind. Mounts that are not shared are left as they are. */
static int make_rootfs_mounts_private(const char *rootfs, oci_error *err) {
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ struct oci_mountinfo_entry *mounts = NULL;
  size_t n = 0;
  if (oci_mountinfo_read(&text, &mounts, &n, err) < 0)
    return -1;
  _cleanup_free_ char *parent = oci_xasprintf("%s/..", rootfs);
  if (make_mount_private(mounts, n, parent, err) < 0)
    return -1;
  return make_mount_private(mounts, n, rootfs, err);
}

/* Returns an O_PATH fd of the rootfs, now a mount point of its own. */
static int prepare_root(const struct oci_rootfs_ctx *ctx, unsigned long prop, oci_error *err) {
  if (ctx->host_mount_ns) {
    /* The host's mount namespace: the runtime made the bind, and the
     * host's propagation is not ours to change. */
    int fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? oci_error_errno(err, "open rootfs \"%s\"", ctx->rootfs) : fd;
  }
  /* Slave by default: host mounts still appear, ours never reach the host. */
  unsigned long flags = prop ? prop : MS_SLAVE | MS_REC;
  /* Unbindable mounts cannot be bound, the rootfs included: private until
   * the pivot, then the container's "/" is made unbindable. */
  if (flags & MS_UNBINDABLE)
    flags = MS_PRIVATE | (flags & MS_REC);
  if (mount(NULL, "/", NULL, flags, NULL) < 0)
    return oci_error_errno(err, "set propagation of \"/\"");
  /* After the default rslave nothing is shared: skip reading mountinfo. */
  if (flags != (MS_SLAVE | MS_REC) && flags != (MS_PRIVATE | MS_REC) &&
      make_rootfs_mounts_private(ctx->rootfs, err) < 0)
    return -1;
  if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return oci_error_errno(err, "bind rootfs \"%s\"", ctx->rootfs);
  int fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open rootfs \"%s\"", ctx->rootfs);
  if (flags & MS_SHARED) {
    /* pivot_root(".", ".") also refuses a shared new root; "/" gets the
     * wanted propagation back right after the pivot. */
    char p[32];
    if (mount(NULL, oci_fd_path(fd, p), NULL, MS_PRIVATE, NULL) < 0) {
      close(fd);
      return oci_error_errno(err, "make rootfs private");
    }
  }
  return fd;
}

static int pivot(int root_fd, oci_error *err) {
  if (fchdir(root_fd) < 0)
    return oci_error_errno(err, "chdir to rootfs");
  /* new root and put_old both ".": the old root ends up stacked on "."
   * and is detached right away, no directory needed in the image. */
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return oci_error_errno(err, "pivot_root");
  /* Slave first so the detach does not propagate to the host. */
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return oci_error_errno(err, "make old root rslave");
  if (umount2(".", MNT_DETACH) < 0)
    return oci_error_errno(err, "unmount old root");
  if (chdir("/") < 0)
    return oci_error_errno(err, "chdir /");
  return 0;
}

static bool path_is_below(const char *path, const char *dir) {
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* After chroot the host's /proc and /sys stay in our mount namespace,
 * unreachable but counted: with a fully visible procfs there, the kernel
 * lets a nested user namespace mount a fresh, unmasked proc. Detach them
 * (our namespace's copies only), or cover one with a tmpfs where that is
 * refused, as runc's no-pivot does. */
static int hide_host_pseudo_fs(const char *rootfs, oci_error *err) {
  char real[4096];
  if (realpath(rootfs, real) == NULL)
    return oci_error_errno(err, "realpath \"%s\"", rootfs);
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ struct oci_mountinfo_entry *mounts = NULL;
  size_t n = 0;
  if (oci_mountinfo_read(&text, &mounts, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const struct oci_mountinfo_entry *m = &mounts[i];
    if ((!is_type(m->fstype, "proc") && !is_type(m->fstype, "sysfs")) ||
        path_is_below(m->target, real))
      continue;
    if (umount2(m->target, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT)
      continue; /* EINVAL, ENOENT: gone with a parent detached before */
    if (mount("tmpfs", m->target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=0") < 0)
      return oci_error_errno(err, "without pivot_root: hide the host's \"%s\"", m->target);
  }
  return 0;
}

/* In the host's mount namespace neither pivot_root nor a move of the
 * rootfs onto "/" is ours to do: a chroot into it (as runc does there). */
static int enter_root(int root_fd, oci_error *err) {
  if (fchdir(root_fd) < 0)
    return oci_error_errno(err, "chdir to rootfs");
  if (chroot(".") < 0)
    return oci_error_errno(err, "chroot");
  if (chdir("/") < 0)
    return oci_error_errno(err, "chdir /");
  return 0;
}

static int move_and_chroot(const char *rootfs, int root_fd, oci_error *err) {
  if (hide_host_pseudo_fs(rootfs, err) < 0)
    return -1;
  if (fchdir(root_fd) < 0)
    return oci_error_errno(err, "chdir to rootfs");
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
    return oci_error_errno(err, "move rootfs to /");
  if (chroot(".") < 0)
    return oci_error_errno(err, "chroot");
  if (chdir("/") < 0)
    return oci_error_errno(err, "chdir /");
  return 0;
}

int oci_rootfs_setup(const struct oci_rootfs_ctx *ctx, oci_error *err) {
  const struct oci_config *cfg = ctx->cfg;
  unsigned long prop;
  if (parse_root_propagation(cfg, &prop, err) < 0)
    return -1;
  _cleanup_close_ int root_fd = prepare_root(ctx, prop, err);
  if (root_fd < 0)
    return -1;
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (mount_one(ctx, root_fd, &cfg->mounts[i], ctx->bind_trees ? ctx->bind_trees[i] : -1,
                  err) < 0)
      return wrap_mount_error(&cfg->mounts[i], i, err);
  if (await_cgroup(ctx, err) < 0 || oci_devices_setup(ctx, root_fd, err) < 0)
    return -1;
  if (ctx->before_pivot != NULL) {
    /* createRuntime/createContainer hooks: the spec runs them here, with
     * every mount in place and the cwd at the rootfs. */
    if (fchdir(root_fd) < 0)
      return oci_error_errno(err, "chdir to rootfs");
    if (ctx->before_pivot(ctx->callback_data, err) < 0)
      return -1;
  }
  if (ctx->host_mount_ns)
    return enter_root(root_fd, err);
  return ctx->no_pivot ? move_and_chroot(ctx->rootfs, root_fd, err) : pivot(root_fd, err);
}

/* ---- finalize: readonly and masked paths, read-only root --------------- */

/* Paths under /proc and /sys must still be on procfs/sysfs: something that
 * only looks like /proc (a bind, a tmpfs, a symlink race) must not get a
 * mount put over it in our name. */
static int check_pseudo_fs(int fd, const char *path, oci_error *err) {
  while (*path == '/')
    path++;
  bool proc = strncmp(path, "proc", 4) == 0 && (path[4] == '/' || path[4] == '\0');
  bool sys = strncmp(path, "sys", 3) == 0 && (path[3] == '/' || path[3] == '\0');
  if (!proc && !sys)
    return 0;
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0)
    return oci_error_errno(err, "statfs \"/%s\"", path);
  if (proc && sfs.f_type == PROC_SUPER_MAGIC)
    return 0;
  if (sys && (sfs.f_type == SYSFS_MAGIC || sfs.f_type == CGROUP_SUPER_MAGIC ||
              sfs.f_type == CGROUP2_SUPER_MAGIC))
    return 0;
  return oci_error_setx(err, EXDEV, "\"/%s\" is not on %s", path, proc ? "procfs" : "sysfs");
}

/* Open a readonly/masked path; 0 with *fd = -1 when it does not exist. */
static int open_listed_path(int root_fd, const char *path, int *fd, oci_error *err) {
  oci_error local = {0};
  *fd = oci_safe_open(root_fd, path, O_PATH, 0, &local);
  if (*fd < 0) {
    if (local.errnum == ENOENT || local.errnum == ENOTDIR)
      return 0;
    *err = local;
    return -1;
  }
  if (check_pseudo_fs(*fd, path, err) < 0) {
    close(*fd);
    *fd = -1;
    return -1;
  }
  return 0;
}

static int make_readonly(int root_fd, const char *path, oci_error *err) {
  _cleanup_close_ int fd = -1;
  if (open_listed_path(root_fd, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0; /* missing paths are fine: nothing to protect */
  if (oci_mnt_new_api()) {
    /* Read-only on the whole subtree, set before anyone can see it. */
    struct oci_mnt_req r = {.source_fd = fd, .recursive = true, .rflags = MS_RDONLY,
                            .userns_fd = -1};
    _cleanup_close_ int m = oci_mnt_create(&r, err);
    if (m < 0)
      return -1;
    return oci_mnt_attach(m, fd, err);
  }
  if (oci_mnt_bind_fd(fd, fd, true, err) < 0)
    return -1;
  _cleanup_close_ int top = oci_safe_open(root_fd, path, O_PATH, 0, err);
  if (top < 0)
    return -1;
  return oci_mnt_setflags(top, MS_RDONLY, 0, false, err);
}

/* /dev/null of the container, checked to be the real 1:3 char device: a
 * symlink or bind there must not turn masking into exposing (runc 2025). */
static int open_dev_null(int root_fd, oci_error *err) {
  _cleanup_close_ int fd = oci_safe_open(root_fd, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return oci_error_errno(err, "stat /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    return oci_error_set(err, EPERM, "/dev/null is not the null device (1:3)");
  return OCI_STEAL_FD(fd);
}

static int mask_path(int root_fd, const char *path, int *null_fd, oci_error *err) {
  _cleanup_close_ int fd = -1;
  if (open_listed_path(root_fd, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0; /* missing paths are fine: nothing to protect */
  struct stat st;
  if (fstat(fd, &st) < 0)
    return oci_error_errno(err, "stat");
  if (S_ISDIR(st.st_mode)) {
    struct mount_job j = {
        .req = {.source = "tmpfs", .source_fd = -1, .fstype = "tmpfs", .flags = MS_RDONLY,
                .userns_fd = -1},
        .root_fd = root_fd, .dest = path, .target_fd = fd};
    return mount_job_run(&j, err);
  }
  if (*null_fd < 0 && (*null_fd = open_dev_null(root_fd, err)) < 0)
    return -1;
  return oci_mnt_bind_fd(*null_fd, fd, false, err);
}

/* The read-only mounts that readonly_later() left read-write. */
static int make_mounts_readonly(const struct oci_config *cfg, int root_fd, oci_error *err) {
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    struct oci_mount_opts o;
    if (oci_mount_opts_parse(m->options, m->n_options, &o, err) < 0)
      return -1;
    bool later = readonly_later(m, &o);
    oci_mount_opts_free(&o);
    if (!later)
      continue;
    _cleanup_close_ int fd = oci_safe_open(root_fd, m->destination, O_PATH, 0, err);
    if (fd < 0 || oci_mnt_setflags(fd, MS_RDONLY, 0, false, err) < 0)
      return wrap_mount_error(m, i, err);
  }
  return 0;
}

int oci_rootfs_finalize(const struct oci_rootfs_ctx *ctx, oci_error *err) {
  const struct oci_linux *lx = ctx->cfg->linux_;
  _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return oci_error_errno(err, "open /");
  if (make_mounts_readonly(ctx->cfg, root_fd, err) < 0)
    return -1;
  for (size_t i = 0; lx && i < lx->n_readonly_paths; i++)
    if (make_readonly(root_fd, lx->readonly_paths[i], err) < 0)
      return oci_error_wrap(err, "readonlyPaths \"%s\"", lx->readonly_paths[i]);
  _cleanup_close_ int null_fd = -1;
  for (size_t i = 0; lx && i < lx->n_masked_paths; i++)
    if (mask_path(root_fd, lx->masked_paths[i], &null_fd, err) < 0)
      return oci_error_wrap(err, "maskedPaths \"%s\"", lx->masked_paths[i]);
  if (ctx->cfg->root && ctx->cfg->root->readonly &&
      oci_mnt_setflags(root_fd, MS_RDONLY, 0, false, err) < 0)
    return oci_error_wrap(err, "make root read-only");
  /* The container's "/" gets its propagation last: the binds above cannot
   * be made from unbindable mounts, and on a shared "/" they would be
   * mounts the container's peers see. */
  unsigned long prop;
  if (parse_root_propagation(ctx->cfg, &prop, err) < 0)
    return -1;
  if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
    return oci_error_errno(err, "linux.rootfsPropagation: set propagation of the container's \"/\"");
  return 0;
}
