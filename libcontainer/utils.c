/* ocirun — small helpers: cleanup, allocation, file I/O, fds. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ocirun/utils.h"

void oci_cleanup_freep(void *p) {
  free(*(void **)p);
}

void oci_cleanup_closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

void oci_cleanup_fclosep(FILE **f) {
  if (*f != NULL)
    fclose(*f);
}

void oci_strv_free(char **v) {
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free(*p);
  free(v);
}

void oci_cleanup_strvp(char ***v) {
  oci_strv_free(*v);
}

void *oci_xmalloc0(size_t size) {
  void *p = calloc(1, size ? size : 1);
  if (p == NULL)
    abort();
  return p;
}

void *oci_xrealloc(void *p, size_t size) {
  void *q = realloc(p, size ? size : 1);
  if (q == NULL)
    abort();
  return q;
}

char *oci_xstrdup(const char *s) {
  if (s == NULL)
    return NULL;
  char *d = strdup(s);
  if (d == NULL)
    abort();
  return d;
}

char *oci_xasprintf(const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (r < 0)
    abort();
  return s;
}

int oci_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

ssize_t oci_read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, p + got, len - got);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

int oci_read_fd(int fd, char **out, size_t *len, oci_error *err) {
  size_t cap = 4096, n = 0;
  char *buf = oci_xmalloc0(cap);
  for (;;) {
    if (n + 1 >= cap) {
      cap *= 2;
      buf = oci_xrealloc(buf, cap);
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      free(buf);
      return oci_error_set(err, e, "read");
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int oci_read_file(const char *path, char **out, size_t *len, oci_error *err) {
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open \"%s\"", path);
  if (oci_read_fd(fd, out, len, err) < 0)
    return oci_error_wrap(err, "\"%s\"", path);
  return 0;
}

static int write_fd_checked(int fd, const char *what, const char *data, size_t len,
                            oci_error *err) {
  if (oci_write_all(fd, data, len) < 0)
    return oci_error_errno(err, "write \"%s\"", what);
  return 0;
}

int oci_write_file(const char *path, const char *data, size_t len, oci_error *err) {
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return oci_error_errno(err, "open \"%s\"", path);
  return write_fd_checked(fd, path, data, len, err);
}

int oci_write_file_at(int dirfd, const char *name, const char *data, size_t len,
                      oci_error *err) {
  _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "open \"%s\"", name);
  return write_fd_checked(fd, name, data, len, err);
}

/* A new file beside path under a name nobody can have planted: a fixed
 * "path.tmp" in a shared directory (/tmp, a pid file's usual home) could
 * be another user's symlink, which root would then write through. O_EXCL
 * refuses any existing name, dangling symlinks included. */
static int open_unique_sibling(const char *path, char **tmp, oci_error *err) {
  for (int attempt = 0; attempt < 16; attempt++) {
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
      r = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (uint64_t)attempt;
    _cleanup_free_ char *name = oci_xasprintf("%s.%016llx.tmp", path, (unsigned long long)r);
    int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      *tmp = OCI_STEAL(name);
      return fd;
    }
    if (errno != EEXIST)
      return oci_error_errno(err, "create \"%s\"", name);
  }
  return oci_error_setx(err, EEXIST, "create a temporary file beside \"%s\": every name was taken",
                        path);
}

int oci_write_file_atomic(const char *path, const char *data, size_t len, oci_error *err) {
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int fd = open_unique_sibling(path, &tmp, err);
  if (fd < 0)
    return -1;
  if (write_fd_checked(fd, tmp, data, len, err) < 0) {
    unlink(tmp);
    return -1;
  }
  /* rename replaces whatever is at path, a symlink too, never its target. */
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return oci_error_set(err, e, "rename \"%s\" to \"%s\"", tmp, path);
  }
  return 0;
}

int oci_mkdir_p(const char *path, mode_t mode, oci_error *err) {
  /* Usually only the last component is missing (a cgroup below an existing
   * parent): one mkdir instead of one per component. */
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return oci_error_errno(err, "mkdir \"%s\"", path);
  _cleanup_free_ char *copy = oci_xstrdup(path);
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
      return oci_error_errno(err, "mkdir \"%s\"", copy);
    *p = '/';
  }
  if (mkdir(copy, mode) < 0 && errno != EEXIST)
    return oci_error_errno(err, "mkdir \"%s\"", copy);
  return 0;
}

int oci_parse_long(const char *s, long *out) {
  if (s == NULL || *s == '\0') {
    errno = EINVAL;
    return -1;
  }
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0)
    return -1;
  if (*end != '\0') {
    errno = EINVAL;
    return -1;
  }
  *out = v;
  return 0;
}

/* "RTMIN", "RTMIN+3", "RTMAX-1" (name without the SIG prefix). The offset
 * is checked before any arithmetic: "RTMIN+4294967296" is no signal. */
