/* ocirun — container state on disk: <root>/<id>/{state.json,exec.fifo}.
 *
 * state.json is written atomically (write + rename) and only records facts;
 * the status is always derived from the live system (oci_state_status), so
 * a crashed runtime can never leave a lie behind. It carries the config as
 * it was at create too, and the per-container lock is a flock on the
 * directory itself: every file made in the state dir is an inode to
 * allocate and free, which costs ~0.2 ms each on ext4 (docs/performance.md). */
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "config-json.h"
#include "internal.h"
#include "ocirun/cgroup.h"

static const char *state_root(const struct oci_context *ctx) {
  return ctx->state_root ? ctx->state_root : OCI_DEFAULT_STATE_ROOT;
}

char *oci_now_rfc3339(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
  return oci_xstrdup(buf);
}

bool oci_pid_alive(pid_t pid, unsigned long long start) {
  if (pid <= 0)
    return false;
  char path[64], state;
  unsigned long long f[23];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  /* One read for both: the state, and the start time against pid reuse. */
  if (oci_proc_stat_read(AT_FDCWD, path, &state, f, 23) < 22 || state == 'Z' || state == 'X')
    return false; /* gone, or a zombie: finished running */
  return start == 0 || f[22] == start;
}

bool oci_state_init_alive(const struct oci_state *st) {
  return oci_pid_alive(st->pid, st->pid_start);
}

const char *oci_state_status(const struct oci_state *st) {
  if (!oci_state_init_alive(st))
    return "stopped";
  _cleanup_free_ char *fifo = oci_xasprintf("%s/exec.fifo", st->dir);
  if (access(fifo, F_OK) == 0)
    return "created";
  if (st->cgroup != NULL) {
    struct oci_cgroup *cg = NULL;
    oci_error e;
    bool frozen = false;
    if (oci_cgroup_load(st->cgroup, &cg, &e) == 0) {
      if (oci_cgroup_is_frozen(cg, &frozen, &e) < 0)
        frozen = false;
      oci_cgroup_free(cg);
    }
    if (frozen)
      return "paused";
  }
  return "running";
}

void oci_state_free(struct oci_state *st) {
  if (st == NULL)
    return;
  free(st->dir);
  free(st->id);
  free(st->bundle);
  free(st->rootfs);
  free(st->created);
  free(st->owner);
  free(st->cgroup);
  free(st->config_json);
  oci_config_free(st->config);
  free(st);
}

int oci_state_dir_create(const struct oci_context *ctx, const char *id, char **dir,
                         oci_error *err) {
  const char *root = state_root(ctx);
  if (oci_mkdir_p(root, 0700, err) < 0)
    return oci_error_wrap(err, "state root");
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", root, id);
  if (mkdir(path, 0700) < 0) {
    if (errno == EEXIST)
      return oci_error_setx(err, EEXIST, "container \"%s\" already exists", id);
    return oci_error_errno(err, "mkdir \"%s\"", path);
  }
  *dir = OCI_STEAL(path);
  return 0;
}

bool oci_state_dir_exists(const struct oci_context *ctx, const char *id) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", state_root(ctx), id);
  return access(path, F_OK) == 0;
}

int oci_state_dir_remove_by_id(const struct oci_context *ctx, const char *id, oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", state_root(ctx), id);
  return oci_state_dir_remove(path, err);
}

#define CGROUP_RECORD "cgroup.json"

int oci_state_save_cgroup_record(const char *dir, const char *saved, oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/" CGROUP_RECORD, dir);
  return oci_write_file_atomic(path, saved, strlen(saved), err);
}

char *oci_state_load_cgroup_record(const struct oci_context *ctx, const char *id) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s/" CGROUP_RECORD, state_root(ctx), id);
  char *text = NULL;
  oci_error ignored;
  return oci_read_file(path, &text, NULL, &ignored) == 0 ? text : NULL;
}

#define INIT_RECORD "init.pid"

int oci_state_save_init_record(const char *dir, pid_t pid, unsigned long long start,
                               oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/" INIT_RECORD, dir);
  char buf[64];
  int n = snprintf(buf, sizeof(buf), "%d %llu\n", (int)pid, start);
  return oci_write_file_atomic(path, buf, (size_t)n, err);
}

