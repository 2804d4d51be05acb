/* ocirun — the systemd cgroup driver (--systemd-cgroup, --cgroup-manager
 * systemd): the container's cgroup is a transient unit of systemd's, so
 * that systemd knows it, accounts it and leaves it alone.
 *
 * linux.cgroupsPath reads "slice:prefix:name" as runc reads it:
 * "machine.slice:libpod:ID" is the scope "libpod-ID.scope" in machine.slice,
 * whose cgroup is /machine.slice/libpod-ID.scope; a slice "a-b-c.slice"
 * lives at /a.slice/a-b.slice/a-b-c.slice; a name ending in ".slice" makes
 * the container a slice of its own. Unset: "system.slice:ocirun:ID" (a
 * rootless container: "user.slice" of the user's manager).
 *
 * Create starts the unit with the init's pid in it, Delegate=yes and every
 * resource systemd has a property for (converted as runc does), and waits
 * for the job. Everything else, and the same values again, is then written
 * by the cgroupfs driver into the unit's cgroup, found at the path above
 * (below the manager's own cgroup for a user's manager): systemd never
 * touches what it has no property for in a delegated unit. Update sets the
 * properties, then the files; delete kills what is inside, then stops the
 * unit and forgets it. The rest (freeze, stats, OOM) is the cgroupfs
 * driver's on the same directories. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "systemd-bus.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define P "linux.cgroupsPath"
#define R "linux.resources."

/* systemd's USEC_INFINITY / CGROUP_LIMIT_MAX */
#define SD_INFINITY UINT64_MAX

/* ---- names and paths (pure) ---------------------------------------------- */

static bool unit_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

int oci_cg_systemd_expand_slice(const char *slice, char **out, oci_error *err) {
  if (strcmp(slice, "-.slice") == 0) {
    *out = oci_xstrdup("/");
    return 0;
  }
  size_t len = strlen(slice);
  const char *why = NULL;
  if (!ends_with(slice, ".slice") || len == strlen(".slice"))
    why = "a slice name ends in \".slice\"";
  else if (slice[0] == '-' || strstr(slice, "--") || slice[len - strlen(".slice") - 1] == '-')
    why = "\"-\" separates the parts of a slice name: no empty part";
  for (const char *c = slice; !why && *c; c++)
    if (!unit_char_ok(*c) || *c == '@')
      why = "a slice name holds only letters, digits and \":-_.\\\"";
  if (why)
    return oci_error_setx(err, EINVAL, P ": invalid slice \"%s\": %s", slice, why);
  /* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" */
  size_t base = len - strlen(".slice");
  char *path = oci_xmalloc0(len * len + 2);
  size_t o = 0;
  for (size_t i = 0; i <= base; i++) {
    if (i < base && slice[i] != '-')
      continue;
    o += (size_t)sprintf(path + o, "/%.*s.slice", (int)i, slice);
  }
  *out = path;
  return 0;
}

