/* ocirun — mount primitives: the fd-based mount API (open_tree, fsopen,
 * fsmount, mount_setattr, move_mount) with a mount(2) fallback.
 *
 * Why fds: a mount is built detached, its flags set while nobody can see
 * it, and attached with move_mount onto an O_PATH fd that safepath.c
 * resolved inside the rootfs. No path is looked up twice, so no symlink can
 * be swapped in between (CVE-2021-30465). The fallback mounts onto
 * /proc/self/fd/N, which pins the target the same way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocirun/safepath.h"
#include "ocirun/utils.h"
#include "rootfs-internal.h"

static bool force_legacy;

void oci_mnt_force_legacy(bool on) {
  force_legacy = on;
}

bool oci_mnt_new_api(void) {
  static int have = -1;
  if (force_legacy)
    return false;
  if (have < 0) {
    /* mount_setattr is the newest call we need (5.12); probing it with
     * nothing to change costs nothing (the kernel answers 0 at once).
     * ENOSYS, or EPERM from a seccomp filter around us, means no. */
    struct mount_attr attr = {0};
    have = !(mount_setattr(-1, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 &&
             (errno == ENOSYS || errno == EPERM));
  }
  return have;
}

int oci_error_plain(oci_error *err, int e, const char *kernel_msg) {
  if (kernel_msg != NULL && *kernel_msg)
    oci_error_set(err, 0, "%s (%s)", strerror(e), kernel_msg);
  else
    oci_error_set(err, 0, "%s", strerror(e));
  err->errnum = e;
  return -1;
}

/* The fs context keeps the kernel's explanation ("e tmpfs: Bad value for
 * 'mode'"); it is worth more than an EINVAL alone. */
static void read_fs_msg(int fs, char *buf, size_t size) {
  buf[0] = '\0';
  ssize_t n = read(fs, buf, size - 1);
  if (n <= 0)
    return;
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  if (n > 2 && buf[1] == ' ')
    memmove(buf, buf + 2, strlen(buf + 2) + 1);
}

/* Feed "a=b,c,d=\"x,y\"" to fsconfig, key by key. */
static int fs_set_data(int fs, const char *data, oci_error *err) {
  _cleanup_free_ char *copy = oci_xstrdup(data);
  char *p = copy;
  while (*p) {
    char *start = p;
    bool quoted = false;
    for (; *p && (quoted || *p != ','); p++)
      if (*p == '"')
        quoted = !quoted;
    if (*p)
      *p++ = '\0';
    if (*start == '\0')
      continue;
    char *eq = strchr(start, '=');
    int r;
    if (eq) {
      *eq = '\0';
      r = fsconfig(fs, FSCONFIG_SET_STRING, start, eq + 1, 0);
    } else {
      r = fsconfig(fs, FSCONFIG_SET_FLAG, start, NULL, 0);
    }
    if (r < 0) {
      int e = errno;
      char kmsg[256];
      read_fs_msg(fs, kmsg, sizeof(kmsg));
      oci_error_plain(err, e, kmsg);
      return oci_error_wrap(err, "option \"%s\"", start);
    }
  }
  return 0;
}

/* Superblock flags travel as fsconfig flags, not mount attributes. */
static int fs_set_sb_flags(int fs, unsigned long flags, oci_error *err) {
  static const struct { unsigned long ms; const char *key; } sb[] = {
      {MS_RDONLY, "ro"}, {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
      {MS_LAZYTIME, "lazytime"}};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(sb); i++)
    if ((flags & sb[i].ms) && fsconfig(fs, FSCONFIG_SET_FLAG, sb[i].key, NULL, 0) < 0)
      return oci_error_errno(err, "option \"%s\"", sb[i].key);
  return 0;
}