bool oci_state_load_init_record(const struct oci_context *ctx, const char *id, pid_t *pid,
                                unsigned long long *start) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s/" INIT_RECORD, state_root(ctx), id);
  _cleanup_free_ char *text = NULL;
  oci_error ignored;
  int p = 0;
  /* A start time of 0 would let any process behind the pid pass. */
  if (oci_read_file(path, &text, NULL, &ignored) < 0 ||
      sscanf(text, "%d %llu", &p, start) != 2 || p <= 0 || *start == 0)
    return false;
  *pid = (pid_t)p;
  return true;
}

int oci_state_lock(const struct oci_context *ctx, const char *id, oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", state_root(ctx), id);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return oci_error_setx(err, ENOENT, "container \"%s\" does not exist", id);
    return oci_error_errno(err, "lock \"%s\"", path);
  }
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) {
      int e = errno;
      close(fd);
      return oci_error_set(err, e, "lock \"%s\"", path);
    }
  }
  return fd;
}

static void gen_annotations(yajl_gen g, const struct oci_config *cfg) {
  j_gen_str(g, "annotations");
  yajl_gen_map_open(g);
  for (size_t i = 0; cfg && i < cfg->n_annotations; i++)
    j_gen_kstr(g, cfg->annotations[i].key, cfg->annotations[i].value);
  yajl_gen_map_close(g);
}

/* The fields `state`, the hooks' state and `list` share, in runc's order.
 * A string `list` does not know is "" (Go's zero value), null elsewhere. */
struct state_head {
  const char *id, *status, *bundle, *rootfs, *created;
  pid_t pid;
};

static void gen_kstr_or_empty(yajl_gen g, const char *key, const char *value, bool empty) {
  j_gen_kstr(g, key, value || !empty ? value : "");
}

static void gen_state_head(yajl_gen g, const struct state_head *h, bool empty_for_null) {
  j_gen_kstr(g, "ociVersion", OCI_SPEC_VERSION);
  gen_kstr_or_empty(g, "id", h->id, empty_for_null);
  j_gen_str(g, "pid");
  yajl_gen_integer(g, h->pid);
  gen_kstr_or_empty(g, "status", h->status, empty_for_null);
  gen_kstr_or_empty(g, "bundle", h->bundle, empty_for_null);
  gen_kstr_or_empty(g, "rootfs", h->rootfs, empty_for_null);
  gen_kstr_or_empty(g, "created", h->created, empty_for_null);
}

char *oci_state_spec_json(const struct oci_state *st, const char *status, bool pretty) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
  yajl_gen_config(g, yajl_gen_indent_string, "  ");
  yajl_gen_map_open(g);
  struct state_head h = {.id = st->id, .status = status, .bundle = st->bundle,
                         .rootfs = st->rootfs, .created = st->created,
                         .pid = strcmp(status, "stopped") == 0 ? 0 : st->pid};
  gen_state_head(g, &h, false);
  j_gen_kstr(g, "owner", st->owner ? st->owner : "");
  gen_annotations(g, st->config);
  yajl_gen_map_close(g);
  return j_gen_finish(g);
}

/* runc's list entry: annotations only when there are some, owner last. */
static void gen_list_entry(yajl_gen g, const struct oci_container_status *s) {
  yajl_gen_map_open(g);
  struct state_head h = {.id = s->id, .status = s->status, .bundle = s->bundle,
                         .rootfs = s->rootfs, .created = s->created, .pid = s->pid};
  gen_state_head(g, &h, true);
  if (s->n_annotations > 0) {
    j_gen_str(g, "annotations");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < s->n_annotations; i++)
      gen_kstr_or_empty(g, s->annotations[i].key, s->annotations[i].value, true);
    yajl_gen_map_close(g);
  }
  gen_kstr_or_empty(g, "owner", s->owner, true);
  yajl_gen_map_close(g);
}

char *oci_container_list_json(const struct oci_container_status *c, size_t n) {
  if (n == 0)
    return oci_xstrdup("null"); /* runc encodes a nil slice */
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_list_entry(g, &c[i]);
  yajl_gen_array_close(g);
  return j_gen_finish(g);
}

