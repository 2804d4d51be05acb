/* ocirun — keep the runtime binary out of the container's reach
 * (CVE-2019-5736 class).
 *
 * The init and exec'd processes are forks of the runtime: until they execve
 * the container's program, /proc/PID/exe inside the container points at the
 * runtime binary. They are non-dumpable, but a container root with
 * CAP_SYS_PTRACE and no user namespace still passes that check and could
 * open the binary for writing (or keep an O_PATH fd and reopen it for
 * writing once the runtime exited) and replace the host's runtime.
 *
 * So create/run/exec first move the runtime onto a file that cannot be
 * written:
 *   1. a detached read-only bind mount of the binary (open_tree
 *      OPEN_TREE_CLONE + mount_setattr MOUNT_ATTR_RDONLY): no copy; the
 *      mount is in no namespace, so nobody can remount it read-write, and
 *      it dissolves when the last user exits. The process moves onto it in
 *      place (its mappings of the binary, then exe_file: see "moving onto
 *      the clone" below), and only when that fails re-executes from it;
 *   2. without CAP_SYS_ADMIN (rootless): a re-exec from a sealed memfd copy
 *      (F_SEAL_SEAL|SHRINK|GROW|WRITE).
 * A binary already on a read-only mount or in a sealed memfd is left alone.
 *
 * Cost (2-CPU VM): an `ocirun run` that fails right after this step takes
 * 2.85 ms from a binary on a read-only mount (nothing to do), 3.36 ms with
 * the move and 5.34 ms with a re-exec (perf stat -r 200): the move costs
 * 0.5 ms, the re-exec 2.5. A whole `run` of /bin/true went from 20.8 to
 * 19.1 ms (medians of 30). The memfd copy also pays for 1 MB of memory per
 * running ocirun process, hence the clone first.
 * The arguments of a re-exec come back from /proc/self/cmdline, so no
 * caller has to hand argv down to the library. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "ocirun/log.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* Set across the re-exec: if the new image still looks unprotected we fail
 * instead of re-executing forever. */
#define REEXEC_MARK "_OCIRUN_SELFEXE"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct selfexe_mount_attr {
  unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

extern char **environ;

/* A sealed memfd, or a file on a read-only mount. */
static bool exe_is_protected(int fd) {
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS)
    return true;
  struct statvfs vfs;
  return fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

bool oci_selfexe_is_protected(void) {
  _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && exe_is_protected(fd);
}

/* A read-only bind mount of the binary that belongs to no namespace. */
static int readonly_clone(oci_error *err) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe",
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open_tree /proc/self/exe");
  struct selfexe_mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
    int e = errno;
    close(fd);
    return oci_error_set(err, e, "make the binary's clone mount read-only");
  }
  return fd;
}

static int copy_all(int to, int from, oci_error *err) {
  struct stat st;
  if (fstat(from, &st) < 0)
    return oci_error_errno(err, "stat /proc/self/exe");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(to, from, &off, (size_t)(st.st_size - off));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return oci_error_errno(err, "copy /proc/self/exe into a memfd");
  }
  return 0;
}

/* A sealed in-memory copy of the binary. */
static int sealed_copy(oci_error *err) {
  _cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0)
    return oci_error_errno(err, "open /proc/self/exe");
  /* MFD_EXEC: kernels with vm.memfd_noexec; older ones reject the flag. */
  int fd = memfd_create("ocirun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create("ocirun", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return oci_error_errno(err, "memfd_create");
  if (copy_all(fd, src, err) < 0) {
    close(fd);
    return -1;
  }
  if (fcntl(fd, F_ADD_SEALS, SEALS) < 0) {
    int e = errno;
    close(fd);
    return oci_error_set(err, e, "seal the memfd copy of the binary");
  }
  return fd;
}

/* ---- moving onto the clone without an exec ------------------------------
 *
 * What makes /proc/PID/exe lead to the binary is mm->exe_file, and what
 * keeps a process on it is its mappings of the file. Both can be moved onto
 * the read-only clone in place: every mapping of the binary is replaced by
 * the same range of the clone (the same inode, so the same page cache; the
 * pages we changed, relocations and data, are copied over), then
 * prctl(PR_SET_MM_MAP) points exe_file at the clone. The kernel only lets
 * exe_file change once nothing maps the old path, which is why the
 * mappings go first. Every child forked afterwards inherits both. This
 * saves the exec and dynamic loading of a re-exec (about 2 ms here).
 * PR_SET_MM_MAP wants CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE; without
 * them, or on any failure, the re-exec remains. */

