/* ocirun — config.json (runtime-spec config.md + config-linux.md) into
 * struct oci_config.
 *
 * The grammar lives here; config-json.c does the typed reads. Types, required
 * fields and closed enums are checked as the spec's schema says, every error
 * names the JSON field ("config.json: linux.namespaces[2].type: ..."), and
 * unknown fields are ignored so configs written for a newer spec still load.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config-json.h"
#include "ocirun/config.h"
#include "ocirun/utils.h"
#include "sched.h"

/* ---------- names ---------- */

static const char *const ns_names[OCI_NS_COUNT] = {
  [OCI_NS_PID] = "pid",     [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
  [OCI_NS_IPC] = "ipc",     [OCI_NS_UTS] = "uts",         [OCI_NS_USER] = "user",
  [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

const char *oci_ns_type_name(enum oci_ns_type t) {
  if ((unsigned)t >= OCI_NS_COUNT)
    return NULL;
  return ns_names[t];
}

int oci_ns_type_from_name(const char *name) {
  for (int i = 0; name != NULL && i < OCI_NS_COUNT; i++)
    if (strcmp(ns_names[i], name) == 0)
      return i;
  return -1;
}

static const struct {
  const char *name;
  int resource;
} rlimits[] = {
  {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
  {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
  {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
  {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
  {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

int oci_rlimit_from_name(const char *name) {
  for (size_t i = 0; name != NULL && i < OCI_ARRAY_SIZE(rlimits); i++)
    if (strcmp(rlimits[i].name, name) == 0)
      return rlimits[i].resource;
  return -1;
}

static bool in_set(const char *s, const char *const *set) {
  for (; *set != NULL; set++)
    if (strcmp(s, *set) == 0)
      return true;
  return false;
}

/* A string member that must be one of a closed set of values. */
static int j_enum(struct jctx *c, yajl_val obj, const char *base, const char *key,
                  bool required, const char *const *set, const char *what, char **out) {
  char p[OCI_JPATH_MAX];
  j_path_key(p, base, key);
  yajl_val v = j_get(obj, key);
  if (v == NULL)
    return required ? j_fail(c, p, "required field is missing") : 0;
  if (j_string(c, v, p, out) < 0)
    return -1;
  if (!in_set(*out, set))
    return j_fail(c, p, "unknown %s \"%s\"", what, *out);
  return 0;
}

/* A string array member (already read) whose every element is one of a
 * closed set of values. */
static int strv_in_set(struct jctx *c, const char *base, const char *key, char **v, size_t n,
                       const char *const *set, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (!in_set(v[i], set)) {
      char k[OCI_JPATH_MAX], p[OCI_JPATH_MAX];
      j_path_key(k, base, key);
      j_path_idx(p, k, i);
      return j_fail(c, p, "unknown %s \"%s\"", what, v[i]);
    }
  return 0;
}

/* A string member (already read) that, when present and not empty, must be
 * a list of indexes below nbits ("0-3,7"). */
static int check_index_list(struct jctx *c, const char *base, const char *key, const char *s,
                            size_t nbits, const char *what) {
  if (s == NULL || *s == '\0')
    return 0;
  _cleanup_free_ unsigned long *bits = oci_xmalloc0(nbits / 8 + sizeof(unsigned long));
  if (oci_parse_index_list(s, bits, nbits) == 0)
    return 0;
  char p[OCI_JPATH_MAX];
  j_path_key(p, base, key);
  return j_fail(c, p, "invalid %s list \"%s\" (expected a form like \"0-3,7\")", what, s);
}

/* A string member (already read, so present) that must not be "". */
static int require_nonempty(struct jctx *c, const char *base, const char *key, const char *s) {
  if (*s != '\0')
    return 0;
  char p[OCI_JPATH_MAX];
  j_path_key(p, base, key);
  return j_fail(c, p, "must not be empty");
}

/* A path member (already read) that must be absolute. */
static int require_absolute(struct jctx *c, const char *base, const char *key, const char *s) {
  if (s[0] == '/')
    return 0;
  char p[OCI_JPATH_MAX];
  j_path_key(p, base, key);
  return j_fail(c, p, "must be an absolute path, got \"%s\"", s);
}

/* ---------- shared pieces ---------- */

static const struct jfield idmap_fields[] = {
  JFR(struct oci_id_mapping, "containerID", J_U32, container_id),
  JFR(struct oci_id_mapping, "hostID", J_U32, host_id),
  JFR(struct oci_id_mapping, "size", J_U32, size),
};

static int parse_idmap(struct jctx *c, yajl_val v, const char *path, void *dst) {
  return J_FIELDS(c, v, path, dst, idmap_fields);
}

/* Parse an optional member holding an array of objects. */
#define OPT_ARRAY(c, obj, base, key, arr, n, fn)                             \
  ({                                                                         \
    char _p[OCI_JPATH_MAX];                                                  \
    j_path_key(_p, base, key);                                               \
    yajl_val _v = j_get(obj, key);                                           \
    _v == NULL ? 0 : J_ARRAY(c, _v, _p, arr, n, fn);                         \
  })

/* Parse an optional member with a parser taking (c, value, path, out). */
#define OPT_MEMBER(c, obj, base, key, fn, ...)                               \
  ({                                                                         \
    char _p[OCI_JPATH_MAX];                                                  \
    j_path_key(_p, base, key);                                               \
    yajl_val _v = j_get(obj, key);                                           \
    _v == NULL ? 0 : fn(c, _v, _p, __VA_ARGS__);                             \
  })

/* ---------- mounts ---------- */

static const struct jfield mount_fields[] = {
  JFR(struct oci_mount, "destination", J_STR, destination),
  JF(struct oci_mount, "source", J_STR, source),
  JF(struct oci_mount, "type", J_STR, type),
  JFV(struct oci_mount, "options", options, n_options),
};

static int parse_mount(struct jctx *c, yajl_val v, const char *path, void *dst) {
  struct oci_mount *m = dst;
  if (J_FIELDS(c, v, path, m, mount_fields) < 0 ||
      require_nonempty(c, path, "destination", m->destination) < 0 ||
      OPT_ARRAY(c, v, path, "uidMappings", m->uid_mappings, m->n_uid_mappings, parse_idmap) < 0 ||
      OPT_ARRAY(c, v, path, "gidMappings", m->gid_mappings, m->n_gid_mappings, parse_idmap) < 0)
    return -1;
  return 0;
}

static void mounts_free(struct oci_mount *m, size_t n) {
  for (size_t i = 0; m != NULL && i < n; i++) {
    J_FIELDS_FREE(&m[i], mount_fields);
    free(m[i].uid_mappings);
    free(m[i].gid_mappings);
  }
  free(m);
}

/* ---------- process ---------- */

static const struct jfield user_fields[] = {
  JFR(struct oci_user, "uid", J_U32, uid),
  JFR(struct oci_user, "gid", J_U32, gid),
  JF(struct oci_user, "umask", J_OU32, umask),
  JF(struct oci_user, "username", J_STR, username),
};

static int parse_gids(struct jctx *c, yajl_val v, const char *path, struct oci_user *u) {
  if (!YAJL_IS_ARRAY(v))
    return j_fail(c, path, "expected an array of unsigned 32-bit integers");
  u->n_additional_gids = v->u.array.len;
  u->additional_gids = oci_xmalloc0((v->u.array.len + 1) * sizeof(uint32_t));
  for (size_t i = 0; i < v->u.array.len; i++) {
    char p[OCI_JPATH_MAX];
    j_path_idx(p, path, i);
    if (j_u32(c, v->u.array.values[i], p, &u->additional_gids[i]) < 0)
      return -1;
  }
  return 0;
}

static int parse_user(struct jctx *c, yajl_val v, const char *path, struct oci_user *u) {
  if (J_FIELDS(c, v, path, u, user_fields) < 0)
    return -1;
  return OPT_MEMBER(c, v, path, "additionalGids", parse_gids, u);
}

static int parse_console_size(struct jctx *c, yajl_val v, const char *path,
                              struct oci_process *p) {
  if (j_expect_object(c, v, path) < 0)
    return -1;
  static const char *const keys[] = {"height", "width"};
  oci_opt_u32 *dst[] = {&p->console_height, &p->console_width};
  for (size_t i = 0; i < 2; i++) {
    char k[OCI_JPATH_MAX];
    j_path_key(k, path, keys[i]);
    yajl_val x = j_get(v, keys[i]);
    if (x == NULL)
      return j_fail(c, k, "required field is missing");
    if (j_u32(c, x, k, &dst[i]->v) < 0)
      return -1;
    dst[i]->set = true;
  }
  return 0;
}

static const struct jfield caps_fields[] = {
  JFV(struct oci_capabilities, "bounding", bounding.names, bounding.n),
  JFV(struct oci_capabilities, "effective", effective.names, effective.n),
  JFV(struct oci_capabilities, "inheritable", inheritable.names, inheritable.n),
  JFV(struct oci_capabilities, "permitted", permitted.names, permitted.n),
  JFV(struct oci_capabilities, "ambient", ambient.names, ambient.n),
};

static int parse_caps(struct jctx *c, yajl_val v, const char *path,
                      struct oci_capabilities **out) {
  struct oci_capabilities *caps = *out = oci_xmalloc0(sizeof(*caps));
  if (J_FIELDS(c, v, path, caps, caps_fields) < 0)
    return -1;
  caps->bounding.present = j_get(v, "bounding") != NULL;
  caps->effective.present = j_get(v, "effective") != NULL;
  caps->inheritable.present = j_get(v, "inheritable") != NULL;
  caps->permitted.present = j_get(v, "permitted") != NULL;
  caps->ambient.present = j_get(v, "ambient") != NULL;
  return 0;
}

static const struct jfield rlimit_fields[] = {
  JFR(struct oci_rlimit, "type", J_STR, type),
  JFR(struct oci_rlimit, "soft", J_U64, soft),
  JFR(struct oci_rlimit, "hard", J_U64, hard),
};

static int parse_rlimit(struct jctx *c, yajl_val v, const char *path, void *dst) {
  struct oci_rlimit *r = dst;
  if (J_FIELDS(c, v, path, r, rlimit_fields) < 0)
    return -1;
  r->resource = oci_rlimit_from_name(r->type);
  if (r->resource < 0) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, "type");
    return j_fail(c, p, "unknown rlimit \"%s\"", r->type);
  }
  return 0;
}

/* config.md: duplicated rlimits types MUST be an error. */
static int check_unique_rlimits(struct jctx *c, const char *path, const struct oci_process *p) {
  for (size_t i = 0; i < p->n_rlimits; i++)
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[i].resource == p->rlimits[j].resource) {
        char e[OCI_JPATH_MAX], k[OCI_JPATH_MAX], t[OCI_JPATH_MAX];
        j_path_key(k, path, "rlimits");
        j_path_idx(e, k, i);
        j_path_key(t, e, "type");
        return j_fail(c, t, "duplicate rlimit \"%s\"", p->rlimits[i].type);
      }
  return 0;
}

static int parse_io_priority(struct jctx *c, yajl_val v, const char *path,
                             struct oci_io_priority **out) {
  static const struct jfield fields[] = {
    JF(struct oci_io_priority, "priority", J_I32, priority),
  };
  struct oci_io_priority *io = *out = oci_xmalloc0(sizeof(*io));
  if (J_FIELDS(c, v, path, io, fields) < 0 ||
      j_enum(c, v, path, "class", true, oci_io_class_names, "I/O priority class", &io->class_) < 0)
    return -1;
  if (io->priority < 0 || io->priority > 7) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, "priority");
    return j_fail(c, p, "must be 0 (highest) to 7 (lowest), got %lld", (long long)io->priority);
  }
  return 0;
}

static const struct jfield sched_fields[] = {
  JF(struct oci_scheduler, "nice", J_OI32, nice),
  JF(struct oci_scheduler, "priority", J_OI32, priority),
  JF(struct oci_scheduler, "runtime", J_OU64, runtime),
  JF(struct oci_scheduler, "deadline", J_OU64, deadline),
  JF(struct oci_scheduler, "period", J_OU64, period),
  JFV(struct oci_scheduler, "flags", flags, n_flags),
};

static int parse_scheduler(struct jctx *c, yajl_val v, const char *path,
                           struct oci_scheduler **out) {
  struct oci_scheduler *s = *out = oci_xmalloc0(sizeof(*s));
  if (J_FIELDS(c, v, path, s, sched_fields) < 0 ||
      strv_in_set(c, path, "flags", s->flags, s->n_flags, oci_sched_flag_names,
                  "scheduler flag") < 0)
    return -1;
  return j_enum(c, v, path, "policy", true, oci_sched_policy_names, "scheduler policy",
                &s->policy);
}

static const struct jfield affinity_fields[] = {
  JF(struct oci_exec_cpu_affinity, "initial", J_STR, initial),
  JF(struct oci_exec_cpu_affinity, "final", J_STR, final),
};

static int parse_exec_cpu_affinity(struct jctx *c, yajl_val v, const char *path,
                                   struct oci_exec_cpu_affinity **out) {
  struct oci_exec_cpu_affinity *a = *out = oci_xmalloc0(sizeof(*a));
  if (J_FIELDS(c, v, path, a, affinity_fields) < 0 ||
      check_index_list(c, path, "initial", a->initial, OCI_MAX_CPUS, "CPU") < 0 ||
      check_index_list(c, path, "final", a->final, OCI_MAX_CPUS, "CPU") < 0)
    return -1;
  return 0;
}

static const struct jfield process_fields[] = {
  JF(struct oci_process, "terminal", J_BOOL, terminal),
  JFV(struct oci_process, "args", args, n_args),
  JF(struct oci_process, "commandLine", J_STR, command_line),
  JFV(struct oci_process, "env", env, n_env),
  JFR(struct oci_process, "cwd", J_STR, cwd),
  JF(struct oci_process, "noNewPrivileges", J_BOOL, no_new_privileges),
  JF(struct oci_process, "apparmorProfile", J_STR, apparmor_profile),
  JF(struct oci_process, "oomScoreAdj", J_OI32, oom_score_adj),
  JF(struct oci_process, "selinuxLabel", J_STR, selinux_label),
};

/* user_required: config.json's process must name its user; an `exec
 * --process` document without one runs as uid and gid 0 (root in the
 * container), as with runc. */
static int parse_process_user(struct jctx *c, yajl_val v, const char *path,
                              struct oci_process **out, bool user_required) {
  struct oci_process *p = *out = oci_xmalloc0(sizeof(*p));
  if (J_FIELDS(c, v, path, p, process_fields) < 0)
    return -1;
  /* On Linux the user (uid and gid) is REQUIRED (config.md, POSIX user). */
  char up[OCI_JPATH_MAX];
  j_path_key(up, path, "user");
  yajl_val user = j_get(v, "user");
  if (user == NULL && user_required)
    return j_fail(c, up, "required field is missing");
  if ((user != NULL && parse_user(c, user, up, &p->user) < 0) ||
      OPT_MEMBER(c, v, path, "consoleSize", parse_console_size, p) < 0 ||
      OPT_MEMBER(c, v, path, "capabilities", parse_caps, &p->capabilities) < 0 ||
      OPT_ARRAY(c, v, path, "rlimits", p->rlimits, p->n_rlimits, parse_rlimit) < 0 ||
      check_unique_rlimits(c, path, p) < 0 ||
      OPT_MEMBER(c, v, path, "ioPriority", parse_io_priority, &p->io_priority) < 0 ||
      OPT_MEMBER(c, v, path, "scheduler", parse_scheduler, &p->scheduler) < 0 ||
      OPT_MEMBER(c, v, path, "execCPUAffinity", parse_exec_cpu_affinity,
                 &p->exec_cpu_affinity) < 0)
    return -1;
  return 0;
}

static int parse_process(struct jctx *c, yajl_val v, const char *path,
                         struct oci_process **out) {
  return parse_process_user(c, v, path, out, true);
}

void oci_process_free(struct oci_process *p) {
  if (p == NULL)
    return;
  J_FIELDS_FREE(p, process_fields);
  J_FIELDS_FREE(&p->user, user_fields);
  free(p->user.additional_gids);
  if (p->capabilities != NULL)
    J_FIELDS_FREE(p->capabilities, caps_fields);
  free(p->capabilities);
  for (size_t i = 0; p->rlimits != NULL && i < p->n_rlimits; i++)
    free(p->rlimits[i].type);
  free(p->rlimits);
  if (p->io_priority != NULL)
    free(p->io_priority->class_);
  free(p->io_priority);
  if (p->scheduler != NULL) {
    J_FIELDS_FREE(p->scheduler, sched_fields);
    free(p->scheduler->policy);
  }
  free(p->scheduler);
  if (p->exec_cpu_affinity != NULL)
    J_FIELDS_FREE(p->exec_cpu_affinity, affinity_fields);
  free(p->exec_cpu_affinity);
  free(p);
}

/* ---------- hooks ---------- */

static const struct jfield hook_fields[] = {
  JFR(struct oci_hook, "path", J_STR, path),
  JFV(struct oci_hook, "args", args, n_args),
  JFV(struct oci_hook, "env", env, n_env),
  JF(struct oci_hook, "timeout", J_OI64, timeout),
};

static int parse_hook(struct jctx *c, yajl_val v, const char *path, void *dst) {
  struct oci_hook *h = dst;
  if (J_FIELDS(c, v, path, h, hook_fields) < 0)
    return -1;
  if (require_absolute(c, path, "path", h->path) < 0)
    return -1;
  if (h->timeout.set && h->timeout.v < 1) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, "timeout");
    return j_fail(c, p, "must be at least 1 second, got %lld", (long long)h->timeout.v);
  }
  return 0;
}

static int parse_hooks(struct jctx *c, yajl_val v, const char *path, struct oci_hooks *h) {
  if (j_expect_object(c, v, path) < 0)
    return -1;
  struct {
    const char *key;
    struct oci_hook_list *list;
  } stages[] = {
    {"prestart", &h->prestart},
    {"createRuntime", &h->create_runtime},
    {"createContainer", &h->create_container},
    {"startContainer", &h->start_container},
    {"poststart", &h->poststart},
    {"poststop", &h->poststop},
  };
  for (size_t i = 0; i < OCI_ARRAY_SIZE(stages); i++) {
    struct oci_hook_list *l = stages[i].list;
    if (OPT_ARRAY(c, v, path, stages[i].key, l->items, l->n, parse_hook) < 0)
      return -1;
  }
  return 0;
}

static void hook_list_free(struct oci_hook_list *l) {
  for (size_t i = 0; l->items != NULL && i < l->n; i++)
    J_FIELDS_FREE(&l->items[i], hook_fields);
  free(l->items);
}

static void hooks_free(struct oci_hooks *h) {
  hook_list_free(&h->prestart);
  hook_list_free(&h->create_runtime);
  hook_list_free(&h->create_container);
  hook_list_free(&h->start_container);
  hook_list_free(&h->poststart);
  hook_list_free(&h->poststop);
}

/* ---------- linux.resources ---------- */

/* access: r, w and m; runc reads only those letters of it and ignores the
 * rest ("rwa" is "rw", which configs written for runc rely on), so the
 * others are dropped here, in place. Nothing of r, w, m is an error. */
static int device_access(struct jctx *c, const char *path, char *access) {
  if (access == NULL)
    return 0;
  char *to = access;
  for (const char *from = access; *from; from++)
    if (strchr("rwm", *from) != NULL)
      *to++ = *from;
  bool none = to == access;
  if (none) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, "access");
    return j_fail(c, p, "expected a combination of \"r\", \"w\" and \"m\", got \"%s\"",
                  access);
  }
  *to = '\0';
  return 0;
}