static int create_fs_mount(const struct oci_mnt_req *r, oci_error *err) {
  _cleanup_close_ int fs = fsopen(r->fstype, FSOPEN_CLOEXEC);
  if (fs < 0)
    return oci_error_plain(err, errno, NULL);
  if (r->source && fsconfig(fs, FSCONFIG_SET_STRING, "source", r->source, 0) < 0)
    return oci_error_errno(err, "option \"source\"");
  if (r->data && fs_set_data(fs, r->data, err) < 0)
    return -1;
  if (fs_set_sb_flags(fs, r->flags, err) < 0)
    return -1;
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int e = errno;
    char kmsg[256];
    read_fs_msg(fs, kmsg, sizeof(kmsg));
    return oci_error_plain(err, e, kmsg);
  }
  int m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (m < 0)
    return oci_error_plain(err, errno, NULL);
  return m;
}

static int setattr(int fd, bool recursive, uint64_t set, uint64_t clr, oci_error *err) {
  if (set == 0 && clr == 0)
    return 0;
  struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
  if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                    sizeof(attr)) < 0)
    return oci_error_errno(err, "mount_setattr");
  return 0;
}

int oci_mnt_create(const struct oci_mnt_req *r, oci_error *err) {
  _cleanup_close_ int m = -1;
  if (r->fstype == NULL && r->source_is_tree) {
    m = fcntl(r->source_fd, F_DUPFD_CLOEXEC, 3);
    if (m < 0)
      return oci_error_plain(err, errno, NULL);
  } else if (r->fstype == NULL) {
    m = open_tree(r->source_fd, "",
                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                      (r->recursive ? AT_RECURSIVE : 0));
    if (m < 0)
      return oci_error_plain(err, errno, NULL);
  } else {
    m = create_fs_mount(r, err);
    if (m < 0)
      return -1;
  }
  /* Idmap first: it is only allowed on a mount nobody has seen yet. */
  if (r->userns_fd >= 0) {
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)r->userns_fd};
    if (mount_setattr(m, "", AT_EMPTY_PATH | (r->idmap_recursive ? AT_RECURSIVE : 0), &attr,
                      sizeof(attr)) < 0)
      return oci_error_errno(err, "idmap");
  }
  if (setattr(m, true, oci_ms_to_mount_attr(r->rflags),
              oci_ms_to_mount_attr_clr(r->rflags, r->rcleared), err) < 0)
    return -1;
  if (setattr(m, false, oci_ms_to_mount_attr(r->flags),
              oci_ms_to_mount_attr_clr(r->flags, r->cleared), err) < 0)
    return -1;
  return OCI_STEAL_FD(m);
}

int oci_mnt_attach(int mnt_fd, int target_fd, oci_error *err) {
  if (move_mount(mnt_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return oci_error_errno(err, "move_mount");
  return 0;
}

int oci_mnt_propagation(int mnt_fd, unsigned long propagation, oci_error *err) {
  if (propagation == 0)
    return 0;
  if (oci_mnt_new_api()) {
    struct mount_attr attr = {.propagation = propagation & ~MS_REC};
    if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH | ((propagation & MS_REC) ? AT_RECURSIVE : 0),
                      &attr, sizeof(attr)) < 0)
      return oci_error_errno(err, "set propagation");
    return 0;
  }
  char p[32];
  if (mount(NULL, oci_fd_path(mnt_fd, p), NULL, propagation, NULL) < 0)
    return oci_error_errno(err, "set propagation");
  return 0;
}

/* statvfs flags share the MS_* values for the per-mount bits, but for
 * nosymfollow. */
#define PER_MOUNT_MS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | \
                      MS_NODIRATIME | MS_RELATIME)

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000 /* linux/statfs.h; glibc names it from 2.37 */
#endif

static unsigned long statvfs_to_ms(unsigned long f_flag) {
  return (f_flag & PER_MOUNT_MS) | ((f_flag & ST_NOSYMFOLLOW) ? MS_NOSYMFOLLOW : 0);
}

