/* ocirun — resolve paths inside a root directory, never outside it.
 *
 * A container image is untrusted: any component of a mount destination may
 * be a symlink to "/etc" or "../../..", and a process sharing the rootfs may
 * swap components while we work (CVE-2021-30465). So every path under the
 * rootfs is opened relative to an fd of the root, with the kernel's
 * openat2(RESOLVE_IN_ROOT) when it exists (symlinks and ".." are clamped to
 * the root) and a hand-written component walk with the same rules when it
 * does not. Callers then act on the returned fd, not on the path again. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ocirun/safepath.h"
#include "ocirun/utils.h"
#include "rootfs-internal.h"

#define MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */
#define MAX_DEPTH 256

static bool force_fallback;
static bool no_openat2; /* learned once: the kernel said ENOSYS */

void oci_safepath_force_fallback(bool on) {
  force_fallback = on;
}

const char *oci_fd_path(int fd, char buf[static 32]) {
  snprintf(buf, 32, "/proc/self/fd/%d", fd);
  return buf;
}

/* openat2 in the root; -1 with errno ENOSYS when the kernel lacks it. */
static int open_in_root_kernel(int root_fd, const char *path, int flags, mode_t mode,
                               bool no_symlinks) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
                 (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
  };
  /* EAGAIN: a rename raced with ".." resolution; the kernel asks to retry. */
  for (int i = 0; i < 64; i++) {
    int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN)
      return fd;
  }
  return -1;
}

/* ---- the fallback walk ------------------------------------------------ */

struct walk {
  int stack[MAX_DEPTH]; /* stack[0] is the root; ".." pops, never below it */
  int depth;
};

static void walk_pop_to(struct walk *w, int depth) {
  while (w->depth > depth)
    close(w->stack[--w->depth]);
}

/* Replace `*rest` by "<target>/<after>" so the link's components are walked
 * next, in the directory that held the link (or the root when absolute). */
static int walk_expand_link(struct walk *w, int dirfd, const char *name, char **rest,
                            const char *after) {
  char target[PATH_MAX];
  ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
  if (n < 0)
    return -1;
  target[n] = '\0';
  if (target[0] == '/')
    walk_pop_to(w, 1);
  char *next = oci_xasprintf("%s/%s", target, after);
  free(*rest);
  *rest = next;
  return 0;
}

/* Walk `path` inside w->stack[0] up to its last component. On success the
 * top of the stack is the directory holding the result and `name` its last
 * component ("." when the path names that directory itself). The last
 * component may not exist yet (for O_CREAT). Returns -1 with errno. */
static int walk_path(struct walk *w, const char *path, bool follow_last, bool no_symlinks,
                     char name[NAME_MAX + 1]) {
  _cleanup_free_ char *rest = oci_xstrdup(path);
  int links = 0;
  strcpy(name, ".");
  for (;;) {
    char *p = rest;
    while (*p == '/')
      p++;
    if (*p == '\0')
      return 0; /* ended on a directory ("/", "a/..", "a/") */
    size_t len = strcspn(p, "/");
    if (len > NAME_MAX)
      return errno = ENAMETOOLONG, -1;
    char comp[NAME_MAX + 1];
    memcpy(comp, p, len);
    comp[len] = '\0';
    const char *after = p + len;
    while (*after == '/')
      after++;
    bool last = *after == '\0';
    int top = w->stack[w->depth - 1];

    strcpy(name, ".");
    if (strcmp(comp, "..") == 0) {
      if (w->depth > 1)
        walk_pop_to(w, w->depth - 1);
    } else if (strcmp(comp, ".") != 0) {
      struct stat st;
      if (fstatat(top, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT && last) {
          strcpy(name, comp);
          return 0;
        }
        return -1;
      }
      if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
        if (no_symlinks || ++links > MAX_SYMLINKS)
          return errno = ELOOP, -1;
        _cleanup_free_ char *after_copy = oci_xstrdup(after);
        if (walk_expand_link(w, top, comp, &rest, after_copy) < 0)
          return -1;
        continue;
      }
      if (last) {
        strcpy(name, comp);
        return 0;
      }
      if (!S_ISDIR(st.st_mode))
        return errno = ENOTDIR, -1;
      if (w->depth >= MAX_DEPTH)
        return errno = ENAMETOOLONG, -1;
      /* O_NOFOLLOW: if the dir was swapped for a symlink since fstatat,
       * fail instead of following it out of the root. */
      int fd = openat(top, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return -1;
      w->stack[w->depth++] = fd;
    }
    memmove(rest, after, strlen(after) + 1);
  }
}