static int parse_device_rule(struct jctx *c, yajl_val v, const char *path, void *dst) {
  static const char *const types[] = {"a", "c", "b", NULL};
  static const struct jfield fields[] = {
    JFR(struct oci_device_rule, "allow", J_BOOL, allow),
    JF(struct oci_device_rule, "major", J_OI64, major),
    JF(struct oci_device_rule, "minor", J_OI64, minor),
    JF(struct oci_device_rule, "access", J_STR, access),
  };
  struct oci_device_rule *d = dst;
  _cleanup_free_ char *type = NULL;
  if (J_FIELDS(c, v, path, d, fields) < 0 ||
      j_enum(c, v, path, "type", false, types, "device type", &type) < 0)
    return -1;
  d->type = type != NULL ? type[0] : 'a';
  return device_access(c, path, d->access);
}

static const struct jfield memory_fields[] = {
  JF(struct oci_memory, "limit", J_OI64, limit),
  JF(struct oci_memory, "reservation", J_OI64, reservation),
  JF(struct oci_memory, "swap", J_OI64, swap),
  JF(struct oci_memory, "kernel", J_OI64, kernel),
  JF(struct oci_memory, "kernelTCP", J_OI64, kernel_tcp),
  JF(struct oci_memory, "swappiness", J_OU64, swappiness),
  JF(struct oci_memory, "disableOOMKiller", J_OBOOL, disable_oom_killer),
  JF(struct oci_memory, "useHierarchy", J_OBOOL, use_hierarchy),
  JF(struct oci_memory, "checkBeforeUpdate", J_OBOOL, check_before_update),
};