int oci_mnt_setflags(int fd, unsigned long set, unsigned long clr, bool recursive,
                     oci_error *err) {
  if (oci_mnt_new_api())
    return setattr(fd, recursive, oci_ms_to_mount_attr(set),
                   oci_ms_to_mount_attr_clr(set, clr), err);
  /* A bind remount replaces every per-mount flag: start from the current
   * ones, or a locked nosuid/nodev in a user namespace makes it EPERM. */
  struct statvfs sv;
  if (fstatvfs(fd, &sv) < 0)
    return oci_error_errno(err, "statvfs");
  unsigned long flags = (statvfs_to_ms(sv.f_flag) | set) & ~clr;
  char p[32];
  if (mount(NULL, oci_fd_path(fd, p), NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
    return oci_error_errno(err, "remount");
  return 0;
}

int oci_mnt_bind_fd(int src_fd, int target_fd, bool recursive, oci_error *err) {
  if (oci_mnt_new_api()) {
    _cleanup_close_ int m = open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                      AT_EMPTY_PATH |
                                                      (recursive ? AT_RECURSIVE : 0));
    if (m < 0)
      return oci_error_errno(err, "open_tree");
    return oci_mnt_attach(m, target_fd, err);
  }
  char s[32], t[32];
  if (mount(oci_fd_path(src_fd, s), oci_fd_path(target_fd, t), NULL,
            MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
    return oci_error_errno(err, "bind");
  return 0;
}

int oci_mnt_legacy(const struct oci_mnt_req *r, int target_fd, oci_error *err) {
  if (r->userns_fd >= 0 || r->rflags || r->rcleared) {
    oci_error_set(err, EOPNOTSUPP, "idmap and recursive attributes need mount_setattr");
    return -1;
  }
  char t[32], s[32];
  int ret;
  if (r->flags & MS_REMOUNT) {
    /* "remount": change the mount already at the target (which the
     * in-root resolution walked into), do not stack a new one. */
    unsigned long flags = r->flags | (r->fstype == NULL ? MS_BIND : 0);
    ret = mount(r->source, oci_fd_path(target_fd, t), r->fstype, flags & ~MS_REC, r->data);
  } else if (r->fstype == NULL) {
    const char *src = r->source_fd >= 0 ? oci_fd_path(r->source_fd, s) : r->source;
    ret = mount(src, oci_fd_path(target_fd, t), NULL, MS_BIND | (r->recursive ? MS_REC : 0),
                NULL);
  } else {
    unsigned long flags = r->flags & ~(MS_BIND | MS_REC);
    ret = mount(r->source ? r->source : "none", oci_fd_path(target_fd, t), r->fstype, flags,
                r->data);
  }
  if (ret < 0)
    return oci_error_plain(err, errno, NULL);
  return 0;
}

/* ---- idmapped mounts ----------------------------------------------- */

static int write_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                     oci_error *err) {
  _cleanup_free_ char *text = oci_xstrdup("");
  for (size_t i = 0; i < n; i++) {
    char *next = oci_xasprintf("%s%u %u %u\n", text, m[i].container_id, m[i].host_id,
                               m[i].size);
    free(text);
    text = next;
  }
  _cleanup_free_ char *path = oci_xasprintf("/proc/%d/%s", (int)pid, file);
  return oci_write_file(path, text, strlen(text), err);
}

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* The pid of the process behind pidfd as the /proc we see numbers it. The
 * container's init builds its mounts in a new pid namespace while /proc is
 * still the host's: the pid clone returned would name someone else there. */
static pid_t proc_pid_of(int pidfd, pid_t fallback) {
  char path[64], line[128];
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  long pid;
  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "Pid: %ld", &pid) == 1 && pid > 0)
      return (pid_t)pid;
  return fallback;
}

