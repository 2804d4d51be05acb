/* Unit tests: safepath (nasty symlinks stay inside the root), mount option
 * parsing, and an end-to-end rootfs build in a private mount namespace.
 *
 * The end-to-end tests fork a child that unshares its mount namespace, so
 * every mount dies with it; the parent then checks the host saw nothing. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ocirun/rootfs.h"
#include "ocirun/safepath.h"
#include "ocirun/utils.h"
#include "../../libcontainer/rootfs-internal.h"

/* ---- helpers ------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* FTW_PHYS: never follow the symlinks the tests plant (a -> /etc ...). */
static void rm_rf(const char *dir) {
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *pathf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  va_end(ap);
  return s;
}

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static void assert_same_file(int fd, const char *path) {
  struct stat a, b;
  assert_int_equal(fstat(fd, &a), 0);
  assert_int_equal(stat(path, &b), 0);
  assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/* ---- safepath --------------------------------------------------------- */

struct sp_fixture {
  char dir[64];
  int root_fd;
};

static int sp_setup(void **state) {
  struct sp_fixture *f = calloc(1, sizeof(*f));
  strcpy(f->dir, "/tmp/ocirun-safepath-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  char p[256];
  snprintf(p, sizeof(p), "%s/etc", f->dir), mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/etc/passwd", f->dir), write_text(p, "in-root\n");
  snprintf(p, sizeof(p), "%s/sub", f->dir), mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/sub/dir", f->dir), mkdir(p, 0755);
  static const char *links[][2] = {
      {"/etc", "a"}, {"../../..", "b"}, {"/proc/self/root", "c"}, {"loop2", "loop1"},
      {"loop1", "loop2"}, {"b/etc", "d"}, {"../../../../etc", "sub/up"},
      {"/etc/ocirun-dangling-test", "dang"}, {"/etc", "sub/dir/abs"}};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(links); i++) {
    snprintf(p, sizeof(p), "%s/%s", f->dir, links[i][1]);
    if (symlink(links[i][0], p) < 0)
      return -1;
  }
  f->root_fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  *state = f;
  return f->root_fd < 0 ? -1 : 0;
}

static int sp_teardown(void **state) {
  struct sp_fixture *f = *state;
  close(f->root_fd);
  rm_rf(f->dir);
  free(f);
  oci_safepath_force_fallback(false);
  return 0;
}

/* Every way of escaping lands on <root>/etc/passwd, never the host's. */
static void check_escapes(struct sp_fixture *f) {
  static const char *paths[] = {"a/passwd", "b/etc/passwd", "../../../etc/passwd",
                                "/../etc/passwd", "d/passwd", "sub/up/passwd",
                                "sub/dir/../../a/../etc/passwd", "/a/../b/a/passwd",
                                "sub/dir/abs/passwd", "sub/dir/abs/../../../etc/passwd"};
  _cleanup_free_ char *inroot = pathf("%s/etc/passwd", f->dir);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(paths); i++) {
    oci_error err = {0};
    int fd = oci_safe_open(f->root_fd, paths[i], O_RDONLY, 0, &err);
    if (fd < 0)
      fail_msg("%s: %s", paths[i], err.msg);
    assert_same_file(fd, inroot);
    close(fd);
  }
}

static void check_bad_links(struct sp_fixture *f) {
  oci_error err = {0};
  /* A magic link is never followed; inside the root it does not exist. */
  int fd = oci_safe_open(f->root_fd, "c/etc/passwd", O_RDONLY, 0, &err);
  assert_true(fd < 0);
  fd = oci_safe_open(f->root_fd, "loop1", O_RDONLY, 0, &err);
  assert_true(fd < 0);
  assert_int_equal(err.errnum, ELOOP);
  assert_non_null(strstr(err.msg, "loop1"));
  /* No symlinks at all when asked (proc/sysfs targets). */
  fd = oci_safe_open_ex(f->root_fd, "a/passwd", O_RDONLY, 0, true, &err);
  assert_true(fd < 0);
  assert_int_equal(err.errnum, ELOOP);
  fd = oci_safe_open_ex(f->root_fd, "etc/passwd", O_RDONLY, 0, true, &err);
  assert_true(fd >= 0);
  close(fd);
}

/* From a root of /proc/self, "root" is a magic link: it must not lead out. */
static void check_magic_link(void) {
  _cleanup_close_ int self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(self >= 0);
  oci_error err = {0};
  int fd = oci_safe_open(self, "root/etc/passwd", O_RDONLY, 0, &err);
  if (fd >= 0) {
    /* the fallback reads the link text "/" and clamps it to the root */
    struct statfs sfs;
    assert_int_equal(fstatfs(fd, &sfs), 0);
    assert_true(sfs.f_type == PROC_SUPER_MAGIC);
    close(fd);
  }
}