static const struct jfield cpu_fields[] = {
  JF(struct oci_cpu, "shares", J_OU64, shares),
  JF(struct oci_cpu, "quota", J_OI64, quota),
  JF(struct oci_cpu, "burst", J_OU64, burst),
  JF(struct oci_cpu, "period", J_OU64, period),
  JF(struct oci_cpu, "realtimeRuntime", J_OI64, realtime_runtime),
  JF(struct oci_cpu, "realtimePeriod", J_OU64, realtime_period),
  JF(struct oci_cpu, "cpus", J_STR, cpus),
  JF(struct oci_cpu, "mems", J_STR, mems),
  JF(struct oci_cpu, "idle", J_OI64, idle),
};

/* Allocate *out and read the table into it. */
#define PARSE_STRUCT(c, v, path, out, table)                                 \
  ({                                                                         \
    *(out) = oci_xmalloc0(sizeof(**(out)));                                  \
    J_FIELDS(c, v, path, *(out), table);                                     \
  })

static int parse_memory(struct jctx *c, yajl_val v, const char *path, struct oci_memory **out) {
  return PARSE_STRUCT(c, v, path, out, memory_fields);
}

static int parse_cpu(struct jctx *c, yajl_val v, const char *path, struct oci_cpu **out) {
  return PARSE_STRUCT(c, v, path, out, cpu_fields);
}

