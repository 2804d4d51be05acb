/* ocirun — cgroup helpers with no driver knowledge: parsing
 * /proc/self/cgroup, path resolution, value conversions, and reading and
 * writing cgroup files. Pure functions here are covered by test_cgroup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "ocirun/utils.h"

/* ---- /proc/self/cgroup ---------------------------------------------- */

void oci_cg_proc_entries_free(struct cg_proc_entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(e[i].controllers);
    free(e[i].path);
  }
  free(e);
}

/* "ID:CONTROLLERS:PATH" — the path may itself contain ':'. */
static int parse_proc_line(char *line, struct cg_proc_entry *e) {
  char *c1 = strchr(line, ':');
  if (c1 == NULL)
    return -1;
  char *c2 = strchr(c1 + 1, ':');
  if (c2 == NULL)
    return -1;
  *c1 = *c2 = '\0';
  long id;
  if (oci_parse_long(line, &id) < 0 || id < 0 || c2[1] != '/')
    return -1;
  e->id = (int)id;
  e->controllers = oci_xstrdup(c1 + 1);
  e->path = oci_xstrdup(c2 + 1);
  return 0;
}

int oci_cg_parse_proc_cgroup(const char *text, struct cg_proc_entry **out, size_t *n,
                             oci_error *err) {
  _cleanup_free_ char *copy = oci_xstrdup(text);
  struct cg_proc_entry *v = NULL;
  size_t count = 0;
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    struct cg_proc_entry e = {0};
    _cleanup_free_ char *orig = oci_xstrdup(line);
    if (parse_proc_line(line, &e) < 0) {
      oci_cg_proc_entries_free(v, count);
      return oci_error_setx(err, EINVAL, "/proc/self/cgroup: cannot parse line \"%s\"", orig);
    }
    v = oci_xrealloc(v, (count + 1) * sizeof(*v));
    v[count++] = e;
  }
  *out = v;
  *n = count;
  return 0;
}

/* ---- paths ------------------------------------------------------------ */

char *oci_cg_clean_path(const char *path) {
  size_t len = strlen(path);
  char *out = oci_xmalloc0(len + 2);
  size_t o = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    const char *end = strchrnul(p, '/');
    size_t seg = (size_t)(end - p);
    if (seg == 0 || (seg == 1 && p[0] == '.')) {
      /* empty or "." */
    } else if (seg == 2 && p[0] == '.' && p[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--; /* drop the '/' too; never climbs above the root */
    } else {
      out[o++] = '/';
      memcpy(out + o, p, seg);
      o += seg;
    }
    p = end;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

char *oci_cg_resolve_path(const char *own, const char *cgroups_path, const char *id) {
  if (cgroups_path == NULL || cgroups_path[0] == '\0') {
    /* Named after the id alone, as runc 1.1 names it: engines and scripts
     * find a container's cgroup by its id. Ids are validated (no '/', no
     * "..") before they get here. */
    _cleanup_free_ char *j = oci_xasprintf("%s/%s", own, id);
    return oci_cg_clean_path(j);
  }
  if (cgroups_path[0] == '/')
    return oci_cg_clean_path(cgroups_path);
  /* Clean the relative part on its own so ".." stops at the caller's group. */
  _cleanup_free_ char *rooted = oci_xasprintf("/%s", cgroups_path);
  _cleanup_free_ char *rel = oci_cg_clean_path(rooted);
  _cleanup_free_ char *j = oci_xasprintf("%s%s", own, rel);
  return oci_cg_clean_path(j);
}

/* ---- conversions (runc's documented formulas) ----------------------- */

/* Map v in [lo, hi] (clamped) linearly onto the v2 weight range [1, 10000];
 * 0 stays 0 ("not set"). */
static uint64_t to_v2_weight(uint64_t v, uint64_t lo, uint64_t hi) {
  if (v == 0)
    return 0;
  v = v < lo ? lo : v > hi ? hi : v;
  return 1 + (v - lo) * 9999 / (hi - lo);
}

uint64_t oci_cg_shares_to_weight(uint64_t shares) {
  return to_v2_weight(shares, 2, 262144);
}

uint64_t oci_cg_blkio_to_io_weight(uint64_t weight) {
  return to_v2_weight(weight, 10, 1000);
}

int oci_cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, oci_error *err) {
  if (swap == -1) {
    *out = -1;
    return 0;
  }
  if (limit <= 0)
    return oci_error_setx(err, EINVAL,
                         "linux.resources.memory.swap: cannot set swap without a memory limit");
  if (swap < limit)
    return oci_error_setx(err, EINVAL,
                         "linux.resources.memory.swap: %" PRId64
                         " is below memory.limit %" PRId64 " (swap counts memory+swap)",
                         swap, limit);
  *out = swap - limit;
  return 0;
}

/* ---- files ------------------------------------------------------------ */

int oci_cg_write(const char *dir, const char *file, const char *what, const char *value,
                 oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", dir, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || oci_write_all(fd, value, strlen(value)) < 0)
    return oci_error_errno(err, "%s: write \"%s\" to %s", what, value, file);
  return 0;
}

int oci_cg_write_fmt(const char *dir, const char *file, const char *what, oci_error *err,
                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *value = NULL;
  int r = vasprintf(&value, fmt, ap);
  va_end(ap);
  if (r < 0)
    abort();
  r = oci_cg_write(dir, file, what, value, err);
  free(value);
  return r;
}

int oci_cg_read(const char *dir, const char *file, char **out, oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", dir, file);
  size_t len = 0;
  if (oci_read_file(path, out, &len, err) < 0)
    return -1;
  while (len > 0 && (*out)[len - 1] == '\n')
    (*out)[--len] = '\0';
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  if (strncmp(s, "max", 3) == 0) {
    *out = UINT64_MAX;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s)
    return -1;
  *out = v;
  return 0;
}

int oci_cg_read_u64(const char *dir, const char *file, uint64_t *out) {
  _cleanup_free_ char *s = NULL;
  if (oci_cg_read(dir, file, &s, NULL) < 0)
    return -1;
  return parse_u64(s, out);
}

int oci_cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out) {
  _cleanup_free_ char *s = NULL;
  if (oci_cg_read(dir, file, &s, NULL) < 0)
    return -1;
  size_t klen = strlen(key);
  for (char *line = s; line != NULL;) {
    char *nl = strchr(line, '\n');
    if (nl != NULL)
      *nl = '\0';
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
      return parse_u64(line + klen + 1, out);
    line = nl ? nl + 1 : NULL;
  }
  return -1;
}