int oci_cg_systemd_parse_path(const char *cgroups_path, const char *id, bool user,
                              char **slice, char **unit, oci_error *err) {
  _cleanup_free_ char *parent = NULL, *prefix = NULL, *name = NULL;
  if (cgroups_path == NULL || cgroups_path[0] == '\0') {
    parent = oci_xstrdup(user ? "user.slice" : "system.slice");
    prefix = oci_xstrdup("ocirun");
    name = oci_xstrdup(id);
  } else {
    const char *a = strchr(cgroups_path, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (b == NULL || strchr(b + 1, ':'))
      return oci_error_setx(err, EINVAL,
                            P ": \"%s\": the systemd cgroup driver expects "
                            "\"slice:prefix:name\" (e.g. \"machine.slice:libpod:ID\")",
                            cgroups_path);
    parent = oci_xasprintf("%.*s", (int)(a - cgroups_path), cgroups_path);
    prefix = oci_xasprintf("%.*s", (int)(b - a - 1), a + 1);
    name = oci_xstrdup(b + 1);
    if (parent[0] == '\0') {
      free(parent);
      parent = oci_xstrdup(user ? "user.slice" : "system.slice");
    }
  }
  if (name[0] == '\0')
    return oci_error_setx(err, EINVAL, P ": \"%s\": the name part is empty", cgroups_path);
  _cleanup_free_ char *ignored = NULL;
  if (oci_cg_systemd_expand_slice(parent, &ignored, err) < 0)
    return -1;
  char *u;
  if (ends_with(name, ".slice")) {
    /* The container is a slice; it must be a child of its parent. */
    _cleanup_free_ char *expanded = NULL;
    if (oci_cg_systemd_expand_slice(name, &expanded, err) < 0)
      return -1;
    u = oci_xstrdup(name);
  } else {
    u = prefix[0] ? oci_xasprintf("%s-%s.scope", prefix, name) : oci_xasprintf("%s.scope", name);
  }
  for (const char *c = u; *c; c++)
    if (!unit_char_ok(*c)) {
      oci_error_setx(err, EINVAL, P ": unit name \"%s\" has a character systemd refuses ('%c')",
                     u, *c);
      free(u);
      return -1;
    }
  if (strlen(u) > 255) {
    free(u);
    return oci_error_setx(err, EINVAL, P ": unit name longer than systemd's 255 characters");
  }
  *slice = OCI_STEAL(parent);
  *unit = u;
  return 0;
}

/* The unit's cgroup below the manager's: slices expanded, then the unit
 * itself (a slice container is expanded as a slice). */
static int unit_cgroup_path(const char *manager_cg, const char *slice, const char *unit,
                            char **out, oci_error *err) {
  _cleanup_free_ char *sp = NULL;
  if (ends_with(unit, ".slice")) {
    if (oci_cg_systemd_expand_slice(unit, &sp, err) < 0)
      return -1;
    *out = oci_xasprintf("%s%s", strcmp(manager_cg, "/") == 0 ? "" : manager_cg, sp);
    return 0;
  }
  if (oci_cg_systemd_expand_slice(slice, &sp, err) < 0)
    return -1;
  const char *m = strcmp(manager_cg, "/") == 0 ? "" : manager_cg;
  *out = oci_xasprintf("%s%s/%s", m, strcmp(sp, "/") == 0 ? "" : sp, unit);
  return 0;
}

/* ---- resources as unit properties (pure) ------------------------------- */

static void set_u64(struct sd_props *p, const char *name, uint64_t v) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->v[i].name, name) == 0) {
      p->v[i].u64 = v; /* a later source (unified) wins */
      return;
    }
  oci_sd_props_add(p, name, SD_PROP_U64)->u64 = v;
}

static void set_bytes(struct sd_props *p, const char *name, uint8_t *bytes, size_t n) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->v[i].name, name) == 0) {
      free(p->v[i].bytes);
      p->v[i].bytes = bytes;
      p->v[i].n_bytes = n;
      return;
    }
  struct sd_prop *q = oci_sd_props_add(p, name, SD_PROP_BYTES);
  q->bytes = bytes;
  q->n_bytes = n;
}

int oci_cg_cpuset_mask(const char *list, uint8_t **bytes, size_t *n, const char *what,
                       oci_error *err) {
  uint8_t *v = NULL;
  size_t len = 0;
  for (const char *p = list; *p;) {
    char *end;
    errno = 0;
    unsigned long a = strtoul(p, &end, 10), b = a;
    if (end == p || errno)
      goto bad;
    if (*end == '-') {
      p = end + 1;
      b = strtoul(p, &end, 10);
      if (end == p || errno || b < a)
        goto bad;
    }
    if (b >= 8192) { /* systemd's own bound (ERANGE from it says less) */
      free(v);
      return oci_error_setx(err, ERANGE, "%s: \"%s\": %lu is beyond the 8191 systemd accepts",
                            what, list, b);
    }
    if (b / 8 + 1 > len) {
      v = oci_xrealloc(v, b / 8 + 1);
      memset(v + len, 0, b / 8 + 1 - len);
      len = b / 8 + 1;
    }
    for (unsigned long i = a; i <= b; i++)
      v[i / 8] |= (uint8_t)(1u << (i % 8));
    if (*end == ',')
      end++;
    else if (*end != '\0' && *end != '\n')
      goto bad;
    p = end;
    if (*p == '\n')
      break;
  }
  *bytes = v;
  *n = len;
  return 0;
bad:
  free(v);
  return oci_error_setx(err, EINVAL, "%s: \"%s\" is not a list of numbers and ranges (0-3,5)",
                        what, list);
}

/* systemd keeps CPU quotas as whole percents: round a fractional one up
 * to the next 10 ms per second, so the cgroup's own cpu.max (written after)
 * stays within what systemd set. quota <= 0: no limit. */