static int parse_pids(struct jctx *c, yajl_val v, const char *path, struct oci_resources *r) {
  static const struct jfield fields[] = {
    JF(struct oci_resources, "limit", J_OI64, pids_limit),
  };
  return J_FIELDS(c, v, path, r, fields);
}

static int parse_weight_device(struct jctx *c, yajl_val v, const char *path, void *dst) {
  static const struct jfield fields[] = {
    JFR(struct oci_weight_device, "major", J_I64, major),
    JFR(struct oci_weight_device, "minor", J_I64, minor),
    JF(struct oci_weight_device, "weight", J_OU16, weight),
    JF(struct oci_weight_device, "leafWeight", J_OU16, leaf_weight),
  };
  return J_FIELDS(c, v, path, dst, fields);
}

static int parse_throttle(struct jctx *c, yajl_val v, const char *path, void *dst) {
  static const struct jfield fields[] = {
    JFR(struct oci_throttle_device, "major", J_I64, major),
    JFR(struct oci_throttle_device, "minor", J_I64, minor),
    JFR(struct oci_throttle_device, "rate", J_U64, rate),
  };
  return J_FIELDS(c, v, path, dst, fields);
}

static int parse_blkio(struct jctx *c, yajl_val v, const char *path, struct oci_blkio **out) {
  static const struct jfield fields[] = {
    JF(struct oci_blkio, "weight", J_OU16, weight),
    JF(struct oci_blkio, "leafWeight", J_OU16, leaf_weight),
  };
  struct oci_blkio *b = *out = oci_xmalloc0(sizeof(*b));
  if (J_FIELDS(c, v, path, b, fields) < 0 ||
      OPT_ARRAY(c, v, path, "weightDevice", b->weight_device, b->n_weight_device,
                parse_weight_device) < 0 ||
      OPT_ARRAY(c, v, path, "throttleReadBpsDevice", b->throttle_read_bps,
                b->n_throttle_read_bps, parse_throttle) < 0 ||
      OPT_ARRAY(c, v, path, "throttleWriteBpsDevice", b->throttle_write_bps,
                b->n_throttle_write_bps, parse_throttle) < 0 ||
      OPT_ARRAY(c, v, path, "throttleReadIOPSDevice", b->throttle_read_iops,
                b->n_throttle_read_iops, parse_throttle) < 0 ||
      OPT_ARRAY(c, v, path, "throttleWriteIOPSDevice", b->throttle_write_iops,
                b->n_throttle_write_iops, parse_throttle) < 0)
    return -1;
  return 0;
}

/* "<size><K|M|G>B" with no leading zero, as the schema's pattern. */
static bool valid_page_size(const char *s) {
  if (*s < '1' || *s > '9')
    return false;
  s += strspn(s, "0123456789");
  return (s[0] == 'K' || s[0] == 'M' || s[0] == 'G') && s[1] == 'B' && s[2] == '\0';
}

static const struct jfield hugepage_fields[] = {
  JFR(struct oci_hugepage_limit, "pageSize", J_STR, page_size),
  JFR(struct oci_hugepage_limit, "limit", J_U64, limit),
};