static int open_in_root_walk(int root_fd, const char *path, int flags, mode_t mode,
                             bool no_symlinks) {
  struct walk w = {.depth = 1};
  w.stack[0] = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
  if (w.stack[0] < 0)
    return -1;
  char name[NAME_MAX + 1];
  int fd = -1;
  if (walk_path(&w, path, !(flags & O_NOFOLLOW), no_symlinks, name) == 0) {
    int extra = strcmp(name, ".") == 0 ? 0 : O_NOFOLLOW;
    /* The last component was checked not to be a symlink to follow;
     * O_NOFOLLOW turns a late swap into ELOOP rather than an escape. */
    fd = openat(w.stack[w.depth - 1], name, flags | extra | O_CLOEXEC, mode);
  }
  int saved = errno;
  walk_pop_to(&w, 0);
  errno = saved;
  return fd;
}

/* ---- public ----------------------------------------------------------- */

/* Is openat2 usable at all? A seccomp profile around us (an older
 * container runtime's default) may answer EPERM instead of ENOSYS. */
static bool openat2_works(void) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
  if (fd >= 0)
    close(fd);
  return fd >= 0;
}

static int open_in_root(int root_fd, const char *path, int flags, mode_t mode,
                        bool no_symlinks) {
  if (!force_fallback && !no_openat2) {
    int fd = open_in_root_kernel(root_fd, path, flags, mode, no_symlinks);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
      return fd;
    if (errno == EPERM && openat2_works())
      return -1; /* a real EPERM from this path */
    no_openat2 = true;
  }
  return open_in_root_walk(root_fd, path, flags, mode, no_symlinks);
}

int oci_safe_open_ex(int root_fd, const char *path, int flags, mode_t mode,
                     bool no_symlinks, oci_error *err) {
  int fd = open_in_root(root_fd, path, flags, mode, no_symlinks);
  if (fd < 0)
    return oci_error_errno(err, "open \"%s\" in the rootfs", path);
  return fd;
}

int oci_safe_open(int root_fd, const char *path, int flags, mode_t mode, oci_error *err) {
  return oci_safe_open_ex(root_fd, path, flags, mode, false, err);
}

static int mkdir_p(int root_fd, const char *path, mode_t mode, bool no_symlinks,
                   oci_error *err) {
  /* Usually it all exists: one lookup instead of one per component (the
   * same resolution, so the same answer). */
  int whole = *path ? open_in_root(root_fd, path, O_PATH | O_DIRECTORY, 0, no_symlinks) : -1;
  if (whole >= 0)
    return whole;
  _cleanup_close_ int cur = open_in_root(root_fd, "/", O_PATH | O_DIRECTORY, 0, false);
  if (cur < 0)
    return oci_error_errno(err, "open the rootfs");
  _cleanup_free_ char *prefix = oci_xmalloc0(strlen(path) + 2);
  size_t plen = 0;
  for (const char *p = path; *p;) {
    while (*p == '/')
      p++;
    size_t len = strcspn(p, "/");
    if (len == 0)
      break;
    prefix[plen++] = '/';
    memcpy(prefix + plen, p, len);
    plen += len;
    prefix[plen] = '\0';
    _cleanup_free_ char *comp = strndup(p, len);
    p += len;

    int fd = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, 0, no_symlinks);
    if (fd < 0 && errno == ENOENT) {
      /* cur is the resolved parent: creating there is creating where
       * `prefix` points, inside the root. */
      if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST)
        return oci_error_errno(err, "mkdir \"%s\"", prefix);
      fd = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, 0, no_symlinks);
    }
    if (fd < 0)
      return oci_error_errno(err, "mkdir \"%s\"", prefix);
    close(cur);
    cur = fd;
  }
  return OCI_STEAL_FD(cur);
}

int oci_safe_mkdir_p(int root_fd, const char *path, mode_t mode, oci_error *err) {
  return mkdir_p(root_fd, path, mode, false, err);
}

/* The directory part of path ("" for "x", "/a" for "/a/b"). */
static char *path_dirname(const char *path) {
  char *d = oci_xstrdup(path);
  size_t n = strlen(d);
  while (n > 1 && d[n - 1] == '/')
    d[--n] = '\0';
  char *slash = strrchr(d, '/');
  if (slash == NULL)
    d[0] = '\0';
  else
    slash[slash == d ? 1 : 0] = '\0';
  return d;
}