static void check_creation(struct sp_fixture *f) {
  oci_error err = {0};
  pid_t pid = getpid();
  _cleanup_free_ char *rel = pathf("a/ocirun-test-%d/x", pid);
  _cleanup_free_ char *host = pathf("/etc/ocirun-test-%d", pid);
  _cleanup_free_ char *inroot = pathf("%s/etc/ocirun-test-%d/x", f->dir, pid);
  int fd = oci_safe_mkdir_p(f->root_fd, rel, 0755, &err);
  if (fd < 0)
    fail_msg("mkdir_p: %s", err.msg);
  assert_same_file(fd, inroot);
  close(fd);
  assert_false(exists(host));

  _cleanup_free_ char *frel = pathf("b/ocirun-file-%d", pid);
  _cleanup_free_ char *fhost = pathf("/ocirun-file-%d", pid);
  _cleanup_free_ char *finroot = pathf("%s/ocirun-file-%d", f->dir, pid);
  fd = oci_safe_mount_target(f->root_fd, frel, false, &err);
  if (fd < 0)
    fail_msg("mount_target: %s", err.msg);
  assert_same_file(fd, finroot);
  close(fd);
  assert_false(exists(fhost));

  /* A dangling link to a host path: whatever happens, not on the host. */
  fd = oci_safe_mount_target(f->root_fd, "dang", false, &err);
  if (fd >= 0)
    close(fd);
  assert_false(exists("/etc/ocirun-dangling-test"));
  /* A directory target through a file is refused. */
  fd = oci_safe_mount_target(f->root_fd, "etc/passwd/x", true, &err);
  assert_true(fd < 0);
  assert_int_equal(err.errnum, ENOTDIR);
}

static void test_safepath_kernel(void **state) {
  check_escapes(*state);
  check_bad_links(*state);
  check_magic_link();
  check_creation(*state);
}

static void test_safepath_fallback(void **state) {
  oci_safepath_force_fallback(true);
  check_escapes(*state);
  check_bad_links(*state);
  check_magic_link();
  check_creation(*state);
}

/* Under a seccomp filter that answers EPERM for openat2 (an older runtime's
 * default profile around us), paths are still resolved inside the root, by
 * the fallback walk, instead of every create failing. Run in a child: the
 * filter cannot be removed again. */
static int denied_openat2_child(struct sp_fixture *f) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == NULL || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat2), 0) < 0 ||
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0)
    return 10;
  if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) >= 0 || errno != EPERM)
    return 11; /* the filter is not in force: the test would prove nothing */
  _cleanup_free_ char *inroot = pathf("%s/etc/passwd", f->dir);
  struct stat want, got;
  static const char *paths[] = {"a/passwd", "b/etc/passwd", "sub/up/passwd"};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(paths); i++) {
    oci_error err = {0};
    int fd = oci_safe_open(f->root_fd, paths[i], O_RDONLY, 0, &err);
    if (fd < 0 || fstat(fd, &got) < 0 || stat(inroot, &want) < 0 || got.st_ino != want.st_ino)
      return 20 + (int)i;
    close(fd);
  }
  return 0;
}

static void test_safepath_openat2_denied(void **state) {
  oci_safepath_force_fallback(false);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(denied_openat2_child(*state));
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

/* tmpcopyup's copy: a deep tree ends in a clear error, not in EMFILE or a
 * stack overflow; a shallow one is copied whole. */
static int make_chain(const char *top, int levels) {
  int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < levels && fd >= 0; i++) {
    int next = mkdirat(fd, "d", 0755) == 0 ? openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    close(fd);
    fd = next;
  }
  if (fd < 0)
    return -1;
  close(fd);
  return 0;
}

static int copy_dirs(const char *src, const char *dst, oci_error *err) {
  int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = oci_copy_tree(s, d, err);
  close(s);
  close(d);
  return r;
}

static void test_copy_tree_depth(void **state) {
  char base[] = "/tmp/ocirun-copytree-XXXXXX";
  assert_non_null(mkdtemp(base));
  _cleanup_free_ char *deep = pathf("%s/deep", base), *shallow = pathf("%s/shallow", base);
  _cleanup_free_ char *to1 = pathf("%s/to1", base), *to2 = pathf("%s/to2", base);
  mkdir(deep, 0755), mkdir(shallow, 0755), mkdir(to1, 0755), mkdir(to2, 0755);
  assert_int_equal(make_chain(deep, 300), 0);
  assert_int_equal(make_chain(shallow, 10), 0);
  oci_error err = {0};
  int deep_r = copy_dirs(deep, to1, &err);
  oci_error err2 = {0};
  int shallow_r = copy_dirs(shallow, to2, &err2);
  _cleanup_free_ char *tenth = pathf("%s/d/d/d/d/d/d/d/d/d/d", to2);
  bool copied = exists(tenth);
  rm_rf(base);
  assert_int_equal(deep_r, -1);
  assert_int_equal(err.errnum, ELOOP);
  assert_non_null(strstr(err.msg, "levels of directories"));
  assert_int_equal(shallow_r, 0);
  assert_true(copied);
}