static int parse_hugepage(struct jctx *c, yajl_val v, const char *path, void *dst) {
  struct oci_hugepage_limit *h = dst;
  if (J_FIELDS(c, v, path, h, hugepage_fields) < 0)
    return -1;
  if (!valid_page_size(h->page_size)) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, "pageSize");
    return j_fail(c, p, "expected a size like \"2MB\" or \"64KB\", got \"%s\"", h->page_size);
  }
  return 0;
}

static int parse_net_priority(struct jctx *c, yajl_val v, const char *path, void *dst) {
  static const struct jfield fields[] = {
    JFR(struct oci_net_priority, "name", J_STR, name),
    JFR(struct oci_net_priority, "priority", J_U32, priority),
  };
  return J_FIELDS(c, v, path, dst, fields);
}

static int parse_network(struct jctx *c, yajl_val v, const char *path,
                         struct oci_network **out) {
  static const struct jfield fields[] = {
    JF(struct oci_network, "classID", J_OU32, class_id),
  };
  struct oci_network *n = *out = oci_xmalloc0(sizeof(*n));
  if (J_FIELDS(c, v, path, n, fields) < 0)
    return -1;
  return OPT_ARRAY(c, v, path, "priorities", n->priorities, n->n_priorities,
                   parse_net_priority);
}

/* rdma is a map: device name -> limits. */
static int parse_rdma(struct jctx *c, yajl_val v, const char *path, struct oci_resources *r) {
  static const struct jfield fields[] = {
    JF(struct oci_rdma, "hcaHandles", J_OU32, hca_handles),
    JF(struct oci_rdma, "hcaObjects", J_OU32, hca_objects),
  };
  if (j_expect_object(c, v, path) < 0)
    return -1;
  r->n_rdma = v->u.object.len;
  r->rdma = oci_xmalloc0((r->n_rdma + 1) * sizeof(*r->rdma));
  for (size_t i = 0; i < r->n_rdma; i++) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, v->u.object.keys[i]);
    r->rdma[i].device = oci_xstrdup(v->u.object.keys[i]);
    if (J_FIELDS(c, v->u.object.values[i], p, &r->rdma[i], fields) < 0)
      return -1;
  }
  return 0;
}

/* unified: interface file names, CONTROLLER.FILE; checked here so a
 * malformed key is named before anything is made, on any host. */
static int parse_unified(struct jctx *c, yajl_val v, const char *path, struct oci_resources *r) {
  if (j_kv(c, v, path, &r->unified, &r->n_unified) < 0)
    return -1;
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *k = r->unified[i].key, *dot = strchr(k, '.');
    if (dot == NULL || dot == k || dot[1] == '\0' || strchr(k, '/') != NULL)
      return j_fail(c, path,
                    "key \"%s\" is not an interface file's name, CONTROLLER.FILE "
                    "(e.g. \"memory.high\")", k);
  }
  return 0;
}

static int parse_resources(struct jctx *c, yajl_val v, const char *path,
                           struct oci_resources **out) {
  struct oci_resources *r = *out = oci_xmalloc0(sizeof(*r));
  if (j_expect_object(c, v, path) < 0 ||
      OPT_ARRAY(c, v, path, "devices", r->devices, r->n_devices, parse_device_rule) < 0 ||
      OPT_MEMBER(c, v, path, "memory", parse_memory, &r->memory) < 0 ||
      OPT_MEMBER(c, v, path, "cpu", parse_cpu, &r->cpu) < 0 ||
      OPT_MEMBER(c, v, path, "pids", parse_pids, r) < 0 ||
      OPT_MEMBER(c, v, path, "blockIO", parse_blkio, &r->block_io) < 0 ||
      OPT_ARRAY(c, v, path, "hugepageLimits", r->hugepage_limits, r->n_hugepage_limits,
                parse_hugepage) < 0 ||
      OPT_MEMBER(c, v, path, "network", parse_network, &r->network) < 0 ||
      OPT_MEMBER(c, v, path, "rdma", parse_rdma, r) < 0 ||
      OPT_MEMBER(c, v, path, "unified", parse_unified, r) < 0)
    return -1;
  return 0;
}

void oci_resources_free(struct oci_resources *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; r->devices != NULL && i < r->n_devices; i++)
    free(r->devices[i].access);
  free(r->devices);
  free(r->memory);
  if (r->cpu != NULL)
    J_FIELDS_FREE(r->cpu, cpu_fields);
  free(r->cpu);
  if (r->block_io != NULL) {
    free(r->block_io->weight_device);
    free(r->block_io->throttle_read_bps);
    free(r->block_io->throttle_write_bps);
    free(r->block_io->throttle_read_iops);
    free(r->block_io->throttle_write_iops);
  }
  free(r->block_io);
  for (size_t i = 0; r->hugepage_limits != NULL && i < r->n_hugepage_limits; i++)
    free(r->hugepage_limits[i].page_size);
  free(r->hugepage_limits);
  if (r->network != NULL) {
    for (size_t i = 0; r->network->priorities != NULL && i < r->network->n_priorities; i++)
      free(r->network->priorities[i].name);
    free(r->network->priorities);
  }
  free(r->network);
  for (size_t i = 0; r->rdma != NULL && i < r->n_rdma; i++)
    free(r->rdma[i].device);
  free(r->rdma);
  j_kv_free(r->unified, r->n_unified);
  free(r);
}

/* ---------- linux: seccomp ---------- */

static const struct jfield seccomp_arg_fields[] = {
  JFR(struct oci_seccomp_arg, "index", J_U32, index),
  JFR(struct oci_seccomp_arg, "value", J_U64, value),
  JF(struct oci_seccomp_arg, "valueTwo", J_OU64, value_two),
  JFR(struct oci_seccomp_arg, "op", J_STR, op),
};

static int parse_seccomp_arg(struct jctx *c, yajl_val v, const char *path, void *dst) {
  return J_FIELDS(c, v, path, dst, seccomp_arg_fields);
}

static const struct jfield syscall_fields[] = {
  {"names", J_STRV, offsetof(struct oci_seccomp_syscall, names),
   offsetof(struct oci_seccomp_syscall, n_names), true},
  JFR(struct oci_seccomp_syscall, "action", J_STR, action),
  JF(struct oci_seccomp_syscall, "errnoRet", J_OU32, errno_ret),
};