uint64_t oci_cg_systemd_quota_per_sec(int64_t quota, uint64_t period) {
  if (quota <= 0)
    return SD_INFINITY;
  if (period == 0)
    period = 100000;
  uint64_t us = (uint64_t)quota * 1000000 / period;
  return us % 10000 ? (us / 10000 + 1) * 10000 : us;
}

static uint64_t limit_value(int64_t v) {
  return v < 0 ? SD_INFINITY : (uint64_t)v;
}

static int memory_props(const struct oci_memory *m, bool v2, struct sd_props *p, oci_error *err) {
  if (m == NULL)
    return 0;
  if (m->limit.set && m->limit.v != 0)
    set_u64(p, v2 ? "MemoryMax" : "MemoryLimit", limit_value(m->limit.v));
  if (!v2)
    return 0;
  if (m->reservation.set && m->reservation.v != 0)
    set_u64(p, "MemoryLow", limit_value(m->reservation.v));
  if (m->swap.set && m->swap.v != 0) {
    int64_t swap;
    if (m->swap.v < 0)
      swap = -1;
    else if (!m->limit.set)
      return 0; /* needs the current limit: the v2 driver reads it */
    else if (oci_cg_swap_to_v2(m->swap.v, m->limit.v, &swap, err) < 0)
      return -1;
    set_u64(p, "MemorySwapMax", limit_value(swap));
  }
  return 0;
}

static int cpu_props(const struct oci_cpu *c, bool v2, struct sd_props *p, oci_error *err) {
  if (c == NULL)
    return 0;
  if (c->shares.set && c->shares.v != 0)
    set_u64(p, v2 ? "CPUWeight" : "CPUShares",
            v2 ? oci_cg_shares_to_weight(c->shares.v) : c->shares.v);
  if (c->period.set && c->period.v != 0)
    set_u64(p, "CPUQuotaPeriodUSec", c->period.v);
  if ((c->quota.set && c->quota.v != 0) || (c->period.set && c->period.v != 0))
    set_u64(p, "CPUQuotaPerSecUSec",
            oci_cg_systemd_quota_per_sec(c->quota.set ? c->quota.v : -1,
                                         c->period.set ? c->period.v : 0));
  /* systemd has cpuset properties on the unified hierarchy only. */
  uint8_t *mask;
  size_t n;
  if (v2 && c->cpus && c->cpus[0]) {
    if (oci_cg_cpuset_mask(c->cpus, &mask, &n, R "cpu.cpus", err) < 0)
      return -1;
    set_bytes(p, "AllowedCPUs", mask, n);
  }
  if (v2 && c->mems && c->mems[0]) {
    if (oci_cg_cpuset_mask(c->mems, &mask, &n, R "cpu.mems", err) < 0)
      return -1;
    set_bytes(p, "AllowedMemoryNodes", mask, n);
  }
  return 0;
}

/* "max" or a number; *ok false when it is neither (left to the file). */
static uint64_t unified_number(const char *s, bool *ok) {
  *ok = true;
  if (strcmp(s, "max") == 0)
    return SD_INFINITY;
  char *end;
  errno = 0;
  uint64_t v = strtoull(s, &end, 10);
  *ok = end != s && errno == 0 && (*end == '\0' || *end == '\n');
  return v;
}

/* linux.resources.unified keys that systemd has a property for: without
 * it, a daemon-reload would reset the file to the unit's value. */
static int unified_props(const struct oci_resources *r, struct sd_props *p, oci_error *err) {
  static const struct { const char *key, *prop; } simple[] = {
      {"memory.max", "MemoryMax"}, {"memory.high", "MemoryHigh"}, {"memory.low", "MemoryLow"},
      {"memory.min", "MemoryMin"}, {"memory.swap.max", "MemorySwapMax"},
      {"pids.max", "TasksMax"},    {"cpu.weight", "CPUWeight"},   {"io.weight", "IOWeight"},
  };
  for (size_t i = 0; i < r->n_unified; i++) {
    const char *k = r->unified[i].key, *v = r->unified[i].value;
    bool ok;
    for (size_t s = 0; s < OCI_ARRAY_SIZE(simple); s++) {
      if (strcmp(k, simple[s].key) != 0)
        continue;
      uint64_t n = unified_number(strncmp(v, "default ", 8) == 0 ? v + 8 : v, &ok);
      if (ok)
        set_u64(p, simple[s].prop, n);
    }
    if (strcmp(k, "cpu.max") == 0) {
      char quota[32] = "";
      uint64_t period = 0;
      if (sscanf(v, "%31s %" SCNu64, quota, &period) >= 1) {
        uint64_t q = unified_number(quota, &ok);
        if (ok) {
          if (period)
            set_u64(p, "CPUQuotaPeriodUSec", period);
          set_u64(p, "CPUQuotaPerSecUSec",
                  q == SD_INFINITY ? SD_INFINITY : oci_cg_systemd_quota_per_sec((int64_t)q, period));
        }
      }
    } else if (strcmp(k, "cpuset.cpus") == 0 || strcmp(k, "cpuset.mems") == 0) {
      uint8_t *mask;
      size_t n;
      _cleanup_free_ char *what = oci_xasprintf(R "unified.%s", k);
      if (oci_cg_cpuset_mask(v, &mask, &n, what, err) < 0)
        return -1;
      set_bytes(p, k[7] == 'c' ? "AllowedCPUs" : "AllowedMemoryNodes", mask, n);
    }
  }
  return 0;
}