/* ---- mount options ------------------------------------------------------ */

static void test_mount_options(void **state) {
  static const struct {
    const char *opts[5];
    unsigned long flags, prop;
    bool recursive;
    const char *data;
  } rows[] = {
      {{"nosuid", "nodev", "noexec", "ro"}, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, 0,
       false, NULL},
      {{"rbind", "rprivate"}, MS_BIND | MS_REC, MS_PRIVATE | MS_REC, true, NULL},
      {{"bind", "shared", "slave"}, MS_BIND, MS_SLAVE, false, NULL},
      {{"mode=755", "nosuid", "size=65536k"}, MS_NOSUID, 0, false, "mode=755,size=65536k"},
      {{"ro", "rw"}, 0, 0, false, NULL},
      {{"nosuid", "suid", "nodev"}, MS_NODEV, 0, false, NULL},
      {{"noatime", "relatime", "strictatime"}, MS_STRICTATIME, 0, false, NULL},
      {{"sync", "async", "dirsync", "lazytime"}, MS_DIRSYNC | MS_LAZYTIME, 0, false, NULL},
      {{"remount", "mand", "nodiratime", "runbindable"}, MS_REMOUNT | MS_MANDLOCK | MS_NODIRATIME,
       MS_UNBINDABLE | MS_REC, false, NULL},
      {{"newinstance", "ptmxmode=0666", "gid=5"}, 0, 0, false,
       "newinstance,ptmxmode=0666,gid=5"},
  };
  for (size_t i = 0; i < OCI_ARRAY_SIZE(rows); i++) {
    size_t n = 0;
    while (n < 5 && rows[i].opts[n])
      n++;
    unsigned long flags = 1234, prop = 1234;
    bool rec = !rows[i].recursive;
    char *data = (char *)"junk";
    oci_error err = {0};
    assert_int_equal(oci_mount_parse_options((char **)rows[i].opts, n, &flags, &prop, &rec,
                                             &data, &err), 0);
    if (flags != rows[i].flags || prop != rows[i].prop)
      fail_msg("row %zu: flags %#lx prop %#lx", i, flags, prop);
    assert_int_equal(rec, rows[i].recursive);
    if (rows[i].data == NULL)
      assert_null(data);
    else
      assert_string_equal(data, rows[i].data);
    free(data);
  }
}

static void test_mount_options_extensions(void **state) {
  const char *opts[] = {"tmpcopyup", "rro", "rnosuid", "ridmap", "rrelatime", "rw"};
  struct oci_mount_opts o;
  oci_error err = {0};
  assert_int_equal(oci_mount_opts_parse((char **)opts, OCI_ARRAY_SIZE(opts), &o, &err), 0);
  assert_true(o.tmpcopyup && o.idmap && o.ridmap && !o.bind);
  assert_int_equal(o.rflags, MS_RDONLY | MS_NOSUID | MS_RELATIME);
  assert_int_equal(o.cleared, MS_RDONLY);
  assert_null(o.data);
  assert_int_equal(oci_ms_to_mount_attr(MS_RDONLY | MS_NODEV | MS_NOATIME),
                   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME);
  assert_int_equal(oci_ms_to_mount_attr_clr(MS_STRICTATIME, MS_NOSUID),
                   MOUNT_ATTR_NOSUID | MOUNT_ATTR__ATIME);
  oci_mount_opts_free(&o);
}

/* ---- end to end ------------------------------------------------------ */

struct e2e {
  char dir[64];     /* temp dir: rootfs/ and host-src/ */
  char *rootfs;
  char *hostsrc;
  char *unique;     /* a name no host has: ocirun-rootfs-<pid> */
  char *msg;        /* shared with the child for its error text */
};

static void mkdirf(const char *fmt, const char *a) {
  _cleanup_free_ char *p = pathf(fmt, a);
  assert_int_equal(mkdir(p, 0755), 0);
}

static void copy_busybox(const char *rootfs) {
  _cleanup_free_ char *cmd = pathf("cp /bin/busybox '%s/bin/busybox'", rootfs);
  assert_int_equal(system(cmd), 0);
}