static char *state_file_json(const struct oci_state *st) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  j_gen_kstr(g, "id", st->id);
  j_gen_str(g, "pid");
  yajl_gen_integer(g, st->pid);
  j_gen_str(g, "pid_start");
  yajl_gen_integer(g, (long long)st->pid_start);
  j_gen_kstr(g, "bundle", st->bundle);
  j_gen_kstr(g, "rootfs", st->rootfs);
  j_gen_kstr(g, "created", st->created);
  j_gen_kstr(g, "owner", st->owner);
  j_gen_kstr(g, "cgroup", st->cgroup);
  j_gen_str(g, "systemd_cgroup");
  yajl_gen_bool(g, st->systemd_cgroup);
  if (st->config_json)
    j_gen_kstr(g, "config", st->config_json);
  yajl_gen_map_close(g);
  return j_gen_finish(g);
}

int oci_state_save(const struct oci_state *st, oci_error *err) {
  _cleanup_free_ char *json = state_file_json(st);
  _cleanup_free_ char *path = oci_xasprintf("%s/state.json", st->dir);
  return oci_write_file_atomic(path, json, strlen(json), err);
}

static char *tree_str(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  return v ? oci_xstrdup(YAJL_GET_STRING(v)) : NULL;
}

static long long tree_int(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_number);
  return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

enum field_kind { FIELD_STRING, FIELD_STRING_OR_NULL, FIELD_POSITIVE_INT, FIELD_BOOL };

struct state_field {
  const char *key;
  enum field_kind kind;
};

/* Every field state_file_json() writes. A pid_start of 0 would make any
 * process behind the pid pass for the init (oci_pid_alive), so it must be
 * there too. */
static const struct state_field state_fields[] = {
    {"id", FIELD_STRING},          {"pid", FIELD_POSITIVE_INT},
    {"pid_start", FIELD_POSITIVE_INT}, {"bundle", FIELD_STRING},
    {"rootfs", FIELD_STRING},      {"created", FIELD_STRING},
    {"owner", FIELD_STRING_OR_NULL}, {"cgroup", FIELD_STRING_OR_NULL},
    {"systemd_cgroup", FIELD_BOOL}, {"config", FIELD_STRING},
};

static const char *field_kind_name(enum field_kind k) {
  switch (k) {
  case FIELD_STRING: return "a string";
  case FIELD_STRING_OR_NULL: return "a string or null";
  case FIELD_POSITIVE_INT: return "a positive integer";
  default: return "a boolean";
  }
}

static bool field_has_kind(yajl_val v, enum field_kind k) {
  switch (k) {
  case FIELD_STRING: return YAJL_IS_STRING(v);
  case FIELD_STRING_OR_NULL: return YAJL_IS_STRING(v) || YAJL_IS_NULL(v);
  case FIELD_POSITIVE_INT: return YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0;
  default: return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
  }
}

/* A damaged file is refused as a whole rather than read as zeros and
 * NULLs: a pid of 0 or a missing cgroup would make delete think the
 * container stopped and leave it running. EUCLEAN tells callers (delete
 * --force, list) that the container exists but its state cannot be used. */
static int state_check(const struct oci_state *st, yajl_val root, oci_error *err) {
  if (!YAJL_IS_OBJECT(root))
    return oci_error_setx(err, EUCLEAN, "%s/state.json: not a JSON object", st->dir);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(state_fields); i++) {
    const struct state_field *f = &state_fields[i];
    const char *path[] = {f->key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_any);
    if (v == NULL || !field_has_kind(v, f->kind))
      return oci_error_setx(err, EUCLEAN, "%s/state.json: \"%s\": %s, expected %s", st->dir,
                            f->key, v == NULL ? "missing" : "invalid",
                            field_kind_name(f->kind));
  }
  const char *idp[] = {"id", NULL};
  const char *id = YAJL_GET_STRING(yajl_tree_get(root, idp, yajl_t_string));
  if (id == NULL || strcmp(id, st->id) != 0)
    return oci_error_setx(err, EUCLEAN, "%s/state.json: \"id\": not the directory's id",
                          st->dir);
  return 0;
}