int oci_mnt_userns_fd(const struct oci_mount *m, oci_error *err) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return oci_error_errno(err, "pipe");
  /* A child in a new user namespace that only waits: its ns is what
   * mount_setattr wants; once we hold an fd of it the child can go. */
  int pidfd = -1;
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_PIDFD | SIGCHLD, NULL, &pidfd,
                             NULL, NULL);
  if (pid == 0) {
    char c;
    close(pipefd[1]);
    while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(pipefd[0]);
  if (pid < 0) {
    close(pipefd[1]);
    return oci_error_errno(err, "clone a user namespace for idmap");
  }
  int fd = -1;
  pid_t seen = proc_pid_of(pidfd, pid);
  close(pidfd);
  if (write_map(seen, "uid_map", m->uid_mappings, m->n_uid_mappings, err) == 0 &&
      write_map(seen, "gid_map", m->gid_mappings, m->n_gid_mappings, err) == 0) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)seen);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      oci_error_errno(err, "open %s", path);
  }
  close(pipefd[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return fd;
}

/* ---- tmpcopyup --------------------------------------------------------- */

static int copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st,
                     oci_error *err) {
  _cleanup_close_ int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return oci_error_errno(err, "open \"%s\"", name);
  _cleanup_close_ int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                                      O_CLOEXEC, st->st_mode & 07777);
  if (out < 0)
    return oci_error_errno(err, "create \"%s\"", name);
  char buf[65536];
  ssize_t n;
  while ((n = oci_read_all(in, buf, sizeof(buf))) > 0)
    if (oci_write_all(out, buf, (size_t)n) < 0)
      return oci_error_errno(err, "write \"%s\"", name);
  if (n < 0)
    return oci_error_errno(err, "read \"%s\"", name);
  return 0;
}

/* An image's tree can be as deep as it likes: each level holds three fds
 * and a stack frame, so stop with an error before either runs out. */
#define COPY_MAX_DEPTH 256

static int copy_tree(int src_dirfd, int dst_dirfd, int depth, oci_error *err);

/* Out of copy_entry, so the PATH_MAX buffer is not on every level's frame. */
static int copy_symlink(int src_dir, int dst_dir, const char *name, oci_error *err) {
  char target[PATH_MAX];
  ssize_t n = readlinkat(src_dir, name, target, sizeof(target) - 1);
  if (n < 0)
    return oci_error_errno(err, "readlink \"%s\"", name);
  target[n] = '\0';
  if (symlinkat(target, dst_dir, name) < 0)
    return oci_error_errno(err, "symlink \"%s\"", name);
  return 0;
}

static int copy_entry(int src_dir, int dst_dir, const char *name, int depth, oci_error *err) {
  struct stat st;
  if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return oci_error_errno(err, "stat \"%s\"", name);
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(dst_dir, name, 0700) < 0)
      return oci_error_errno(err, "mkdir \"%s\"", name);
    _cleanup_close_ int s = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int d = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0 || d < 0)
      return oci_error_errno(err, "open \"%s\"", name);
    if (depth >= COPY_MAX_DEPTH)
      return oci_error_setx(err, ELOOP, "\"%s\": more than %d levels of directories", name,
                            COPY_MAX_DEPTH);
    if (copy_tree(s, d, depth + 1, err) < 0)
      return oci_error_wrap(err, "%s", name);
  } else if (S_ISREG(st.st_mode)) {
    if (copy_file(src_dir, dst_dir, name, &st, err) < 0)
      return -1;
  } else if (S_ISLNK(st.st_mode)) {
    if (copy_symlink(src_dir, dst_dir, name, err) < 0)
      return -1;
  } else if (mknodat(dst_dir, name, st.st_mode, st.st_rdev) < 0) {
    return oci_error_errno(err, "mknod \"%s\"", name);
  }
  /* Owner before mode: chown clears set-id bits. */
  if (fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return oci_error_errno(err, "chown \"%s\"", name);
  if (!S_ISLNK(st.st_mode) && fchmodat(dst_dir, name, st.st_mode & 07777, 0) < 0)
    return oci_error_errno(err, "chmod \"%s\"", name);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW); /* best effort */
  return 0;
}

int oci_copy_tree(int src_dirfd, int dst_dirfd, oci_error *err) {
  return copy_tree(src_dirfd, dst_dirfd, 0, err);
}

static int copy_tree(int src_dirfd, int dst_dirfd, int depth, oci_error *err) {
  int fd = openat(src_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open the directory to copy");
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    close(fd);
    return oci_error_errno(err, "opendir");
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    ret = copy_entry(src_dirfd, dst_dirfd, de->d_name, depth, err);
  }
  closedir(dir);
  return ret;
}