static int e2e_setup(void **state) {
  struct e2e *e = calloc(1, sizeof(*e));
  strcpy(e->dir, "/tmp/ocirun-rootfs-XXXXXX");
  if (mkdtemp(e->dir) == NULL)
    return -1;
  e->rootfs = pathf("%s/rootfs", e->dir);
  e->hostsrc = pathf("%s/host-src", e->dir);
  e->unique = pathf("ocirun-rootfs-%d", getpid());
  e->msg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  const char *r = e->rootfs;
  mkdirf("%s", r);
  for (const char *const *d = (const char *const[]){"bin", "etc", "etc/secretdir", "etc/ro",
                                                     "proc", "dev", "opt", "srv", "sys", NULL};
       *d; d++) {
    _cleanup_free_ char *p = pathf("%s/%s", r, *d);
    assert_int_equal(mkdir(p, 0755), 0);
  }
  copy_busybox(r);
  _cleanup_free_ char *secret = pathf("%s/etc/secret", r);
  write_text(secret, "secret\n");
  _cleanup_free_ char *inner = pathf("%s/etc/secretdir/inner", r);
  write_text(inner, "hidden\n");
  _cleanup_free_ char *rofile = pathf("%s/etc/ro/file", r);
  write_text(rofile, "ro\n");
  _cleanup_free_ char *keep = pathf("%s/opt/keep", r);
  write_text(keep, "kept\n");
  _cleanup_free_ char *mnt = pathf("%s/mnt", r);
  assert_int_equal(symlink("/etc", mnt), 0);
  mkdirf("%s", e->hostsrc);
  _cleanup_free_ char *hello = pathf("%s/hello", e->hostsrc);
  write_text(hello, "hello\n");
  *state = e;
  return 0;
}

static int e2e_teardown(void **state) {
  struct e2e *e = *state;
  rm_rf(e->dir);
  munmap(e->msg, 4096);
  free(e->rootfs), free(e->hostsrc), free(e->unique), free(e);
  return 0;
}

/* The child's checks from inside; the first failure names itself. */
#define CHECK(cond, what)                                  \
  do {                                                     \
    if (!(cond)) {                                         \
      snprintf(msg, 4096, "%s (errno %d)", what, errno);   \
      return 1;                                            \
    }                                                      \
  } while (0)

static bool reads_as(const char *path, const char *want) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  return n >= 0 && strcmp(buf, want) == 0;
}

static bool is_fs(const char *path, long type) {
  struct statfs s;
  return statfs(path, &s) == 0 && s.f_type == type;
}