struct exe_map {
  uintptr_t start, end;
  off_t off;
  int prot;
};

/* The file range of our writable PT_LOAD (RELRO and data): the pages a
 * mapping of it holds differ from the file's. */
static void changed_file_range(off_t *lo, off_t *hi) {
  const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
  size_t n = getauxval(AT_PHNUM);
  *lo = *hi = 0;
  for (size_t i = 0; ph && i < n; i++)
    if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W)) {
      *lo = (off_t)(ph[i].p_offset & ~(ElfW(Off))(getpagesize() - 1));
      *hi = (off_t)(ph[i].p_offset + ph[i].p_filesz);
    }
}

/* Our mappings of the file dev:ino, from /proc/self/maps. */
static size_t find_exe_maps(const struct stat *st, struct exe_map *m, size_t cap,
                            oci_error *err) {
  _cleanup_free_ char *text = NULL;
  if (oci_read_file("/proc/self/maps", &text, NULL, err) < 0)
    return 0;
  size_t n = 0;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    unsigned long start, end, off, ino;
    unsigned maj, min;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &start, &end, perms, &off, &maj, &min,
               &ino) != 7 || ino != st->st_ino || makedev(maj, min) != st->st_dev)
      continue;
    if (n == cap) {
      oci_error_setx(err, E2BIG, "more than %zu mappings of the binary", cap);
      return 0;
    }
    m[n++] = (struct exe_map){
        .start = start, .end = end, .off = (off_t)off,
        .prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                (perms[2] == 'x' ? PROT_EXEC : 0)};
  }
  if (n == 0)
    oci_error_setx(err, ENOENT, "no mapping of the binary in /proc/self/maps");
  return n;
}

#if defined(__SANITIZE_ADDRESS__)
#define OCI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OCI_ASAN 1
#endif
#endif

/* The binary's data mapping holds globals that an ASan build (check-asan)
 * surrounds with poisoned redzones: a memcpy of the whole mapping is a
 * read past each of them to ASan. There the copy goes word by word,
 * uninstrumented (volatile, so the compiler cannot turn it back into a
 * memcpy call, which ASan intercepts). */
#ifdef OCI_ASAN
__attribute__((no_sanitize("address"))) static void copy_mapping(void *dst, const void *src,
                                                                  size_t len) {
  volatile unsigned long *d = dst;
  const volatile unsigned long *s = src;
  for (size_t i = 0; i < len / sizeof(*d); i++)
    d[i] = s[i];
}
#else
#define copy_mapping memcpy
#endif

/* Replace one mapping by the same range of `file`, atomically (mremap over
 * it): the GOT may be in it, and we call through the GOT all along. */
static int move_map(const struct exe_map *m, int file, bool copy, oci_error *err) {
  size_t len = m->end - m->start;
  void *tmp = mmap(NULL, len, copy ? PROT_READ | PROT_WRITE : m->prot, MAP_PRIVATE, file, m->off);
  if (tmp == MAP_FAILED)
    return oci_error_errno(err, "map the clone");
  if (copy) {
    copy_mapping(tmp, (const void *)m->start, len); /* page-sized, whole words */
    if (mprotect(tmp, len, m->prot) < 0) {
      munmap(tmp, len);
      return oci_error_errno(err, "mprotect");
    }
  }
  if (mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)m->start) == MAP_FAILED) {
    munmap(tmp, len);
    return oci_error_errno(err, "mremap onto the binary's mapping");
  }
  return 0;
}