int oci_cg_systemd_resource_props(const struct oci_resources *r, bool v2, struct sd_props *p,
                                  oci_error *err) {
  if (r == NULL)
    return 0;
  if (memory_props(r->memory, v2, p, err) < 0 || cpu_props(r->cpu, v2, p, err) < 0)
    return -1;
  if (r->pids_limit.set && (r->pids_limit.v > 0 || r->pids_limit.v == -1))
    set_u64(p, "TasksMax", limit_value(r->pids_limit.v));
  if (r->block_io && r->block_io->weight.set && r->block_io->weight.v != 0)
    set_u64(p, v2 ? "IOWeight" : "BlockIOWeight",
            v2 ? oci_cg_blkio_to_io_weight(r->block_io->weight.v) : r->block_io->weight.v);
  return v2 ? unified_props(r, p, err) : 0;
}

/* The name /proc/devices gives a major of that type ("pts" for c 136). */
static char *device_group(const char *proc_devices, char type, int64_t major) {
  const char *section = type == 'b' ? "Block devices:" : "Character devices:";
  const char *s = proc_devices ? strstr(proc_devices, section) : NULL;
  if (s == NULL)
    return NULL;
  for (s = strchr(s, '\n'); s && s[1] && s[1] != '\n'; s = strchr(s + 1, '\n')) {
    long long m;
    char name[64];
    if (sscanf(s + 1, "%lld %63s", &m, name) == 2 && m == major)
      return oci_xstrdup(name);
  }
  return NULL;
}

static void add_allow(struct sd_prop *q, char *path, const char *access) {
  q->devices = oci_xrealloc(q->devices, (q->n_devices + 1) * sizeof(*q->devices));
  struct sd_device_allow *d = &q->devices[q->n_devices++];
  d->path = path;
  snprintf(d->access, sizeof(d->access), "%s", access && access[0] ? access : "rwm");
}

static void allow_one(struct sd_prop *q, char type, const struct oci_device_rule *r,
                      const char *proc_devices) {
  const char *kind = type == 'b' ? "block" : "char";
  if (!r->major.set) {
    add_allow(q, oci_xasprintf("%s-*", kind), r->access);
  } else if (!r->minor.set) {
    char *group = device_group(proc_devices, type, r->major.v);
    if (group) /* an unregistered major has no device to open anyway */
      add_allow(q, oci_xasprintf("%s-%s", kind, group), r->access);
    free(group);
  } else {
    add_allow(q, oci_xasprintf("/dev/%s/%" PRId64 ":%" PRId64, kind, r->major.v, r->minor.v),
              r->access);
  }
}

/* For cgroup v1, where systemd writes the devices files itself whenever it
 * (re)applies the unit: with no list it would allow every device. The
 * list is every allow rule (deny rules cannot be said to systemd), so it
 * is never narrower than ours; ours, written after, is the one in force. */
void oci_cg_systemd_device_props(const struct oci_device_rule *rules, size_t n,
                                 const char *proc_devices, struct sd_props *p) {
  bool all = false;
  for (size_t i = 0; i < n; i++) {
    const struct oci_device_rule *r = &rules[i];
    bool every = r->type == 'a' && !r->major.set && !r->minor.set;
    if (every)
      all = r->allow && (r->access == NULL || (strchr(r->access, 'r') && strchr(r->access, 'w') &&
                                               strchr(r->access, 'm')));
  }
  oci_sd_props_add(p, "DevicePolicy", SD_PROP_STR)->s = oci_xstrdup(all ? "auto" : "strict");
  struct sd_prop *q = oci_sd_props_add(p, "DeviceAllow", SD_PROP_DEVICES);
  for (size_t i = 0; !all && i < n; i++) {
    const struct oci_device_rule *r = &rules[i];
    if (!r->allow)
      continue;
    if (r->type == 'a' || r->type == 'c')
      allow_one(q, 'c', r, proc_devices);
    if (r->type == 'a' || r->type == 'b')
      allow_one(q, 'b', r, proc_devices);
  }
}