static bool is_ro(const char *path) {
  struct statvfs sv;
  return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static bool is_nosuid_noexec(const char *path) {
  struct statvfs sv;
  return statvfs(path, &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NOEXEC);
}

static bool link_is(const char *path, const char *want) {
  char buf[256];
  ssize_t n = readlink(path, buf, sizeof(buf) - 1);
  return n >= 0 && (buf[n] = '\0', strcmp(buf, want) == 0);
}

/* No /bin/sh in the test rootfs: run busybox's own shell. */
static int run_busybox(const char *script) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/busybox", "busybox", "sh", "-c", script, (char *)NULL);
    _exit(127);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int inside_checks(const struct e2e *e, char *msg) {
  struct stat st;
  char cwd[256];
  CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0, "cwd is /");
  CHECK(stat("/bin/busybox", &st) == 0, "busybox in the new root");
  CHECK(!exists("/tmp/ocirun-rootfs-XXXXXX") && !exists(e->dir), "host paths not visible");
  CHECK(is_fs("/proc", PROC_SUPER_MAGIC), "/proc is procfs");
  CHECK(is_fs("/dev", TMPFS_MAGIC), "/dev is tmpfs");
  CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
        "/dev/null is 1:3");
  CHECK(stat("/dev/urandom", &st) == 0 && st.st_rdev == makedev(1, 9), "/dev/urandom");
  CHECK((st.st_mode & 0777) == 0666, "/dev/urandom mode 0666");
  CHECK(link_is("/dev/fd", "/proc/self/fd") && link_is("/dev/stderr", "/proc/self/fd/2"),
        "/dev/fd, /dev/stderr symlinks");
  CHECK(link_is("/dev/ptmx", "pts/ptmx"), "/dev/ptmx symlink");
  _cleanup_free_ char *x = pathf("/etc/%s", e->unique);
  _cleanup_free_ char *xf = pathf("/etc/%s/f", e->unique);
  CHECK(is_fs(x, TMPFS_MAGIC), "tmpfs at /mnt/x went to /etc/x inside");
  int fd = open(xf, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  CHECK(fd >= 0, "the tmpfs is writable");
  close(fd);
  CHECK(reads_as("/srv/bind/hello", "hello\n"), "bind mount content");
  CHECK(open("/srv/bind/new", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS,
        "ro bind mount refuses writes");
  CHECK(reads_as("/opt/keep", "kept\n") && is_fs("/opt", TMPFS_MAGIC), "tmpcopyup");
  CHECK(reads_as("/etc/secret", ""), "masked file reads empty");
  CHECK(!exists("/etc/secretdir/inner") && is_fs("/etc/secretdir", TMPFS_MAGIC),
        "masked dir is an empty tmpfs");
  CHECK(access("/proc/keys", F_OK) != 0 || reads_as("/proc/keys", ""), "/proc/keys masked");
  CHECK(is_ro("/proc/sys") && is_ro("/proc/sys/kernel"), "/proc/sys ro");
  CHECK(open("/etc/ro/file", O_WRONLY) < 0 && errno == EROFS, "readonlyPaths /etc/ro");
  CHECK(open("/newfile", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS, "root read-only");
  /* And a real program sees the same. */
  CHECK(run_busybox("test -c /dev/null && test -z \"$(/bin/busybox cat /etc/secret)\" && "
                    "! /bin/busybox touch /etc/y 2>/dev/null") == 0,
        "busybox checks");
  return 0;
}

static int inside_idmap_checks(char *msg) {
  struct stat st;
  CHECK(stat("/idm/hello", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000,
        "idmapped mount shows uid 0 as 1000");
  return 0;
}

static int inside_userns_checks(char *msg) {
  CHECK(is_fs("/sys", SYSFS_MAGIC) && is_ro("/sys"), "sysfs (or the host's, bound) ro");
  CHECK(!exists("/sys/firmware/acpi") && !exists("/sys/firmware/memmap"), "/sys/firmware masked");
  CHECK(is_nosuid_noexec("/dev/null") && is_nosuid_noexec("/dev/tty"),
        "device binds nosuid,noexec");
  return 0;
}

static struct oci_mount mnt(const char *dest, const char *type, const char *src,
                            const char **opts) {
  size_t n = 0;
  while (opts && opts[n])
    n++;
  return (struct oci_mount){.destination = (char *)dest, .type = (char *)type,
                            .source = (char *)src, .options = (char **)opts, .n_options = n};
}

struct e2e_cfg {
  struct oci_config cfg;
  struct oci_linux lx;
  struct oci_root root;
  struct oci_mount mounts[8];
  char *dest_x;
};

struct e2e_mode {
  bool legacy;
  bool userns;  /* devices bound from the host instead of mknod; sysfs */
  bool no_pivot;
  bool idmap;
};

static void build_config(struct e2e_cfg *c, const struct e2e *e, const struct e2e_mode *mode) {
  static const char *devopts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
  static const char *bindopts[] = {"rbind", "ro", NULL};
  static const char *copyup[] = {"tmpcopyup", "nodev", NULL};
  static const char *masked[] = {"/etc/secret", "/etc/secretdir", "/proc/kcore",
                                 "/proc/keys", "/proc/acpi", "/nonexistent", "/sys/firmware"};
  static const char *ro[] = {"/etc/ro", "/proc/sys", "/nonexistent2"};
  memset(c, 0, sizeof(*c));
  c->dest_x = pathf("/mnt/%s", e->unique);
  size_t n = 0;
  c->mounts[n++] = mnt("/proc", "proc", "proc", NULL);
  c->mounts[n++] = mnt("/dev", "tmpfs", "tmpfs", devopts);
  c->mounts[n++] = mnt("/srv/bind", "bind", e->hostsrc, bindopts);
  c->mounts[n++] = mnt(c->dest_x, "tmpfs", "tmpfs", NULL);
  c->mounts[n++] = mnt("/opt", "tmpfs", "tmpfs", copyup);
  if (mode->idmap) {
    static const char *idopts[] = {"rbind", "idmap", NULL};
    static struct oci_id_mapping map = {.container_id = 0, .host_id = 1000, .size = 1};
    struct oci_mount *m = &c->mounts[n++];
    *m = mnt("/idm", "bind", e->hostsrc, idopts);
    m->uid_mappings = m->gid_mappings = &map;
    m->n_uid_mappings = m->n_gid_mappings = 1;
  }
  static const char *sysopts[] = {"ro", "nosuid", NULL};
  if (mode->userns)
    c->mounts[n++] = mnt("/sys", "sysfs", "sysfs", sysopts);
  c->cfg.mounts = c->mounts;
  c->cfg.n_mounts = n;
  c->root = (struct oci_root){.path = (char *)"rootfs", .readonly = true};
  c->cfg.root = &c->root;
  c->lx.masked_paths = (char **)masked;
  c->lx.n_masked_paths = OCI_ARRAY_SIZE(masked);
  c->lx.readonly_paths = (char **)ro;
  c->lx.n_readonly_paths = OCI_ARRAY_SIZE(ro);
  c->cfg.linux_ = &c->lx;
}

/* cmocka catches crashes and carries on with the next test: in a forked
 * child that would run the rest of the suite twice. Die plainly instead. */
static void child_signals(void) {
  signal(SIGSEGV, SIG_DFL);
  signal(SIGBUS, SIG_DFL);
  signal(SIGILL, SIG_DFL);
  signal(SIGFPE, SIG_DFL);
}

/* Run fn in a child with its own mount namespace; its exit status back. */
static int wait_exit(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return 99;
  return WEXITSTATUS(status);
}

/* A stand-in host: a mount namespace whose "/" is rshared (as on systemd
 * hosts), so anything the container side fails to isolate shows up here. */
static int fake_host(int (*fn)(struct e2e *, void *), struct e2e *e, void *arg) {
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0) {
    snprintf(e->msg, 4096, "fake host: %s", strerror(errno));
    return 100;
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) < 0) /* peers of the fake host's mounts */
      _exit(100);
    _exit(fn(e, arg));
  }
  int rc = pid < 0 ? 101 : wait_exit(pid);
  char *text = NULL;
  size_t len;
  oci_error err;
  if (oci_read_file("/proc/self/mountinfo", &text, &len, &err) < 0)
    return 102;
  bool leaked = strstr(text, e->dir) != NULL || strstr(text, e->unique) != NULL;
  if (leaked && rc == 0)
    snprintf(e->msg, 4096, "a mount leaked to the host namespace");
  free(text);
  return leaked && rc == 0 ? 50 : rc;
}