/* One step of expand_links: the target of the symlink at `cand`, NULL when
 * it is not a symlink. -1 with errno when cand cannot be looked at. */
static int read_link_in_root(int root_fd, const char *cand, char **target) {
  *target = NULL;
  _cleanup_close_ int fd = open_in_root(root_fd, cand, O_PATH | O_NOFOLLOW, 0, false);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  if (!S_ISLNK(st.st_mode))
    return 0;
  char buf[PATH_MAX];
  ssize_t n = readlinkat(fd, "", buf, sizeof(buf) - 1);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  *target = oci_xstrdup(buf);
  return 0;
}

/* path with each symlink on the way replaced by its target as read inside
 * the root (an absolute one starts again at the root, ".." stops there),
 * up to the first missing component; the rest is kept as written. A mount
 * onto a dangling symlink then creates what the link names, inside the
 * root, as runc does. Only a string: creating from it still goes through
 * open_in_root and mkdirat in a resolved parent, so a link swapped
 * meanwhile cannot lead outside. NULL with errno on error. */
static char *expand_links(int root_fd, const char *path) {
  _cleanup_free_ char *todo = oci_xstrdup(path);
  _cleanup_free_ char *done = oci_xstrdup("");
  int links = 0;
  for (;;) {
    char *p = todo;
    while (*p == '/')
      p++;
    if (*p == '\0')
      return *done ? OCI_STEAL(done) : oci_xstrdup("/");
    size_t len = strcspn(p, "/");
    const char *after = p + len;
    _cleanup_free_ char *comp = strndup(p, len);
    _cleanup_free_ char *cand = oci_xasprintf("%s/%s", done, comp);
    _cleanup_free_ char *target = NULL;
    if (strcmp(comp, "..") == 0) {
      char *slash = strrchr(done, '/');
      if (slash)
        *slash = '\0';
    } else if (strcmp(comp, ".") != 0) {
      if (read_link_in_root(root_fd, cand, &target) < 0)
        return errno == ENOENT ? oci_xasprintf("%s%s", cand, after) : NULL;
      if (target != NULL) {
        if (++links > MAX_SYMLINKS)
          return errno = ELOOP, NULL;
        if (target[0] == '/')
          done[0] = '\0';
        char *next = oci_xasprintf("%s%s", target, after);
        free(todo);
        todo = next;
        continue;
      }
      free(done);
      done = OCI_STEAL(cand);
    }
    memmove(todo, after, strlen(after) + 1);
  }
}

int oci_safe_mount_target_ex(int root_fd, const char *path, bool is_dir, bool no_symlinks,
                             oci_error *err) {
  /* Usually the target resolves: only a missing one can hide a dangling
   * symlink to expand. */
  _cleanup_free_ char *expanded = NULL;
  int whole = open_in_root(root_fd, path, O_PATH, 0, no_symlinks);
  if (whole >= 0)
    close(whole);
  else if (errno == ENOENT && !no_symlinks && (expanded = expand_links(root_fd, path)) == NULL)
    return oci_error_errno(err, "resolve \"%s\" in the rootfs", path);
  if (expanded != NULL)
    path = expanded;
  if (is_dir)
    return mkdir_p(root_fd, path, 0755, no_symlinks, err);

  _cleanup_free_ char *dir = path_dirname(path);
  _cleanup_close_ int parent = mkdir_p(root_fd, dir, 0755, no_symlinks, err);
  if (parent < 0)
    return -1;
  int fd = open_in_root(root_fd, path, O_PATH, 0, no_symlinks);
  if (fd < 0 && errno == ENOENT) {
    /* O_EXCL: never follow a dangling symlink to create its target. */
    int f = open_in_root(root_fd, path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0644,
                         no_symlinks);
    if (f < 0 && errno != EEXIST)
      return oci_error_errno(err, "create \"%s\"", path);
    if (f >= 0)
      close(f);
    fd = open_in_root(root_fd, path, O_PATH, 0, no_symlinks);
  }
  if (fd < 0)
    return oci_error_errno(err, "open \"%s\" in the rootfs", path);
  return fd;
}

int oci_safe_mount_target(int root_fd, const char *path, bool is_dir, oci_error *err) {
  return oci_safe_mount_target_ex(root_fd, path, is_dir, false, err);
}