static int parse_rt_signal(const char *name) {
  int base, sign;
  if (strncasecmp(name, "RTMIN", 5) == 0) {
    base = SIGRTMIN;
    sign = 1;
  } else if (strncasecmp(name, "RTMAX", 5) == 0) {
    base = SIGRTMAX;
    sign = -1;
  } else {
    return -1;
  }
  if (name[5] == '\0')
    return base;
  long off;
  if (name[5] != (sign > 0 ? '+' : '-') || !isdigit((unsigned char)name[6]) ||
      oci_parse_long(name + 6, &off) < 0 || off > SIGRTMAX - SIGRTMIN)
    return -1;
  return base + sign * (int)off;
}

int oci_parse_signal(const char *s) {
  long n;
  if (oci_parse_long(s, &n) == 0)
    return n >= 0 && n < NSIG ? (int)n : -1;  /* 0: only checks the process exists */
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (int sig = 1; sig < NSIG; sig++) {
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev && strcasecmp(abbrev, name) == 0)
      return sig;
  }
  return parse_rt_signal(name);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Fallback for kernels without close_range(2): walk /proc/self/fd. */
static int close_fds_walk(int first, bool cloexec, oci_error *err) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return oci_error_errno(err, "open /proc/self/fd");
  int self = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    long fd;
    if (oci_parse_long(de->d_name, &fd) < 0 || fd < first || fd == self)
      continue;
    if (cloexec)
      fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    else
      close((int)fd);
  }
  closedir(d);
  return 0;
}

/* Which signals /proc/self/status says are ignored (SigIgn, hex); all of
 * them when it cannot be read. No allocation: callers may be forked
 * children. */
static uint64_t ignored_signals(void) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (fd >= 0)
    close(fd);
  if (n <= 0)
    return ~0ULL;
  buf[n] = '\0';
  const char *p = strstr(buf, "\nSigIgn:\t");
  if (p == NULL)
    return ~0ULL;
  uint64_t mask = 0;
  int digits = 0;
  for (p += 9; *p && *p != '\n'; p++, digits++) {
    int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
    if (d < 0)
      return ~0ULL;
    mask = mask << 4 | (uint64_t)d;
  }
  return digits == 16 ? mask : ~0ULL;
}

void oci_reset_signals_for_exec(void) {
  uint64_t ignored = ignored_signals();
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP && (s > 64 || ((ignored >> (s - 1)) & 1)))
      signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int oci_close_fds_from(int first, bool cloexec, oci_error *err) {
  unsigned flags = cloexec ? CLOSE_RANGE_CLOEXEC : 0;
  if (syscall(SYS_close_range, (unsigned)first, ~0U, flags) == 0)
    return 0;
  return close_fds_walk(first, cloexec, err);
}

int oci_proc_stat_read(int dirfd, const char *path, char *state, unsigned long long *f,
                       int max) {
  char buf[1024];
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : oci_read_all(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and ')': fields start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
    return 0;
  if (state)
    *state = p[2];
  int k = 3;
  char *save = NULL;
  for (char *t = strtok_r(p + 4, " \n", &save); t && k + 1 < max;
       t = strtok_r(NULL, " \n", &save))
    f[++k] = strtoull(t, NULL, 10);
  return k;
}

unsigned long long oci_pid_start_time(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  unsigned long long f[23];
  return oci_proc_stat_read(AT_FDCWD, path, NULL, f, 23) >= 22 ? f[22] : 0;
}

unsigned long long oci_proc_start_time_at(int proc_dir) {
  unsigned long long f[23];
  return oci_proc_stat_read(proc_dir, "stat", NULL, f, 23) >= 22 ? f[22] : 0;
}

uint64_t oci_monotonic_usec(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

int64_t oci_monotonic_ms(void) {
  return (int64_t)(oci_monotonic_usec() / 1000);
}

/* The initial user namespace maps all of uid space onto itself. */
bool oci_in_initial_userns(void) {
  static int cached = -1; /* read once: asked per device node */
  if (cached >= 0)
    return cached;
  _cleanup_free_ char *map = NULL;
  oci_error ignored;
  if (oci_read_file("/proc/self/uid_map", &map, NULL, &ignored) < 0)
    return true;
  unsigned long a, b, n;
  cached = sscanf(map, "%lu %lu %lu", &a, &b, &n) == 3 && a == 0 && b == 0 &&
           n == 4294967295UL && strchr(map, '\n') == map + strlen(map) - 1;
  return cached;
}

bool oci_is_rootless(void) {
  if (geteuid() != 0)
    return true;
  if (oci_in_initial_userns())
    return false;
  const char *user = getenv("USER");
  return user == NULL || strcmp(user, "root") != 0;
}