/* Run fn in a child with its own mount namespace; its exit status back. */
static int in_child(int (*fn)(struct e2e *, void *), struct e2e *e, void *arg) {
  e->msg[0] = '\0';
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    child_signals();
    _exit(fake_host(fn, e, arg));
  }
  int rc = wait_exit(pid);
  assert_int_not_equal(rc, 99);
  return rc;
}

/* Like in_child, but the child is pid 1 of new user, mount and pid
 * namespaces (root mapped to root): mknod and a new sysfs are refused
 * there, so the userns code paths run for real. */
static int in_userns_child(int (*fn)(struct e2e *, void *), struct e2e *e, void *arg) {
  int ready[2], go[2];
  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(go), 0);
  e->msg[0] = '\0';
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char c = 0;
    child_signals();
    close(ready[0]), close(go[1]);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) < 0)
      _exit(100);
    if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
      _exit(101);
    pid_t init = fork();
    if (init == 0)
      _exit(fn(e, arg));
    int st;
    if (init < 0 || waitpid(init, &st, 0) != init || !WIFEXITED(st))
      _exit(102);
    _exit(WEXITSTATUS(st));
  }
  close(ready[1]), close(go[0]);
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  static const char map[] = "0 0 4294967295\n";
  oci_error err;
  _cleanup_free_ char *uid_map = pathf("/proc/%d/uid_map", pid);
  _cleanup_free_ char *gid_map = pathf("/proc/%d/gid_map", pid);
  assert_int_equal(oci_write_file(uid_map, map, strlen(map), &err), 0);
  assert_int_equal(oci_write_file(gid_map, map, strlen(map), &err), 0);
  assert_int_equal(write(go[1], &c, 1), 1);
  close(ready[0]), close(go[1]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

/* before_pivot: every mount in place, cwd at the rootfs, not yet pivoted. */
static int check_before_pivot(void *data, oci_error *err) {
  struct e2e *e = data;
  char cwd[256];
  struct statfs sfs;
  if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, e->rootfs) != 0 ||
      statfs("dev", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC || !exists(e->dir))
    return oci_error_set(err, EINVAL, "before_pivot: cwd \"%s\"", cwd);
  e->msg[0] = 'B';  /* seen */
  return 0;
}

static int child_full(struct e2e *e, void *arg) {
  const struct e2e_mode *mode = arg;
  oci_mnt_force_legacy(mode->legacy);
  oci_safepath_force_fallback(mode->legacy);
  struct e2e_cfg c;
  build_config(&c, e, mode);
  struct oci_rootfs_ctx ctx = {.cfg = &c.cfg, .bundle = e->dir, .rootfs = e->rootfs,
                               .userns = mode->userns, .no_pivot = mode->no_pivot,
                               .before_pivot = check_before_pivot, .callback_data = e};
  oci_error err = {0};
  if (oci_rootfs_setup(&ctx, &err) < 0 || oci_rootfs_finalize(&ctx, &err) < 0) {
    snprintf(e->msg, 4096, "%s", err.msg);
    return 2;
  }
  if (e->msg[0] != 'B') {
    snprintf(e->msg, 4096, "before_pivot was not called");
    return 6;
  }
  if (inside_checks(e, e->msg) != 0)
    return 3;
  if (mode->idmap && inside_idmap_checks(e->msg) != 0)
    return 4;
  if (mode->userns && inside_userns_checks(e->msg) != 0)
    return 5;
  return 0;
}

