/* ocirun — small helpers: cleanup, allocation, file I/O, fds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

int oci_write_file_atomic(const char *path, const char *data, size_t len, oci_error *err) {
  _cleanup_free_ char *tmp = oci_xasprintf("%s.tmp", path);
  if (oci_write_file(tmp, data, len, err) < 0)
    return -1;
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return oci_error_set(err, e, "rename \"%s\" to \"%s\"", tmp, path);
  }
  return 0;
}

int oci_mkdir_p(const char *path, mode_t mode, oci_error *err) {
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

int oci_close_fds_from(int first, bool cloexec, oci_error *err) {
  unsigned flags = cloexec ? CLOSE_RANGE_CLOEXEC : 0;
  if (syscall(SYS_close_range, (unsigned)first, ~0U, flags) == 0)
    return 0;
  return close_fds_walk(first, cloexec, err);
}

unsigned long long oci_pid_start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = oci_read_all(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and ')': fields start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return 0;
  p += 2; /* now at field 3 (state) */
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p)
      p++;
  }
  if (p == NULL)
    return 0;
  return strtoull(p, NULL, 10);
}