/* PR_SET_MM_MAP rewrites the whole layout: hand it back what it is. */
static int set_exe_file(int file, oci_error *err) {
  unsigned long long f[52] = {0};
  int k = oci_proc_stat_read(AT_FDCWD, "/proc/self/stat", NULL, f, 52);
  if (k < 51)
    return oci_error_setx(err, EINVAL, "/proc/self/stat: %d fields, want 51", k);
  struct prctl_mm_map map = {
      .start_code = f[26], .end_code = f[27], .start_stack = f[28], .start_data = f[45],
      .end_data = f[46], .start_brk = f[47], .brk = (uint64_t)syscall(SYS_brk, 0),
      .arg_start = f[48], .arg_end = f[49], .env_start = f[50], .env_end = f[51],
      .exe_fd = (uint32_t)file};
  if (prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof(map), 0) < 0)
    return oci_error_errno(err, "prctl(PR_SET_MM_MAP)");
  return 0;
}

static int move_onto_clone(int clone, oci_error *err) {
  char path[32];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", clone);
  _cleanup_close_ int file = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (file < 0 || fstat(file, &st) < 0)
    return oci_error_errno(err, "open the clone");
  struct exe_map maps[16];
  size_t n = find_exe_maps(&st, maps, OCI_ARRAY_SIZE(maps), err);
  if (n == 0)
    return -1;
  off_t lo, hi;
  changed_file_range(&lo, &hi);
  /* Nothing of ours may run between a copy and its mremap. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    off_t end = maps[i].off + (off_t)(maps[i].end - maps[i].start);
    bool changed = maps[i].prot != PROT_NONE && maps[i].off < hi && end > lo;
    r = move_map(&maps[i], file, changed, err);
  }
  if (r == 0)
    r = set_exe_file(file, err);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}

/* Our own argv, as the kernel keeps it. */
static char **read_cmdline(oci_error *err) {
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (oci_read_file("/proc/self/cmdline", &buf, &len, err) < 0)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\0';
  char **argv = oci_xmalloc0((n + 1) * sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < len && k < n; i += strlen(buf + i) + 1)
    argv[k++] = oci_xstrdup(buf + i);
  return argv;
}

/* execveat(fd, "") names the process after the fd ("3"): give ps and
 * pgrep back the name argv[0] had. */
static void restore_name(void) {
  char buf[256] = "";
  _cleanup_close_ int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
    return;
  const char *slash = strrchr(buf, '/');
  prctl(PR_SET_NAME, slash ? slash + 1 : buf, 0, 0, 0);
}

/* Build-time switches to measure the cost and to check that the tests of
 * this protection can fail: -DOCIRUN_SELFEXE_OFF, -DOCIRUN_SELFEXE_MEMFD. */
int oci_selfexe_protect(oci_error *err) {
#ifdef OCIRUN_SELFEXE_OFF
  (void)err;
  return 0;
#endif
  bool reexecuted = getenv(REEXEC_MARK) != NULL;
  unsetenv(REEXEC_MARK);
  if (reexecuted)
    restore_name();
  if (oci_selfexe_is_protected())
    return 0;
  if (reexecuted)
    return oci_error_setx(err, EPERM, "runtime binary: still writable after re-executing "
                                      "from a protected copy");
  oci_error why;
#ifdef OCIRUN_SELFEXE_MEMFD
  int fd = ((void)readonly_clone, oci_error_setx(&why, ENOTSUP, "built with OCIRUN_SELFEXE_MEMFD"));
#else
  int fd = readonly_clone(&why);
#endif
  if (fd >= 0) {
    oci_error how = {0};
    if (move_onto_clone(fd, &how) == 0 && oci_selfexe_is_protected()) {
      close(fd);
      return 0;
    }
    oci_debug("runtime binary: moving onto its read-only clone: %s; re-executing",
              how.errnum ? how.msg : "still writable");
  } else {
    oci_debug("runtime binary: %s; using a sealed memfd copy", why.msg);
    fd = sealed_copy(err);
  }
  if (fd < 0)
    return oci_error_wrap(err, "protect the runtime binary");
  _cleanup_strv_ char **argv = read_cmdline(err);
  if (argv == NULL || argv[0] == NULL) {
    close(fd);
    return argv ? oci_error_setx(err, EINVAL, "/proc/self/cmdline is empty") : -1;
  }
  setenv(REEXEC_MARK, "1", 1);
  syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  int e = errno;
  unsetenv(REEXEC_MARK);
  close(fd);
  return oci_error_set(err, e, "protect the runtime binary: re-execute it");
}