static int state_parse(struct oci_state *st, const char *json, oci_error *err) {
  char ebuf[256] = "";
  yajl_val root = yajl_tree_parse(json, ebuf, sizeof(ebuf));
  if (root == NULL) {
    ebuf[strcspn(ebuf, "\n")] = '\0'; /* yajl adds lines pointing at the spot */
    return oci_error_setx(err, EUCLEAN, "%s/state.json: not valid JSON: %s", st->dir,
                          *json ? ebuf : "empty file");
  }
  if (state_check(st, root, err) < 0) {
    yajl_tree_free(root);
    return -1;
  }
  st->pid = (pid_t)tree_int(root, "pid");
  st->pid_start = (unsigned long long)tree_int(root, "pid_start");
  st->bundle = tree_str(root, "bundle");
  st->rootfs = tree_str(root, "rootfs");
  st->created = tree_str(root, "created");
  st->owner = tree_str(root, "owner");
  st->cgroup = tree_str(root, "cgroup");
  st->config_json = tree_str(root, "config");
  const char *path[] = {"systemd_cgroup", NULL};
  st->systemd_cgroup = YAJL_IS_TRUE(yajl_tree_get(root, path, yajl_t_true));
  yajl_tree_free(root);
  return 0;
}

/* Here rather than in container.c: an id names a state directory, and
 * state.c must not depend on the code that drives containers. */
int oci_container_id_validate(const char *id, oci_error *err) {
  if (id == NULL || *id == '\0')
    return oci_error_setx(err, EINVAL, "container id cannot be empty");
  if (strlen(id) > OCI_CONTAINER_ID_MAX)
    return oci_error_setx(err, EINVAL, "container id \"%.32s...\" is longer than %d characters",
                         id, OCI_CONTAINER_ID_MAX);
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return oci_error_setx(err, EINVAL, "invalid container ID \"%s\": it must not be '.' or '..'", id);
  if (strchr(id, '/') != NULL)
    return oci_error_setx(err, EINVAL, "invalid container ID \"%s\": invalid character '/'", id);
  for (const char *p = id; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return oci_error_setx(err, EINVAL, "invalid container ID \"%s\": invalid character \\x%02x",
                            id, (unsigned char)*p);
  return 0;
}

/* A new container's id also names its cgroups, systemd unit and state
 * directory, and is typed on command lines: runc's set of characters
 * (letters, digits, '_', '+', ',', '-', '.'), so what runc refuses, such
 * as a space or ':', ocirun refuses too (crun as well). Containers that
 * exist keep answering to the looser rule above. */
int oci_container_id_validate_new(const char *id, oci_error *err) {
  if (oci_container_id_validate(id, err) < 0)
    return -1;
  /* runc takes ".foo"; here it would be a hidden entry of the state root,
   * which list (oci_state_list_ids) skips, so a container nobody sees. */
  if (id[0] == '.')
    return oci_error_setx(err, EINVAL,
                          "invalid container ID \"%s\": it must not start with '.' (list would "
                          "not show it)",
                          id);
  for (const char *p = id; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (isalnum(c) || c == '_' || c == '+' || c == ',' || c == '-' || c == '.')
      continue;
    if (isprint(c))
      return oci_error_setx(err, EINVAL,
                            "invalid container ID \"%s\": invalid character '%c' (letters, "
                            "digits and _ + , - . only, as with runc)",
                            id, c);
    return oci_error_setx(err, EINVAL,
                          "invalid container ID \"%s\": invalid character \\x%02x (letters, "
                          "digits and _ + , - . only, as with runc)",
                          id, c);
  }
  return 0;
}

int oci_state_load(const struct oci_context *ctx, const char *id, struct oci_state **out,
                   oci_error *err) {
  if (oci_container_id_validate(id, err) < 0)
    return -1;
  struct oci_state *st = oci_xmalloc0(sizeof(*st));
  st->id = oci_xstrdup(id);
  st->dir = oci_xasprintf("%s/%s", state_root(ctx), id);
  _cleanup_free_ char *spath = oci_xasprintf("%s/state.json", st->dir);
  _cleanup_free_ char *json = NULL;
  if (oci_read_file(spath, &json, NULL, err) < 0) {
    int e = err->errnum;
    oci_state_free(st);
    if (e == ENOENT)
      return oci_error_setx(err, ENOENT, "container \"%s\" does not exist", id);
    return -1;
  }
  if (state_parse(st, json, err) < 0 ||
      oci_config_parse(st->config_json, strlen(st->config_json), spath, &st->config, err) < 0) {
    oci_state_free(st);
    oci_error_wrap(err, "container \"%s\"", id);
    /* The file is there: whatever is wrong with it, the container exists. */
    err->errnum = EUCLEAN;
    return -1;
  }
  *out = st;
  return 0;
}

static int remove_tree_at(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    DIR *d = fdopendir(fd);
    if (d == NULL) {
      close(fd);
      return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (unlinkat(fd, de->d_name, 0) < 0 && errno == EISDIR)
        remove_tree_at(fd, de->d_name);
    }
    closedir(d);
    return unlinkat(dirfd, name, AT_REMOVEDIR);
  }
  return unlinkat(dirfd, name, 0);
}