static int parse_syscall(struct jctx *c, yajl_val v, const char *path, void *dst) {
  struct oci_seccomp_syscall *s = dst;
  if (J_FIELDS(c, v, path, s, syscall_fields) < 0)
    return -1;
  if (s->n_names == 0) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, "names");
    return j_fail(c, p, "expected at least one syscall name");
  }
  return OPT_ARRAY(c, v, path, "args", s->args, s->n_args, parse_seccomp_arg);
}

static const struct jfield seccomp_fields[] = {
  JFR(struct oci_seccomp, "defaultAction", J_STR, default_action),
  JF(struct oci_seccomp, "defaultErrnoRet", J_OU32, default_errno_ret),
  JFV(struct oci_seccomp, "architectures", architectures, n_architectures),
  JFV(struct oci_seccomp, "flags", flags, n_flags),
  JF(struct oci_seccomp, "listenerPath", J_STR, listener_path),
  JF(struct oci_seccomp, "listenerMetadata", J_STR, listener_metadata),
};

static int parse_seccomp(struct jctx *c, yajl_val v, const char *path,
                         struct oci_seccomp **out) {
  struct oci_seccomp *s = *out = oci_xmalloc0(sizeof(*s));
  if (J_FIELDS(c, v, path, s, seccomp_fields) < 0)
    return -1;
  return OPT_ARRAY(c, v, path, "syscalls", s->syscalls, s->n_syscalls, parse_syscall);
}

static void seccomp_free(struct oci_seccomp *s) {
  if (s == NULL)
    return;
  J_FIELDS_FREE(s, seccomp_fields);
  for (size_t i = 0; s->syscalls != NULL && i < s->n_syscalls; i++) {
    J_FIELDS_FREE(&s->syscalls[i], syscall_fields);
    for (size_t j = 0; s->syscalls[i].args != NULL && j < s->syscalls[i].n_args; j++)
      J_FIELDS_FREE(&s->syscalls[i].args[j], seccomp_arg_fields);
    free(s->syscalls[i].args);
  }
  free(s->syscalls);
  free(s);
}

/* ---------- linux ---------- */

static int parse_namespace(struct jctx *c, yajl_val v, const char *path, void *dst) {
  static const struct jfield fields[] = {
    JF(struct oci_namespace, "path", J_STR, path),
  };
  struct oci_namespace *ns = dst;
  char p[OCI_JPATH_MAX];
  j_path_key(p, path, "type");
  yajl_val t = j_get(v, "type");
  if (t == NULL)
    return j_fail(c, p, "required field is missing");
  if (!YAJL_IS_STRING(t))
    return j_fail(c, p, "expected a string");
  int type = oci_ns_type_from_name(t->u.string);
  if (type < 0)
    return j_fail(c, p, "unknown namespace type \"%s\"", t->u.string);
  ns->type = type;
  if (J_FIELDS(c, v, path, ns, fields) < 0)
    return -1;
  /* "path": "" asks for a new namespace, as no path does (runc; engines
   * write it when they map every namespace the same way). */
  if (ns->path != NULL && ns->path[0] == '\0') {
    free(ns->path);
    ns->path = NULL;
  }
  return 0;
}

static int check_unique_namespaces(struct jctx *c, const struct oci_linux *l) {
  for (size_t i = 0; i < l->n_namespaces; i++)
    for (size_t j = 0; j < i; j++)
      if (l->namespaces[i].type == l->namespaces[j].type) {
        char p[OCI_JPATH_MAX];
        snprintf(p, sizeof(p), "linux.namespaces[%zu].type", i);
        return j_fail(c, p, "duplicate namespace type \"%s\"",
                      oci_ns_type_name(l->namespaces[i].type));
      }
  return 0;
}

static const struct jfield device_fields[] = {
  JFR(struct oci_device, "path", J_STR, path),
  JF(struct oci_device, "major", J_I64, major),
  JF(struct oci_device, "minor", J_I64, minor),
  /* The schema caps fileMode at 0777, but configs in the wild carry the
   * file type bits too; any uint32 is accepted and devices.c masks it. */
  JF(struct oci_device, "fileMode", J_OU32, file_mode),
  JF(struct oci_device, "uid", J_OU32, uid),
  JF(struct oci_device, "gid", J_OU32, gid),
};

static int parse_device(struct jctx *c, yajl_val v, const char *path, void *dst) {
  static const char *const types[] = {"c", "b", "u", "p", NULL};
  struct oci_device *d = dst;
  _cleanup_free_ char *type = NULL;
  if (J_FIELDS(c, v, path, d, device_fields) < 0 ||
      require_absolute(c, path, "path", d->path) < 0 ||
      j_enum(c, v, path, "type", true, types, "device type", &type) < 0)
    return -1;
  d->type = type[0];
  /* "/dev/foo/" names the node /dev/foo (crun, runc: a path, cleaned). */
  for (size_t n = strlen(d->path); n > 1 && d->path[n - 1] == '/'; n--)
    d->path[n - 1] = '\0';
  if (d->type != 'p') {
    /* major and minor are REQUIRED unless the type is 'p'. */
    const char *missing = j_get(v, "major") == NULL   ? "major"
                          : j_get(v, "minor") == NULL ? "minor"
                                                      : NULL;
    if (missing != NULL) {
      char p[OCI_JPATH_MAX];
      j_path_key(p, path, missing);
      return j_fail(c, p, "required field is missing");
    }
  }
  return 0;
}

static int parse_time_offsets(struct jctx *c, yajl_val v, const char *path,
                              struct oci_linux *l) {
  if (j_expect_object(c, v, path) < 0)
    return -1;
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *clock = v->u.object.keys[i];
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, clock);
    struct oci_time_offset *t = strcmp(clock, "monotonic") == 0  ? &l->time_monotonic
                                : strcmp(clock, "boottime") == 0 ? &l->time_boottime
                                                                 : NULL;
    /* time_namespaces(7): only these two clocks can be offset. */
    if (t == NULL)
      return j_fail(c, p, "unknown clock \"%s\" (expected \"monotonic\" or \"boottime\")",
                    clock);
    yajl_val o = v->u.object.values[i];
    if (j_expect_object(c, o, p) < 0)
      return -1;
    struct oci_time_offset tmp = {.set = true};
    static const struct jfield fields[] = {
      JF(struct oci_time_offset, "secs", J_I64, secs),
      JF(struct oci_time_offset, "nanosecs", J_U32, nanosecs),
    };
    if (J_FIELDS(c, o, p, &tmp, fields) < 0)
      return -1;
    *t = tmp;
  }
  return 0;
}

