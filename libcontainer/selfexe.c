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
 * So create/run/exec first re-execute the runtime from a file that cannot
 * be written:
 *   1. a detached read-only bind mount of the binary (open_tree
 *      OPEN_TREE_CLONE + mount_setattr MOUNT_ATTR_RDONLY): no copy, only the
 *      cost of one execve; the mount is in no namespace, so nobody can
 *      remount it read-write, and it dissolves when the last user exits;
 *   2. without CAP_SYS_ADMIN (rootless): a sealed memfd copy
 *      (F_SEAL_SEAL|SHRINK|GROW|WRITE).
 * A binary already on a read-only mount or in a sealed memfd is left alone.
 *
 * Cost (1 MB binary, loaded 4-CPU VM, 100 interleaved runs each, medians):
 * `ocirun run` of /bin/true 32 ms unprotected, 35 ms with the read-only
 * clone, 42 ms with the memfd copy; a run that fails at once (pure
 * re-exec cost) 8.8 / 11.5 / 21.4 ms, best case 3.6 / 4.6 / 7.2 ms. The
 * clone costs about one execve (~1 ms); the copy also pays for 1 MB of
 * memory per running ocirun process, hence the clone first.
 * The arguments come back from /proc/self/cmdline, so no caller has to hand
 * argv down to the library. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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
  if (fd < 0) {
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