bool oci_cg_file_exists(const char *dir, const char *file) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

void oci_cg_sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* ---- walking a cgroup tree ------------------------------------------ */

static void append_pids(const char *text, pid_t **pids, size_t *n) {
  for (const char *p = text; *p;) {
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    if (v > 0) {
      *pids = oci_xrealloc(*pids, (*n + 1) * sizeof(pid_t));
      (*pids)[(*n)++] = (pid_t)v;
    }
    p = end;
    while (*p == '\n' || *p == ' ')
      p++;
  }
}

typedef int (*cg_visit_fn)(const char *dir, void *data, oci_error *err);

/* Visit dir and every sub-cgroup below it, parents first or children first
 * (rmdir needs the latter). A directory that vanished meanwhile is skipped. */
static int walk_tree(const char *dir, bool children_first, cg_visit_fn visit, void *data,
                     int depth, oci_error *err) {
  if (!children_first && visit(dir, data, err) < 0)
    return -1;
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : oci_error_errno(err, "open \"%s\"", dir);
  struct dirent *de;
  int ret = 0;
  while (ret == 0 && depth < 64 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *sub = oci_xasprintf("%s/%s", dir, de->d_name);
    ret = walk_tree(sub, children_first, visit, data, depth + 1, err);
  }
  closedir(d);
  if (ret == 0 && children_first)
    ret = visit(dir, data, err);
  return ret;
}

struct pid_list {
  const char *top;
  pid_t *v;
  size_t n;
};

static int collect_pids(const char *dir, void *data, oci_error *err) {
  struct pid_list *l = data;
  _cleanup_free_ char *text = NULL;
  oci_error e;
  if (oci_cg_read(dir, "cgroup.procs", &text, &e) < 0) {
    if (e.errnum == ENOENT && dir != l->top)
      return 0; /* a sub-cgroup went away while we looked */
    *err = e;
    return -1;
  }
  append_pids(text, &l->v, &l->n);
  return 0;
}

int oci_cg_read_pids(const char *dir, pid_t **pids, size_t *n, oci_error *err) {
  struct pid_list l = {.top = dir};
  if (walk_tree(dir, false, collect_pids, &l, 0, err) < 0) {
    free(l.v);
    return -1;
  }
  *pids = l.v;
  *n = l.n;
  return 0;
}

/* Retries EBUSY: a task that just exited can hold the group for a moment. */
static int rmdir_retry(const char *dir, void *data, oci_error *err) {
  (void)data;
  for (unsigned i = 0, ms = 1;; i++, ms = ms < 64 ? ms * 2 : ms) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY || i >= 40)
      return oci_error_errno(err, "rmdir \"%s\"", dir);
    oci_cg_sleep_ms(ms);
  }
}

int oci_cg_rmdir_tree(const char *dir, oci_error *err) {
  /* Usually an empty leaf: one rmdir, no directory walk. */
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  return walk_tree(dir, true, rmdir_retry, NULL, 0, err);
}

/* ---- device rules ----------------------------------------------------- */

/* The devices every container may use, as runc allows them: mknod of any
 * node, and null zero full random urandom tty ptmx and /dev/pts/N. */
void oci_cg_device_defaults(struct oci_device_rule **rules, size_t *n) {
  static const struct { char type; int64_t major, minor; const char *access; } defs[] = {
      {'c', -1, -1, "m"}, {'b', -1, -1, "m"},  {'c', 1, 3, "rwm"},  {'c', 1, 5, "rwm"},
      {'c', 1, 7, "rwm"}, {'c', 1, 8, "rwm"},  {'c', 1, 9, "rwm"},  {'c', 5, 0, "rwm"},
      {'c', 5, 2, "rwm"}, {'c', 136, -1, "rwm"},
  };
  size_t count = OCI_ARRAY_SIZE(defs);
  struct oci_device_rule *v = oci_xmalloc0(count * sizeof(*v));
  for (size_t i = 0; i < count; i++) {
    v[i].allow = true;
    v[i].type = defs[i].type;
    v[i].major = (oci_opt_i64){defs[i].major >= 0, defs[i].major};
    v[i].minor = (oci_opt_i64){defs[i].minor >= 0, defs[i].minor};
    v[i].access = oci_xstrdup(defs[i].access);
  }
  *rules = v;
  *n = count;
}