static int parse_personality(struct jctx *c, yajl_val v, const char *path,
                             struct oci_personality **out) {
  static const char *const domains[] = {"LINUX", "LINUX32", NULL};
  static const struct jfield fields[] = {
    JFV(struct oci_personality, "flags", flags, n_flags),
  };
  struct oci_personality *pers = *out = oci_xmalloc0(sizeof(*pers));
  if (J_FIELDS(c, v, path, pers, fields) < 0)
    return -1;
  return j_enum(c, v, path, "domain", true, domains, "personality domain", &pers->domain);
}

/* linux.netDevices: {"<host name>": {"name": "<name inside>"}}. Both are
 * interface names: the kernel's rules (dev_valid_name), checked here so a
 * bad one is named before anything is made. */
static int check_ifname(struct jctx *c, const char *path, const char *name) {
  if (*name == '\0' || strlen(name) >= 16 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
      strpbrk(name, "/: \t\n\v\f\r") != NULL)
    return j_fail(c, path, "\"%s\" is not a network interface name", name);
  return 0;
}

static int parse_net_devices(struct jctx *c, yajl_val v, const char *path, struct oci_linux *l) {
  if (j_expect_object(c, v, path) < 0)
    return -1;
  l->net_devices = oci_xmalloc0((v->u.object.len + 1) * sizeof(*l->net_devices));
  for (size_t i = 0; i < v->u.object.len; i++) {
    struct oci_net_device *d = &l->net_devices[l->n_net_devices++];
    char p[OCI_JPATH_MAX], np[OCI_JPATH_MAX];
    d->host_name = oci_xstrdup(v->u.object.keys[i]);
    j_path_key(p, path, d->host_name);
    yajl_val dev = v->u.object.values[i];
    if (check_ifname(c, p, d->host_name) < 0 || j_expect_object(c, dev, p) < 0)
      return -1;
    yajl_val name = j_get(dev, "name");
    j_path_key(np, p, "name");
    if (name != NULL && (j_string(c, name, np, &d->name) < 0 || check_ifname(c, np, d->name) < 0))
      return -1;
  }
  return 0;
}

/* ocirun has no Intel RDT support (features.json says so, and create
 * refuses the field), but closID names a directory under /sys/fs/resctrl:
 * a runtime that has it would resolve "../x" outside, so such a config is
 * broken anywhere. */
static int check_intel_rdt(struct jctx *c, yajl_val v, const char *path, bool *present) {
  if (j_expect_object(c, v, path) < 0)
    return -1;
  *present = true;
  yajl_val id = j_get(v, "closID");
  if (id == NULL)
    return 0;
  char p[OCI_JPATH_MAX];
  j_path_key(p, path, "closID");
  if (!YAJL_IS_STRING(id))
    return j_fail(c, p, "expected a string");
  const char *s = id->u.string;
  if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strchr(s, '/') != NULL)
    return j_fail(c, p, "must be a plain name, not a path: \"%s\"", s);
  return 0;
}

/* The spec lists private, shared, slave and unbindable; the recursive
 * spellings are what containerd and podman write, with the same meaning for
 * the rootfs (its propagation is always applied recursively). */
static const char *const propagations[] = {"private", "rprivate", "shared", "rshared",
                                           "slave", "rslave", "unbindable", "runbindable",
                                           NULL};

static const struct jfield mempolicy_fields[] = {
  JF(struct oci_memory_policy, "nodes", J_STR, nodes),
  JFV(struct oci_memory_policy, "flags", flags, n_flags),
};

static int parse_memory_policy(struct jctx *c, yajl_val v, const char *path,
                               struct oci_memory_policy **out) {
  struct oci_memory_policy *mp = *out = oci_xmalloc0(sizeof(*mp));
  if (J_FIELDS(c, v, path, mp, mempolicy_fields) < 0 ||
      j_enum(c, v, path, "mode", true, oci_mempolicy_mode_names, "memory policy mode",
             &mp->mode) < 0 ||
      strv_in_set(c, path, "flags", mp->flags, mp->n_flags, oci_mempolicy_flag_names,
                  "memory policy flag") < 0 ||
      check_index_list(c, path, "nodes", mp->nodes, OCI_MAX_NODES, "node") < 0)
    return -1;
  return 0;
}

static const struct jfield linux_fields[] = {
  JF(struct oci_linux, "cgroupsPath", J_STR, cgroups_path),
  JFV(struct oci_linux, "maskedPaths", masked_paths, n_masked_paths),
  JFV(struct oci_linux, "readonlyPaths", readonly_paths, n_readonly_paths),
  JF(struct oci_linux, "mountLabel", J_STR, mount_label),
};

static int parse_linux(struct jctx *c, yajl_val v, const char *path, struct oci_linux **out) {
  struct oci_linux *l = *out = oci_xmalloc0(sizeof(*l));
  if (J_FIELDS(c, v, path, l, linux_fields) < 0 ||
      OPT_ARRAY(c, v, path, "namespaces", l->namespaces, l->n_namespaces, parse_namespace) < 0 ||
      check_unique_namespaces(c, l) < 0 ||
      OPT_ARRAY(c, v, path, "uidMappings", l->uid_mappings, l->n_uid_mappings, parse_idmap) < 0 ||
      OPT_ARRAY(c, v, path, "gidMappings", l->gid_mappings, l->n_gid_mappings, parse_idmap) < 0 ||
      OPT_MEMBER(c, v, path, "timeOffsets", parse_time_offsets, l) < 0 ||
      OPT_ARRAY(c, v, path, "devices", l->devices, l->n_devices, parse_device) < 0 ||
      OPT_MEMBER(c, v, path, "resources", parse_resources, &l->resources) < 0 ||
      OPT_MEMBER(c, v, path, "sysctl", j_kv, &l->sysctl, &l->n_sysctl) < 0 ||
      OPT_MEMBER(c, v, path, "seccomp", parse_seccomp, &l->seccomp) < 0 ||
      j_enum(c, v, path, "rootfsPropagation", false, propagations, "rootfs propagation",
             &l->rootfs_propagation) < 0 ||
      OPT_MEMBER(c, v, path, "personality", parse_personality, &l->personality) < 0 ||
      OPT_MEMBER(c, v, path, "memoryPolicy", parse_memory_policy, &l->memory_policy) < 0 ||
      OPT_MEMBER(c, v, path, "netDevices", parse_net_devices, l) < 0 ||
      OPT_MEMBER(c, v, path, "intelRdt", check_intel_rdt, &l->intel_rdt) < 0)
    return -1;
  return 0;
}