static char *read_mountinfo(void) {
  char *text = NULL;
  size_t len;
  oci_error err;
  assert_int_equal(oci_read_file("/proc/self/mountinfo", &text, &len, &err), 0);
  return text;
}

static void run_full(struct e2e *e, struct e2e_mode mode) {
  _cleanup_free_ char *before = read_mountinfo();
  int rc = mode.userns ? in_userns_child(child_full, e, &mode) : in_child(child_full, e, &mode);
  if (rc != 0)
    fail_msg("child %d: %s", rc, e->msg);
  /* Others test on this machine too, so the host's table may change; but
   * nothing of ours may be in it. */
  _cleanup_free_ char *after = read_mountinfo();
  assert_null(strstr(after, e->dir));
  assert_null(strstr(after, e->unique));
  assert_true(strstr(before, e->dir) == NULL);
  /* The tmpfs destination /mnt/x followed /mnt -> /etc inside the rootfs. */
  _cleanup_free_ char *host = pathf("/etc/%s", e->unique);
  _cleanup_free_ char *inroot = pathf("%s/etc/%s", e->rootfs, e->unique);
  assert_false(exists(host));
  assert_true(exists(inroot));
  _cleanup_free_ char *secret = pathf("%s/etc/secret", e->rootfs);
  assert_true(reads_as(secret, "secret\n"));
  _cleanup_free_ char *newfile = pathf("%s/newfile", e->rootfs);
  assert_false(exists(newfile));
  _cleanup_free_ char *hostnew = pathf("%s/new", e->hostsrc);
  assert_false(exists(hostnew));
}

static void test_e2e_new_api(void **state) {
  run_full(*state, (struct e2e_mode){.idmap = true});
}

static void test_e2e_legacy_nopivot(void **state) {
  run_full(*state, (struct e2e_mode){.legacy = true, .no_pivot = true});
}

static void test_e2e_userns(void **state) {
  run_full(*state, (struct e2e_mode){.userns = true});
}

static void test_e2e_userns_legacy(void **state) {
  run_full(*state, (struct e2e_mode){.userns = true, .legacy = true});
}

/* ---- error paths and attacks ------------------------------------------ */

/* Setup with the one mount in arg must fail; its message goes to e->msg. */
static int child_setup_fails(struct e2e *e, void *arg) {
  struct oci_config cfg = {.mounts = arg, .n_mounts = 1};
  struct oci_rootfs_ctx ctx = {.cfg = &cfg, .rootfs = e->rootfs};
  oci_error err = {0};
  if (oci_rootfs_setup(&ctx, &err) == 0)
    return 1;
  snprintf(e->msg, 4096, "%s", err.msg);
  return 0;
}

static void test_error_names_mount(void **state) {
  struct e2e *e = *state;
  static const char *bindopt[] = {"bind", NULL};
  struct oci_mount m = mnt("/mnt2", "bind", "/nonexistent-ocirun", bindopt);
  assert_int_equal(in_child(child_setup_fails, e, &m), 0);
  assert_string_equal(e->msg, "mount \"/nonexistent-ocirun\" to \"/mnt2\": "
                              "No such file or directory");
}

/* proc never goes through a symlink (/mnt -> /etc), even one inside. */
static void test_proc_target_symlink_refused(void **state) {
  struct e2e *e = *state;
  struct oci_mount m = mnt("/mnt/proc", "proc", "proc", NULL);
  assert_int_equal(in_child(child_setup_fails, e, &m), 0);
  assert_non_null(strstr(e->msg, "mount \"proc\" to \"/mnt/proc\" (type proc)"));
  _cleanup_free_ char *p = pathf("%s/etc/proc", e->rootfs);
  assert_false(exists(p));
}

/* After setup, the "container" swaps /dev/null for a symlink and fakes
 * /proc/sys on a tmpfs: finalize must refuse both. */