/* ---- the driver's steps ---------------------------------------------------- */

void oci_cg_systemd_free(struct cg_systemd *sd) {
  if (sd == NULL)
    return;
  oci_sdbus_close(sd->bus);
  free(sd->unit);
  free(sd->slice);
  free(sd);
}

void oci_cgroup_disconnect(struct oci_cgroup *cg) {
  if (cg && cg->sd) {
    oci_sdbus_close(cg->sd->bus);
    cg->sd->bus = NULL;
  }
}

static int connect_bus(struct cg_systemd *sd, oci_error *err) {
  if (sd->bus)
    return 0;
  return oci_sdbus_open(sd->user, &sd->bus, err);
}

/* cgroup v1: the device rules as systemd's properties too (the names of
 * device groups come from /proc/devices). */
static void add_device_props(const struct oci_device_rule *rules, size_t n, struct sd_props *p) {
  _cleanup_free_ char *devs = NULL;
  oci_read_file("/proc/devices", &devs, NULL, NULL);
  oci_cg_systemd_device_props(rules, n, devs, p);
}

/* Is there a manager to talk to? Said before anything is made. */
static int systemd_running(bool user, oci_error *err) {
  struct stat st;
  if (!user && stat("/run/systemd/system", &st) < 0)
    return oci_error_setx(err, ENOTSUP,
                          "systemd cgroup driver requested but systemd is not running "
                          "(no /run/systemd/system)");
  if (user && getenv("DBUS_SESSION_BUS_ADDRESS") == NULL && getenv("XDG_RUNTIME_DIR") == NULL)
    return oci_error_setx(err, ENOTSUP,
                          "systemd cgroup driver requested by a non-root user, but neither "
                          "XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set to reach "
                          "the user's systemd");
  /* libsystemd itself is loaded at the first call, after the clone, where
   * its cost overlaps the init's work on the rootfs. */
  return 0;
}

void oci_cgroup_preconnect(bool systemd) {
  bool user = oci_is_rootless();
  oci_error ignored;
  if (systemd && systemd_running(user, &ignored) == 0)
    oci_sdbus_preconnect(user);
}

void oci_cgroup_preconnect_join(void) {
  oci_sdbus_preconnect_join();
}

static int systemd_usable(bool user, enum oci_cgroup_mode mode, oci_error *err) {
  if (systemd_running(user, err) < 0)
    return -1;
  /* cgroup v1 has no safe delegation to a user: runc and crun refuse it too. */
  if (user && mode != OCI_CGROUP_V2)
    return oci_error_setx(err, ENOTSUP,
                          "the systemd cgroup driver for a rootless container needs cgroup v2 "
                          "(this host has cgroup v1)");
  return 0;
}

int oci_cgroup_systemd_usable(oci_error *err) {
  enum oci_cgroup_mode mode;
  if (oci_cgroup_mode(&mode, err) < 0)
    return -1;
  return systemd_usable(oci_is_rootless(), mode, err);
}

int oci_cg_systemd_prepare(struct oci_cgroup *cg, const char *cgroups_path, const char *id,
                           char **abs_path, oci_error *err) {
  /* Rootless (also uid 0 of rootless podman's user namespace): the
   * user's own manager. */
  bool user = oci_is_rootless();
  if (systemd_usable(user, cg->mode, err) < 0)
    return -1;
  struct cg_systemd *sd = oci_xmalloc0(sizeof(*sd));
  sd->user = user;
  if (oci_cg_systemd_parse_path(cgroups_path, id, user, &sd->slice, &sd->unit, err) < 0) {
    oci_cg_systemd_free(sd);
    return -1;
  }
  /* The system manager's units live from the root of the hierarchy; a
   * user's below its own service: one more round trip, rootless only. */
  _cleanup_free_ char *manager_cg = NULL;
  if (user && (connect_bus(sd, err) < 0 || oci_sdbus_manager_cgroup(sd->bus, &manager_cg, err) < 0)) {
    oci_cg_systemd_free(sd);
    return -1;
  }
  if (unit_cgroup_path(manager_cg ? manager_cg : "/", sd->slice, sd->unit, abs_path, err) < 0) {
    oci_cg_systemd_free(sd);
    return -1;
  }
  cg->sd = sd;
  return 0;
}