static void linux_free(struct oci_linux *l) {
  if (l == NULL)
    return;
  J_FIELDS_FREE(l, linux_fields);
  for (size_t i = 0; l->namespaces != NULL && i < l->n_namespaces; i++)
    free(l->namespaces[i].path);
  free(l->namespaces);
  free(l->uid_mappings);
  free(l->gid_mappings);
  for (size_t i = 0; l->devices != NULL && i < l->n_devices; i++)
    J_FIELDS_FREE(&l->devices[i], device_fields);
  free(l->devices);
  oci_resources_free(l->resources);
  j_kv_free(l->sysctl, l->n_sysctl);
  seccomp_free(l->seccomp);
  free(l->rootfs_propagation);
  if (l->personality != NULL) {
    free(l->personality->domain);
    j_strv_free(l->personality->flags, l->personality->n_flags);
  }
  free(l->personality);
  if (l->memory_policy != NULL) {
    J_FIELDS_FREE(l->memory_policy, mempolicy_fields);
    free(l->memory_policy->mode);
  }
  free(l->memory_policy);
  for (size_t i = 0; l->net_devices != NULL && i < l->n_net_devices; i++) {
    free(l->net_devices[i].host_name);
    free(l->net_devices[i].name);
  }
  free(l->net_devices);
  free(l);
}

/* ---------- the whole config ---------- */

static const struct jfield root_fields[] = {
  JFR(struct oci_root, "path", J_STR, path),
  JF(struct oci_root, "readonly", J_BOOL, readonly),
};

static int parse_root(struct jctx *c, yajl_val v, const char *path, struct oci_root **out) {
  return PARSE_STRUCT(c, v, path, out, root_fields);
}

static const struct jfield config_fields[] = {
  JFR(struct oci_config, "ociVersion", J_STR, oci_version),
  JF(struct oci_config, "hostname", J_STR, hostname),
  JF(struct oci_config, "domainname", J_STR, domainname),
};

static int parse_config(struct jctx *c, yajl_val v, struct oci_config *cfg) {
  if (J_FIELDS(c, v, "", cfg, config_fields) < 0 ||
      require_nonempty(c, "", "ociVersion", cfg->oci_version) < 0 ||
      OPT_MEMBER(c, v, "", "root", parse_root, &cfg->root) < 0 ||
      OPT_ARRAY(c, v, "", "mounts", cfg->mounts, cfg->n_mounts, parse_mount) < 0 ||
      OPT_MEMBER(c, v, "", "process", parse_process, &cfg->process) < 0 ||
      OPT_MEMBER(c, v, "", "hooks", parse_hooks, &cfg->hooks) < 0 ||
      OPT_MEMBER(c, v, "", "annotations", j_kv, &cfg->annotations, &cfg->n_annotations) < 0 ||
      OPT_MEMBER(c, v, "", "linux", parse_linux, &cfg->linux_) < 0)
    return -1;
  return 0;
}

void oci_config_free(struct oci_config *cfg) {
  if (cfg == NULL)
    return;
  J_FIELDS_FREE(cfg, config_fields);
  if (cfg->root != NULL)
    free(cfg->root->path);
  free(cfg->root);
  mounts_free(cfg->mounts, cfg->n_mounts);
  oci_process_free(cfg->process);
  hooks_free(&cfg->hooks);
  j_kv_free(cfg->annotations, cfg->n_annotations);
  linux_free(cfg->linux_);
  free(cfg);
}

int oci_config_parse(const char *json, size_t len, const char *name, struct oci_config **out,
                     oci_error *err) {
  struct jctx c = {name ? name : "config.json", err};
  yajl_val tree = NULL;
  *out = NULL;
  if (j_parse_tree(&c, json, len, &tree) < 0)
    return -1;
  struct oci_config *cfg = oci_xmalloc0(sizeof(*cfg));
  int ret = parse_config(&c, tree, cfg);
  yajl_tree_free(tree);
  if (ret < 0) {
    oci_config_free(cfg);
    return -1;
  }
  *out = cfg;
  return 0;
}

int oci_config_load_file(const char *path, struct oci_config **out, oci_error *err) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  *out = NULL;
  if (oci_read_file(path, &text, &len, err) < 0)
    return -1;
  _cleanup_free_ char *copy = oci_xstrdup(path);
  return oci_config_parse(text, len, basename(copy), out, err);
}

/* The standalone documents of `exec --process` and `update --resources`:
 * the same grammar, with field paths starting at their root. */
int oci_process_parse(const char *json, size_t len, const char *name,
                      struct oci_process **out, oci_error *err) {
  struct jctx c = {name ? name : "process.json", err};
  yajl_val tree = NULL;
  *out = NULL;
  if (j_parse_tree(&c, json, len, &tree) < 0)
    return -1;
  struct oci_process *p = NULL;
  int ret = j_expect_object(&c, tree, "");
  if (ret == 0)
    ret = parse_process_user(&c, tree, "", &p, false);
  yajl_tree_free(tree);
  if (ret < 0) {
    oci_process_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

int oci_resources_parse(const char *json, size_t len, const char *name,
                        struct oci_resources **out, oci_error *err) {
  struct jctx c = {name ? name : "resources.json", err};
  yajl_val tree = NULL;
  *out = NULL;
  if (j_parse_tree(&c, json, len, &tree) < 0)
    return -1;
  struct oci_resources *r = NULL;
  int ret = parse_resources(&c, tree, "", &r);
  yajl_tree_free(tree);
  if (ret < 0) {
    oci_resources_free(r);
    return -1;
  }
  *out = r;
  return 0;
}

/* ---------- lookups ---------- */

const struct oci_namespace *oci_config_namespace(const struct oci_config *cfg,
                                                 enum oci_ns_type t) {
  if (cfg == NULL || cfg->linux_ == NULL)
    return NULL;
  for (size_t i = 0; i < cfg->linux_->n_namespaces; i++)
    if (cfg->linux_->namespaces[i].type == t)
      return &cfg->linux_->namespaces[i];
  return NULL;
}

const char *oci_config_annotation(const struct oci_config *cfg, const char *key) {
  if (cfg == NULL)
    return NULL;
  for (size_t i = 0; i < cfg->n_annotations; i++)
    if (strcmp(cfg->annotations[i].key, key) == 0)
      return cfg->annotations[i].value;
  return NULL;
}

bool oci_config_annotation_on(const struct oci_config *cfg, const char *key) {
  const char *v = oci_config_annotation(cfg, key);
  return v != NULL && strcmp(v, "0") != 0;
}