int oci_state_dir_remove(const char *dir, oci_error *err) {
  /* A container without a mount namespace: its mounts, in the host's table,
   * go with it. */
  oci_host_rootfs_unbind(dir);
  if (remove_tree_at(AT_FDCWD, dir) < 0 && errno != ENOENT)
    return oci_error_errno(err, "remove \"%s\"", dir);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A container dir without state.json whose lock nobody holds: its create
 * (or delete) died midway. Listed, or nobody would know to delete it. */
static bool dir_abandoned(int rootfd, const char *name) {
  _cleanup_close_ int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0; /* released by the close */
}

int oci_state_list_ids(const struct oci_context *ctx, char ***ids, size_t *n, oci_error *err) {
  *ids = NULL;
  *n = 0;
  DIR *d = opendir(state_root(ctx));
  if (d == NULL) {
    if (errno == ENOENT)
      return 0;
    return oci_error_errno(err, "open \"%s\"", state_root(ctx));
  }
  size_t cap = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    _cleanup_free_ char *sp = oci_xasprintf("%s/%s/state.json", state_root(ctx), de->d_name);
    if (access(sp, F_OK) < 0 && !dir_abandoned(dirfd(d), de->d_name))
      continue; /* being created or deleted */
    if (*n + 2 > cap) {
      cap = cap ? cap * 2 : 8;
      *ids = oci_xrealloc(*ids, cap * sizeof(char *));
    }
    (*ids)[(*n)++] = oci_xstrdup(de->d_name);
    (*ids)[*n] = NULL;
  }
  closedir(d);
  if (*n > 1)
    qsort(*ids, *n, sizeof(char *), cmp_str);
  return 0;
}

/* The name of uid in /etc/passwd ("name:x:uid:..."), or NULL. */
static char *passwd_file_name(uid_t uid) {
  _cleanup_free_ char *text = NULL;
  oci_error ignored;
  if (oci_read_file("/etc/passwd", &text, NULL, &ignored) < 0)
    return NULL;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *name = line, *pw = strchr(name, ':');
    char *id = pw ? strchr(pw + 1, ':') : NULL;
    long v;
    if (id == NULL)
      continue;
    *pw = '\0';
    char *end = strchr(id + 1, ':');
    if (end)
      *end = '\0';
    if (oci_parse_long(id + 1, &v) == 0 && v == (long)uid)
      return oci_xstrdup(name);
  }
  return NULL;
}

/* /etc/passwd first: getpwuid sets up NSS (nsswitch.conf, two nscd socket
 * attempts, its code paged in) for what is nearly always a local user. */
char *oci_state_owner_name(void) {
  uid_t uid = geteuid();
  char *name = passwd_file_name(uid);
  if (name)
    return name;
  struct passwd *pw = getpwuid(uid);
  return pw ? oci_xstrdup(pw->pw_name) : oci_xasprintf("#%d", (int)uid);
}