static int child_attack(struct e2e *e, void *arg) {
  bool fake_proc = arg != NULL;
  static const char *devopts[] = {"mode=755", NULL};
  struct oci_mount m[] = {mnt(fake_proc ? "/proc" : "/proc", fake_proc ? "tmpfs" : "proc",
                              fake_proc ? "tmpfs" : "proc", NULL),
                          mnt("/dev", "tmpfs", "tmpfs", devopts)};
  static const char *masked[] = {"/etc/secret"};
  static const char *ro[] = {"/proc/sys"};
  struct oci_linux lx = {.masked_paths = (char **)masked, .n_masked_paths = 1};
  if (fake_proc)
    lx = (struct oci_linux){.readonly_paths = (char **)ro, .n_readonly_paths = 1};
  struct oci_config cfg = {.mounts = m, .n_mounts = 2, .linux_ = &lx};
  struct oci_rootfs_ctx ctx = {.cfg = &cfg, .rootfs = e->rootfs};
  oci_error err = {0};
  if (oci_rootfs_setup(&ctx, &err) < 0) {
    snprintf(e->msg, 4096, "setup: %s", err.msg);
    return 2;
  }
  if (fake_proc) {
    mkdir("/proc/sys", 0755);
  } else {
    unlink("/dev/null");
    if (symlink("/etc/secret", "/dev/null") < 0)
      return 3;
  }
  if (oci_rootfs_finalize(&ctx, &err) == 0)
    return 1;
  snprintf(e->msg, 4096, "%s", err.msg);
  return 0;
}

static void test_dev_null_swap_refused(void **state) {
  struct e2e *e = *state;
  int rc = in_child(child_attack, e, NULL);
  if (rc != 0)
    fail_msg("child %d: %s", rc, e->msg);
  assert_non_null(strstr(e->msg, "maskedPaths \"/etc/secret\""));
}

static void test_fake_proc_refused(void **state) {
  struct e2e *e = *state;
  int rc = in_child(child_attack, e, (void *)1);
  if (rc != 0)
    fail_msg("child %d: %s", rc, e->msg);
  assert_non_null(strstr(e->msg, "is not on procfs"));
}

/* linux.rootfsPropagation: pivot_root must still work for "rshared" (it
 * refuses shared mounts), and "/" ends up with the asked propagation once
 * the rootfs is finalized (it is set last, after the readonly and masked
 * path binds). */
static int child_propagation(struct e2e *e, void *arg) {
  struct oci_mount m[] = {mnt("/proc", "proc", "proc", NULL)};
  struct oci_linux lx = {.rootfs_propagation = arg};
  struct oci_config cfg = {.mounts = m, .n_mounts = 1, .linux_ = &lx};
  struct oci_rootfs_ctx ctx = {.cfg = &cfg, .rootfs = e->rootfs};
  oci_error err = {0};
  if (oci_rootfs_setup(&ctx, &err) < 0 || oci_rootfs_finalize(&ctx, &err) < 0) {
    snprintf(e->msg, 4096, "%s", err.msg);
    return 2;
  }
  char *text = NULL;
  size_t len;
  if (oci_read_file("/proc/self/mountinfo", &text, &len, &err) < 0)
    return 3;
  /* the line of "/": "ID PARENT MAJ:MIN / / opts [shared:N] - ..." */
  bool shared = false, found = false;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char root[256], point[256];
    if (sscanf(line, "%*d %*d %*s %255s %255s", root, point) == 2 &&
        strcmp(point, "/") == 0) {
      found = true;
      char *dash = strstr(line, " - ");
      char *sh = strstr(line, " shared:");
      shared = sh != NULL && (dash == NULL || sh < dash);
    }
  }
  free(text);
  bool want = strcmp((const char *)arg, "rshared") == 0;
  if (!found || shared != want) {
    snprintf(e->msg, 4096, "\"/\" shared=%d, want %d", shared, want);
    return 4;
  }
  return 0;
}

static void test_root_propagation(void **state) {
  struct e2e *e = *state;
  static const char *const props[] = {"rshared", "rprivate", "rslave", "private"};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(props); i++) {
    int rc = in_child(child_propagation, e, (void *)props[i]);
    if (rc != 0)
      fail_msg("%s: child %d: %s", props[i], rc, e->msg);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_safepath_kernel, sp_setup, sp_teardown),
      cmocka_unit_test_setup_teardown(test_safepath_fallback, sp_setup, sp_teardown),
      cmocka_unit_test_setup_teardown(test_safepath_openat2_denied, sp_setup, sp_teardown),
      cmocka_unit_test(test_copy_tree_depth),
      cmocka_unit_test(test_mount_options),
      cmocka_unit_test(test_mount_options_extensions),
      cmocka_unit_test_setup_teardown(test_e2e_new_api, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_e2e_legacy_nopivot, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_e2e_userns, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_e2e_userns_legacy, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_error_names_mount, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_root_propagation, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_proc_target_symlink_refused, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_dev_null_swap_refused, e2e_setup, e2e_teardown),
      cmocka_unit_test_setup_teardown(test_fake_proc_refused, e2e_setup, e2e_teardown),
  };
  if (geteuid() != 0) {
    fprintf(stderr, "test_rootfs: needs root (mount namespaces)\n");
    return 77;
  }
  return cmocka_run_group_tests(tests, NULL, NULL);
}