int oci_cg_systemd_start(struct oci_cgroup *cg, const char *id, pid_t pid,
                         const struct oci_resources *res, const struct oci_device_rule *rules,
                         size_t n_rules, oci_error *err) {
  struct cg_systemd *sd = cg->sd;
  bool v2 = cg->mode == OCI_CGROUP_V2;
  bool slice = ends_with(sd->unit, ".slice");
  struct sd_props p = {0};
  oci_sd_props_add(&p, "Description", SD_PROP_STR)->s = oci_xasprintf("ocirun container %s", id);
  if (slice) {
    /* A slice holds no process by itself: the cgroupfs join puts the init
     * in; systemd learns the parent from the name. */
    oci_sd_props_add(&p, "Wants", SD_PROP_STR)->s = oci_xstrdup(sd->slice);
  } else {
    oci_sd_props_add(&p, "Slice", SD_PROP_STR)->s = oci_xstrdup(sd->slice);
    struct sd_prop *q = oci_sd_props_add(&p, "PIDs", SD_PROP_PIDS);
    q->pids = oci_xmalloc0(sizeof(uint32_t));
    q->pids[0] = (uint32_t)pid;
    q->n_pids = 1;
  }
  oci_sd_props_add(&p, "Delegate", SD_PROP_BOOL)->b = true;
  /* No ordering against shutdown targets: the engine stops containers. */
  oci_sd_props_add(&p, "DefaultDependencies", SD_PROP_BOOL)->b = false;
  /* Gone once stopped, failed or not: nothing for delete to reset. */
  oci_sd_props_add(&p, "CollectMode", SD_PROP_STR)->s = oci_xstrdup("inactive-or-failed");
  /* No *Accounting=yes as runc sends: Delegate=yes gives the scope every
   * controller already, and accounting makes systemd re-realize the whole
   * slice (each sibling's cgroup) at every start, which cost 0.2 s a run
   * in the benchmark's VM. */
  int r = oci_cg_systemd_resource_props(res, v2, &p, err);
  if (r == 0 && !v2)
    add_device_props(rules, n_rules, &p);
  /* The debug line says what the driver costs (the benchmark reads it). */
  uint64_t t0 = oci_monotonic_usec(), t1 = t0;
  if (r == 0 && (r = connect_bus(sd, err)) == 0) {
    t1 = oci_monotonic_usec();
    r = oci_sdbus_start_unit(sd->bus, sd->unit, &p, err);
  }
  oci_sd_props_free(&p);
  if (r == 0) {
    sd->started = true;
    oci_debug("systemd: started %s in %s for pid %d (connect %" PRIu64 " us, start and job %" PRIu64
              " us)", sd->unit, sd->slice, (int)pid, t1 - t0, oci_monotonic_usec() - t1);
  }
  return r;
}

int oci_cg_systemd_update(struct oci_cgroup *cg, const struct oci_resources *res,
                          const struct oci_device_rule *rules, size_t n_rules, oci_error *err) {
  struct cg_systemd *sd = cg->sd;
  if (sd->started) {
    sd->started = false; /* create: the start sent these already */
    return 0;
  }
  bool v2 = cg->mode == OCI_CGROUP_V2;
  struct sd_props p = {0};
  int r = oci_cg_systemd_resource_props(res, v2, &p, err);
  if (r == 0 && !v2 && rules)
    add_device_props(rules, n_rules, &p);
  if (r == 0 && p.n > 0 && (r = connect_bus(sd, err)) == 0)
    r = oci_sdbus_set_properties(sd->bus, sd->unit, &p, err);
  oci_sd_props_free(&p);
  return r;
}

int oci_cg_systemd_stop(struct oci_cgroup *cg, oci_error *err) {
  struct cg_systemd *sd = cg->sd;
  uint64_t t0 = oci_monotonic_usec();
  if (connect_bus(sd, err) < 0 || oci_sdbus_stop_unit(sd->bus, sd->unit, err) < 0)
    return -1;
  oci_debug("systemd: stopped %s (%" PRIu64 " us)", sd->unit, oci_monotonic_usec() - t0);
  return 0;
}
