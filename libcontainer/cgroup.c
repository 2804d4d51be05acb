/* ocirun — cgroups front: detects v1/v2/hybrid once, resolves where the
 * container's cgroups live, creates and removes them, saves them in the
 * state, and hands everything version-specific to a driver (cgroup-v1.c or
 * cgroup-v2.c). Callers never branch on the version.
 *
 * Placement (the cgroupfs rules runc uses): an absolute linux.cgroupsPath
 * is taken as given inside every hierarchy; a relative one is resolved
 * below the caller's own cgroup in each hierarchy (from /proc/self/cgroup),
 * except on a pure v2 host, where it goes below the parent of the caller's
 * cgroup: the caller's own holds processes (at least the caller), so no
 * controller could be enabled for a child of it. An unset one becomes
 * "<that cgroup>/<id>", as runc names it. In hybrid mode the v1
 * controllers do the work and the same path is also created and joined in
 * the unified hierarchy, so the process is placed in v2 too. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "config-json.h"
#include "cgroup-internal.h"
#include "internal.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* ---- mode ------------------------------------------------------------- */

enum oci_cgroup_mode oci_cg_mode_from_magic(unsigned long root_magic, bool unified_is_cgroup2) {
  if (root_magic == CGROUP2_SUPER_MAGIC)
    return OCI_CGROUP_V2;
  if (root_magic == TMPFS_MAGIC && unified_is_cgroup2)
    return OCI_CGROUP_HYBRID;
  return OCI_CGROUP_V1;
}

int oci_cgroup_mode(enum oci_cgroup_mode *out, oci_error *err) {
  static int cached = -1;
  if (cached < 0) {
    struct statfs root, unified;
    if (statfs(CGROUP_ROOT, &root) < 0)
      return oci_error_errno(err, "statfs \"%s\"", CGROUP_ROOT);
    bool u2 = statfs(CGROUP_ROOT "/unified", &unified) == 0 &&
              (unsigned long)unified.f_type == CGROUP2_SUPER_MAGIC;
    cached = (int)oci_cg_mode_from_magic((unsigned long)root.f_type, u2);
  }
  *out = (enum oci_cgroup_mode)cached;
  return 0;
}

static const char *mode_name(enum oci_cgroup_mode m) {
  return m == OCI_CGROUP_V2 ? "v2" : m == OCI_CGROUP_HYBRID ? "hybrid" : "v1";
}

static const struct cg_driver *driver_for(enum oci_cgroup_mode m) {
  return m == OCI_CGROUP_V2 ? &oci_cg_driver_v2 : &oci_cg_driver_v1;
}

/* ---- the struct --------------------------------------------------------- */

static void hier_clear(struct cg_hier *h) {
  free(h->controllers);
  free(h->mount);
  free(h->rel);
  free(h->dir);
}

static void rules_free(struct oci_device_rule *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(r[i].access);
  free(r);
}

void oci_cgroup_free(struct oci_cgroup *cg) {
  if (cg == NULL)
    return;
  for (size_t i = 0; i < cg->n_v1; i++)
    hier_clear(&cg->v1[i]);
  free(cg->v1);
  if (cg->v2)
    hier_clear(cg->v2);
  free(cg->v2);
  rules_free(cg->extra_rules, cg->n_extra_rules);
  oci_cg_systemd_free(cg->sd);
  free(cg);
}

static struct oci_cgroup *cgroup_new(enum oci_cgroup_mode mode) {
  struct oci_cgroup *cg = oci_xmalloc0(sizeof(*cg));
  cg->mode = mode;
  cg->drv = driver_for(mode);
  return cg;
}

/* The directory whose cgroup.procs lists the container's processes. */
static const char *main_dir(const struct oci_cgroup *cg) {
  if (cg->mode == OCI_CGROUP_V2 && cg->v2)
    return cg->v2->dir;
  for (size_t i = 0; i < cg->n_v1; i++)
    if (strcmp(cg->v1[i].controllers, "freezer") == 0)
      return cg->v1[i].dir;
  if (cg->n_v1 > 0)
    return cg->v1[0].dir;
  return cg->v2 ? cg->v2->dir : NULL;
}

/* ---- where the hierarchies are mounted -------------------------------- */

static bool opts_have(const char *opts, const char *name, size_t len) {
  for (const char *p = opts; p && *p;) {
    const char *end = strchrnul(p, ',');
    if ((size_t)(end - p) == len && strncmp(p, name, len) == 0)
      return true;
    p = *end ? end + 1 : end;
  }
  return false;
}

/* Does a cgroup v1 mount with these super options hold every controller? */
static bool opts_have_all(const char *opts, const char *controllers) {
  for (const char *p = controllers; *p;) {
    const char *end = strchrnul(p, ',');
    if (!opts_have(opts, p, (size_t)(end - p)))
      return false;
    p = *end ? end + 1 : end;
  }
  return true;
}

static const struct oci_mountinfo_entry *find_mount(const struct oci_mountinfo_entry *m,
                                                    size_t n, const char *controllers) {
  bool v2 = controllers[0] == '\0';
  for (size_t i = 0; i < n; i++) {
    if (strcmp(m[i].fstype, v2 ? "cgroup2" : "cgroup") != 0)
      continue;
    if (v2 || opts_have_all(m[i].super_opts, controllers))
      return &m[i];
  }
  return NULL;
}

/* Fill h for the container inside one hierarchy mounted at `fs`. */
static void hier_init(struct cg_hier *h, const char *controllers,
                      const struct oci_mountinfo_entry *fs, const char *own,
                      const char *cgroups_path, const char *id) {
  const char *mroot = fs->root;
  h->controllers = oci_xstrdup(controllers);
  h->mount = oci_xstrdup(fs->target);
  h->rel = oci_cg_resolve_path(own, cgroups_path, id);
  /* A mount whose root is not "/" shows only part of the hierarchy. */
  const char *below = h->rel;
  size_t rl = mroot ? strlen(mroot) : 0;
  if (rl > 1 && strncmp(h->rel, mroot, rl) == 0 && (h->rel[rl] == '/' || h->rel[rl] == '\0'))
    below = h->rel + rl;
  h->dir = oci_xasprintf("%s%s", h->mount, strcmp(below, "/") == 0 ? "" : below);
}

/* own_v2: on pure v2, resolve below the caller's own cgroup, not its parent
 * (only to describe where the caller is; nothing is made there). */
static int discover(struct oci_cgroup *cg, const char *cgroups_path, const char *id, bool own_v2,
                    oci_error *err) {
  _cleanup_free_ char *text = NULL, *mtext = NULL;
  if (oci_read_file("/proc/self/cgroup", &text, NULL, err) < 0)
    return -1;
  _cleanup_free_ struct oci_mountinfo_entry *mounts = NULL;
  size_t n_mounts = 0;
  if (oci_mountinfo_read(&mtext, &mounts, &n_mounts, err) < 0)
    return -1;
  struct cg_proc_entry *ents = NULL;
  size_t n = 0;
  if (oci_cg_parse_proc_cgroup(text, &ents, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    bool unified = ents[i].id == 0 && ents[i].controllers[0] == '\0';
    bool want = unified ? cg->mode != OCI_CGROUP_V1 : cg->mode != OCI_CGROUP_V2;
    /* Named hierarchies carry no controller; only systemd's is joined. */
    if (!unified && strncmp(ents[i].controllers, "name=", 5) == 0 &&
        strcmp(ents[i].controllers, "name=systemd") != 0)
      want = false;
    if (!want)
      continue;
    const struct oci_mountinfo_entry *fs = find_mount(mounts, n_mounts, ents[i].controllers);
    if (fs == NULL)
      continue; /* not mounted in this mount namespace */
    if (unified) {
      cg->v2 = oci_xmalloc0(sizeof(*cg->v2));
      _cleanup_free_ char *own = oci_xstrdup(ents[i].path);
      if (cg->mode == OCI_CGROUP_V2 && !own_v2) {
        char *slash = strrchr(own, '/');
        if (slash)
          slash[slash == own] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
      }
      hier_init(cg->v2, "", fs, own, cgroups_path, id);
    } else {
      cg->v1 = oci_xrealloc(cg->v1, (cg->n_v1 + 1) * sizeof(*cg->v1));
      memset(&cg->v1[cg->n_v1], 0, sizeof(*cg->v1));
      hier_init(&cg->v1[cg->n_v1++], ents[i].controllers, fs, ents[i].path, cgroups_path, id);
    }
  }
  oci_cg_proc_entries_free(ents, n);
  if (cg->n_v1 == 0 && cg->v2 == NULL)
    return oci_error_setx(err, ENOENT, "no cgroup hierarchy is mounted (mode %s)",
                         mode_name(cg->mode));
  if (cg->mode == OCI_CGROUP_V2 && cg->v2 == NULL)
    return oci_error_setx(err, ENOENT, "cgroup v2 is not mounted");
  return 0;
}

/* ---- device rules added to the config's -------------------------------- */

/* runc's fixed defaults, written after the config's rules. The config's
 * linux.devices nodes get no rule of their own: as with runc, a deny rule in
 * linux.resources.devices covers them too (the spec makes the node, the
 * resources decide whether it can be opened). */
void oci_cg_set_default_rules(struct oci_cgroup *cg) {
  rules_free(cg->extra_rules, cg->n_extra_rules);
  oci_cg_device_defaults(&cg->extra_rules, &cg->n_extra_rules);
}

/* ---- create / apply / enter / destroy --------------------------------- */

static int for_each_dir(struct oci_cgroup *cg, int (*fn)(const char *dir, void *data, oci_error *err),
                        void *data, oci_error *err) {
  for (size_t i = 0; i < cg->n_v1; i++)
    if (fn(cg->v1[i].dir, data, err) < 0)
      return -1;
  if (cg->v2 && fn(cg->v2->dir, data, err) < 0)
    return -1;
  return 0;
}

/* A cgroup that already holds processes is somebody else's: taking it over
 * would make our rollback and delete kill them (cgroupsPath "/" or the
 * caller's own cgroup). runc refuses it the same way, in the words used
 * here and for a frozen one, which its tests match. */
static int refuse_busy(const char *dir, void *data, oci_error *err) {
  (void)data;
  struct stat st;
  if (stat(dir, &st) < 0)
    return 0; /* to be made */
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (oci_cg_read_pids(dir, &pids, &n, err) < 0)
    return -1;
  if (n > 0)
    return oci_error_setx(err, EBUSY, "linux.cgroupsPath: container's cgroup is not empty: "
                          "\"%s\" holds %zu process(es)", dir, n);
  return 0;
}

/* A frozen cgroup (a cgroupsPath someone froze, or one below a frozen
 * cgroup) would stop the init the moment it enters, in D state, and create
 * would wait for it forever: refused, before anything is made when it is
 * frozen already, after the directories are made for a frozen ancestor. */
static int refuse_frozen(struct oci_cgroup *cg, oci_error *err) {
  const char *dir = main_dir(cg);
  struct stat st;
  bool frozen = false;
  oci_error ignored;
  if (dir == NULL || stat(dir, &st) < 0 || cg->drv->is_frozen(cg, &frozen, &ignored) < 0 ||
      !frozen)
    return 0;
  return oci_error_setx(err, EBUSY, "linux.cgroupsPath: container's cgroup unexpectedly "
                        "frozen: \"%s\": a process put in it could not run; thaw it first", dir);
}

static int mkdir_one(const char *dir, void *data, oci_error *err) {
  (void)data;
  return oci_mkdir_p(dir, 0755, err);
}

static int rmdir_one(const char *dir, void *data, oci_error *err) {
  int *failed = data;
  oci_error e = {0};
  if (oci_cg_rmdir_tree(dir, &e) < 0) {
    if (!*failed)
      *err = e;
    *failed = 1;
  }
  return 0; /* keep going: remove as much as we can */
}

int oci_cgroup_prepare(const struct oci_config *cfg, const char *id, bool systemd,
                       struct oci_cgroup **out, oci_error *err) {
  enum oci_cgroup_mode mode;
  if (oci_cgroup_mode(&mode, err) < 0)
    return -1;
  struct oci_cgroup *cg = cgroup_new(mode);
  const char *path = cfg && cfg->linux_ ? cfg->linux_->cgroups_path : NULL;
  _cleanup_free_ char *unit_path = NULL;
  oci_cg_set_default_rules(cg);
  cg->devices_pending = true;
  cg->initial = cfg && cfg->linux_ ? cfg->linux_->resources : NULL;
  /* systemd: the unit's cgroup, the same path in every hierarchy. */
  if (systemd && oci_cg_systemd_prepare(cg, path, id, &unit_path, err) < 0) {
    oci_cgroup_free(cg);
    return -1;
  }
  if (unit_path)
    path = unit_path;
  if (discover(cg, path, id, false, err) < 0 || for_each_dir(cg, refuse_busy, NULL, err) < 0 ||
      refuse_frozen(cg, err) < 0) {
    oci_cgroup_free(cg); /* nothing made yet, nothing of ours to remove */
    return oci_error_wrap(err, "create cgroup for \"%s\"", id);
  }
  *out = cg;
  return 0;
}

int oci_cgroup_current(struct oci_cgroup **out, oci_error *err) {
  enum oci_cgroup_mode mode;
  if (oci_cgroup_mode(&mode, err) < 0)
    return -1;
  struct oci_cgroup *cg = cgroup_new(mode);
  /* "." resolves to the caller's own cgroup in every hierarchy. */
  if (discover(cg, ".", "", true, err) < 0) {
    oci_cgroup_free(cg);
    return oci_error_wrap(err, "the runtime's own cgroups");
  }
  *out = cg;
  return 0;
}

/* The device rules apply() writes: the resources', then cg's extra ones. */
static struct oci_device_rule *collect_rules(const struct oci_cgroup *cg,
                                             const struct oci_resources *res, size_t *n) {
  *n = res->n_devices + cg->n_extra_rules;
  struct oci_device_rule *rules = oci_xmalloc0((*n + 1) * sizeof(*rules));
  if (res->n_devices)
    memcpy(rules, res->devices, res->n_devices * sizeof(*rules));
  if (cg->n_extra_rules)
    memcpy(rules + res->n_devices, cg->extra_rules, cg->n_extra_rules * sizeof(*rules));
  return rules;
}

static const struct oci_resources no_resources;

/* systemd: the unit, with pid in it, before the directories (it makes
 * most of them). */
static int start_unit(struct oci_cgroup *cg, const char *id, pid_t pid, oci_error *err) {
  const struct oci_resources *res = cg->initial ? cg->initial : &no_resources;
  size_t n = 0;
  _cleanup_free_ struct oci_device_rule *rules = collect_rules(cg, res, &n);
  return oci_cg_systemd_start(cg, id, pid, res, rules, n, err);
}

int oci_cgroup_make(struct oci_cgroup *cg, const char *id, pid_t pid, oci_error *err) {
  bool unit_started = false;
  if (cg->sd) {
    if (start_unit(cg, id, pid, err) < 0)
      return oci_error_wrap(err, "create cgroup for \"%s\"", id);
    unit_started = true;
  }
  if (for_each_dir(cg, mkdir_one, NULL, err) < 0 || cg->drv->create(cg, err) < 0 ||
      refuse_frozen(cg, err) < 0) {
    int failed = 0;
    oci_error ignored;
    /* The unit holds the init already: kill it, stop the unit, remove
     * the rest (destroy's order), rather than wait for systemd's SIGTERM. */
    if (unit_started && oci_cgroup_destroy(cg, &ignored) < 0)
      oci_warn("rollback: %s", ignored.msg);
    else if (!unit_started)
      for_each_dir(cg, rmdir_one, &failed, &ignored);
    return oci_error_wrap(err, "create cgroup for \"%s\"", id);
  }
  oci_debug("cgroup %s: created %s (%s)", id, main_dir(cg), mode_name(cg->mode));
  return 0;
}

int oci_cgroup_apply(struct oci_cgroup *cg, const struct oci_resources *res, oci_error *err) {
  if (res == NULL)
    res = &no_resources;
  _cleanup_free_ struct oci_device_rule *rules = NULL;
  size_t n_rules = 0;
  bool devices = res->n_devices > 0 || cg->devices_pending;
  /* Rootless, as with runc: an unprivileged user can neither load a device
   * program nor write devices.allow, and a container in a user namespace
   * can open only the device nodes its user could open anyway. */
  if (devices && oci_is_rootless()) {
    oci_debug("cgroup: rootless: the device rules are not applied by a cgroup");
    devices = false;
    cg->devices_pending = false;
  }
  if (devices)
    rules = collect_rules(cg, res, &n_rules);
  /* systemd first: its own write of a value must not undo ours. */
  if (cg->sd && oci_cg_systemd_update(cg, res, rules, n_rules, err) < 0)
    return -1;
  if (cg->drv->apply(cg, res, devices ? rules : NULL, n_rules, err) < 0)
    return -1;
  if (devices)
    cg->devices_pending = false;
  return 0;
}

static int enter_one(const char *dir, void *data, oci_error *err) {
  if (oci_cg_write_fmt(dir, "cgroup.procs", "join cgroup", err, "%d", *(pid_t *)data) < 0)
    return oci_error_wrap(err, "%s", dir);
  return 0;
}

int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, oci_error *err) {
  return for_each_dir(cg, enter_one, &pid, err);
}

/* ---- exec --cgroup: a sub-cgroup of the container's -------------------- */

/* "a/./b/../c/" -> "a/c"; "" for the container's own cgroup. A path that
 * leaves it ("..", "a/../..") is refused, in runc's words. */
static int clean_sub_path(const char *spec, const char *path, char **out, oci_error *err) {
  _cleanup_free_ char *copy = oci_xstrdup(path);
  char *clean = oci_xmalloc0(strlen(path) + 1);
  size_t len = 0;
  char *save = NULL;
  for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
    if (strcmp(part, ".") == 0)
      continue;
    if (strcmp(part, "..") == 0) {
      if (len == 0) {
        free(clean);
        return oci_error_setx(err, EINVAL, "sub cgroup \"%s\": %s is not a sub cgroup path",
                              spec, path);
      }
      while (len > 0 && clean[len - 1] != '/')
        len--;
      len = len > 0 ? len - 1 : 0;
      clean[len] = '\0';
      continue;
    }
    len += (size_t)sprintf(clean + len, "%s%s", len ? "/" : "", part);
  }
  *out = clean;
  return 0;
}

/* Whether controller is one of a hierarchy's ("cpu" in "cpu,cpuacct"). */
static bool hier_has(const struct cg_hier *h, const char *controller) {
  size_t n = strlen(controller);
  for (const char *c = h->controllers; c && *c;) {
    const char *end = strchrnul(c, ',');
    if ((size_t)(end - c) == n && strncmp(c, controller, n) == 0)
      return true;
    c = *end ? end + 1 : end;
  }
  return false;
}

/* Apply one "[CONTROLLER[,CONTROLLER...]:]PATH" to subs[] (one entry per
 * v1 hierarchy, then the v2 one): no controllers means every hierarchy. */
static int apply_sub_spec(const struct oci_cgroup *cg, const char *spec, char **subs,
                          oci_error *err) {
  const char *colon = strchr(spec, ':');
  char *path = NULL;
  if (clean_sub_path(spec, colon ? colon + 1 : spec, &path, err) < 0)
    return -1;
  size_t n = cg->n_v1 + (cg->v2 ? 1 : 0);
  if (colon == NULL || colon == spec) {
    for (size_t i = 0; i < n; i++) {
      free(subs[i]);
      subs[i] = oci_xstrdup(path);
    }
    free(path);
    return 0;
  }
  _cleanup_free_ char *list = oci_xstrdup(spec);
  list[colon - spec] = '\0';
  char *save = NULL;
  for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
    size_t i = 0;
    while (i < cg->n_v1 && !hier_has(&cg->v1[i], c))
      i++;
    if (i == cg->n_v1) {
      free(path);
      return oci_error_setx(err, EINVAL, "sub cgroup \"%s\": unknown controller \"%s\"%s", spec,
                            c, cg->n_v1 ? "" : " (cgroup v2 takes a path only)");
    }
    free(subs[i]);
    subs[i] = oci_xstrdup(path);
  }
  free(path);
  return 0;
}

static void subs_free(char **subs, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(subs[i]);
  free(subs);
}

/* The sub-path per hierarchy (index as in apply_sub_spec) the specs ask for,
 * NULL where none applies; later specs win. */
static char **resolve_subs(const struct oci_cgroup *cg, char *const *specs, size_t n_specs,
                           oci_error *err) {
  size_t n = cg->n_v1 + (cg->v2 ? 1 : 0);
  char **subs = oci_xmalloc0((n + 1) * sizeof(*subs));
  for (size_t i = 0; i < n_specs; i++)
    if (apply_sub_spec(cg, specs[i], subs, err) < 0) {
      subs_free(subs, n);
      return NULL;
    }
  return subs;
}

int oci_cgroup_check_subs(const struct oci_cgroup *cg, char *const *specs, size_t n_specs,
                          oci_error *err) {
  char **subs = resolve_subs(cg, specs, n_specs, err);
  if (subs == NULL)
    return -1;
  subs_free(subs, cg->n_v1 + (cg->v2 ? 1 : 0));
  return 0;
}

/* Go's wording of an errno, which runc's messages carry: "no such file or
 * directory". */
static void lower_first(char *s) {
  if (s[0] >= 'A' && s[0] <= 'Z')
    s[0] = (char)(s[0] - 'A' + 'a');
}

static int enter_sub(const char *dir, const char *sub, pid_t pid, oci_error *err) {
  _cleanup_free_ char *target = *sub ? oci_xasprintf("%s/%s", dir, sub) : oci_xstrdup(dir);
  _cleanup_free_ char *procs = oci_xasprintf("%s/cgroup.procs", target);
  char buf[24];
  int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
  _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && oci_write_all(fd, buf, (size_t)n) == 0)
    return 0;
  int e = errno;
  char text[128];
  snprintf(text, sizeof(text), "%s", strerror(e));
  lower_first(text);
  return oci_error_setx(err, e, "adding pid %d to cgroups: open %s: %s", (int)pid, procs, text);
}

int oci_cgroup_enter_subs(struct oci_cgroup *cg, pid_t pid, char *const *specs, size_t n_specs,
                          oci_error *err) {
  if (n_specs == 0)
    return oci_cgroup_enter(cg, pid, err);
  char **subs = resolve_subs(cg, specs, n_specs, err);
  if (subs == NULL)
    return -1;
  int r = 0;
  for (size_t i = 0; r == 0 && i < cg->n_v1; i++)
    r = enter_sub(cg->v1[i].dir, subs[i] ? subs[i] : "", pid, err);
  if (r == 0 && cg->v2)
    r = enter_sub(cg->v2->dir, subs[cg->n_v1] ? subs[cg->n_v1] : "", pid, err);
  subs_free(subs, cg->n_v1 + (cg->v2 ? 1 : 0));
  return r;
}

/* Pidfds of the listed processes, opened before they are signalled so a
 * reused pid cannot fool the wait; those already gone are left out. */
static size_t open_pidfds(const pid_t *pids, size_t n, int *fds, bool *unsupported) {
  size_t k = 0;
  *unsupported = false;
  for (size_t i = 0; i < n; i++) {
    int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
    if (fd >= 0)
      fds[k++] = fd;
    else if (errno == ENOSYS)
      *unsupported = true;
  }
  return k;
}

/* Poll each pidfd until its process has exited (it has then left its
 * cgroup) or the deadline passes; closes them all. */
static void wait_pidfds(int *fds, size_t k, int64_t t0, long limit_ms) {
  for (size_t i = 0; i < k; i++) {
    struct pollfd p = {.fd = fds[i], .events = POLLIN};
    long left = limit_ms - (long)(oci_monotonic_ms() - t0);
    while (left > 0 && poll(&p, 1, (int)left) < 0 && errno == EINTR)
      left = limit_ms - (long)(oci_monotonic_ms() - t0);
    close(fds[i]);
  }
}

/* SIGKILL everything and wait for it to exit: pidfds, no sleeping (a short
 * sleep only where the kernel has no pidfd_open). Bounded to 5 s. */
static int kill_and_wait(struct oci_cgroup *cg, oci_error *err) {
  const long limit_ms = 5000;
  const char *dir = main_dir(cg);
  const int64_t t0 = oci_monotonic_ms();
  for (;;) {
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    oci_error e;
    /* ENODEV: removed while we read it (systemd removes an emptied unit's) */
    if (oci_cg_read_pids(dir, &pids, &n, &e) < 0)
      return e.errnum == ENOENT || e.errnum == ENODEV ? 0 : (*err = e, -1);
    if (n == 0)
      return 0;
    if (oci_monotonic_ms() - t0 > limit_ms)
      return oci_error_setx(err, EBUSY, "cgroup %s: %zu processes still alive after SIGKILL",
                           dir, n);
    _cleanup_free_ int *fds = oci_xmalloc0(n * sizeof(int));
    bool no_pidfd;
    size_t k = open_pidfds(pids, n, fds, &no_pidfd);
    if (cg->drv->kill_all(cg, err) < 0) {
      wait_pidfds(fds, k, t0, 0);
      return -1;
    }
    if (k > 0)
      wait_pidfds(fds, k, t0, limit_ms);
    else if (no_pidfd)
      oci_cg_sleep_ms(10);
  }
}

int oci_cgroup_destroy(struct oci_cgroup *cg, oci_error *err) {
  if (cg == NULL)
    return 0;
  if (kill_and_wait(cg, err) < 0)
    return oci_error_wrap(err, "destroy cgroup");
  /* Empty now: stop the unit, so that systemd forgets it, then remove
   * what systemd did not make (v1 hierarchies it does not manage). */
  struct stat st;
  const char *dir = main_dir(cg);
  /* Its cgroup gone, the unit is too: systemd stops and collects a scope
   * that empties (a container that exited), and then nothing is left to
   * ask it, which spares loading libsystemd and the round trips. */
  if (cg->sd && (dir == NULL || stat(dir, &st) == 0) && oci_cg_systemd_stop(cg, err) < 0)
    return oci_error_wrap(err, "destroy cgroup");
  int failed = 0;
  for_each_dir(cg, rmdir_one, &failed, err);
  return failed ? oci_error_wrap(err, "destroy cgroup") : 0;
}

/* ---- save / load -------------------------------------------------------- */

static void gen_hier(yajl_gen g, const struct cg_hier *h) {
  yajl_gen_map_open(g);
  j_gen_str(g, "controllers");
  j_gen_str(g, h->controllers);
  j_gen_str(g, "mount");
  j_gen_str(g, h->mount);
  j_gen_str(g, "path");
  j_gen_str(g, h->rel);
  j_gen_str(g, "dir");
  j_gen_str(g, h->dir);
  yajl_gen_map_close(g);
}

char *oci_cgroup_save(const struct oci_cgroup *cg) {
  if (cg == NULL)
    return NULL;
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  j_gen_str(g, "mode");
  j_gen_str(g, mode_name(cg->mode));
  j_gen_str(g, "v1");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < cg->n_v1; i++)
    gen_hier(g, &cg->v1[i]);
  yajl_gen_array_close(g);
  if (cg->v2) {
    j_gen_str(g, "v2");
    gen_hier(g, cg->v2);
  }
  if (cg->sd) {
    j_gen_str(g, "systemd");
    yajl_gen_map_open(g);
    j_gen_str(g, "unit");
    j_gen_str(g, cg->sd->unit);
    j_gen_str(g, "slice");
    j_gen_str(g, cg->sd->slice);
    j_gen_str(g, "user");
    yajl_gen_bool(g, cg->sd->user);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
  return j_gen_finish(g);
}

static const char *tree_str(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

static int load_hier(yajl_val obj, struct cg_hier *h, oci_error *err) {
  const char *c = tree_str(obj, "controllers"), *m = tree_str(obj, "mount"),
             *p = tree_str(obj, "path"), *d = tree_str(obj, "dir");
  if (!c || !m || !p || !d)
    return oci_error_setx(err, EINVAL, "saved cgroup: hierarchy needs controllers, mount, path, dir");
  h->controllers = oci_xstrdup(c);
  h->mount = oci_xstrdup(m);
  h->rel = oci_xstrdup(p);
  h->dir = oci_xstrdup(d);
  return 0;
}

static int load_systemd(yajl_val root, struct oci_cgroup *cg, oci_error *err) {
  const char *k[] = {"systemd", NULL}, *ku[] = {"user", NULL};
  yajl_val sd = yajl_tree_get(root, k, yajl_t_object);
  if (sd == NULL)
    return 0;
  const char *unit = tree_str(sd, "unit"), *slice = tree_str(sd, "slice");
  if (unit == NULL || slice == NULL)
    return oci_error_setx(err, EINVAL, "saved cgroup: systemd needs unit and slice");
  cg->sd = oci_xmalloc0(sizeof(*cg->sd));
  cg->sd->unit = oci_xstrdup(unit);
  cg->sd->slice = oci_xstrdup(slice);
  cg->sd->user = YAJL_IS_TRUE(yajl_tree_get(sd, ku, yajl_t_true));
  return 0;
}

static int load_tree(yajl_val root, struct oci_cgroup **out, oci_error *err) {
  const char *mode = tree_str(root, "mode");
  enum oci_cgroup_mode m;
  if (mode && strcmp(mode, "v1") == 0)
    m = OCI_CGROUP_V1;
  else if (mode && strcmp(mode, "v2") == 0)
    m = OCI_CGROUP_V2;
  else if (mode && strcmp(mode, "hybrid") == 0)
    m = OCI_CGROUP_HYBRID;
  else
    return oci_error_setx(err, EINVAL, "saved cgroup: bad mode \"%s\"", mode ? mode : "");
  struct oci_cgroup *cg = cgroup_new(m);
  const char *k1[] = {"v1", NULL}, *k2[] = {"v2", NULL};
  yajl_val arr = yajl_tree_get(root, k1, yajl_t_array), v2 = yajl_tree_get(root, k2, yajl_t_object);
  size_t n = arr ? YAJL_GET_ARRAY(arr)->len : 0;
  cg->v1 = oci_xmalloc0((n + 1) * sizeof(*cg->v1));
  for (; cg->n_v1 < n; cg->n_v1++)
    if (load_hier(YAJL_GET_ARRAY(arr)->values[cg->n_v1], &cg->v1[cg->n_v1], err) < 0)
      goto fail;
  if (v2) {
    cg->v2 = oci_xmalloc0(sizeof(*cg->v2));
    if (load_hier(v2, cg->v2, err) < 0)
      goto fail;
  }
  if (cg->n_v1 == 0 && cg->v2 == NULL) {
    oci_error_setx(err, EINVAL, "saved cgroup: no hierarchy");
    goto fail;
  }
  if (load_systemd(root, cg, err) < 0)
    goto fail;
  *out = cg;
  return 0;
fail:
  oci_cgroup_free(cg);
  return -1;
}

int oci_cgroup_load(const char *saved, struct oci_cgroup **out, oci_error *err) {
  char ebuf[256] = "";
  yajl_val root = saved ? yajl_tree_parse(saved, ebuf, sizeof(ebuf)) : NULL;
  if (root == NULL || !YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    return oci_error_setx(err, EINVAL, "saved cgroup: not a JSON object: %s", ebuf);
  }
  int r = load_tree(root, out, err);
  yajl_tree_free(root);
  return r;
}

bool oci_cgroup_same_place(const struct oci_cgroup *a, const struct oci_cgroup *b) {
  if (a->mode != b->mode || a->n_v1 != b->n_v1 || (a->v2 == NULL) != (b->v2 == NULL))
    return false;
  for (size_t i = 0; i < a->n_v1; i++)
    if (strcmp(a->v1[i].dir, b->v1[i].dir) != 0)
      return false;
  return a->v2 == NULL || strcmp(a->v2->dir, b->v2->dir) == 0;
}

/* ---- the rest dispatches -------------------------------------------------- */

size_t oci_cgroup_views(const struct oci_cgroup *cg, struct oci_cgroup_view *out, size_t cap,
                        bool *tmpfs) {
  size_t n = 0;
  *tmpfs = cg->mode != OCI_CGROUP_V2;
  for (size_t i = 0; i < cg->n_v1; i++, n++) {
    const struct cg_hier *h = &cg->v1[i];
    const char *named = strncmp(h->controllers, "name=", 5) == 0 ? h->controllers + 5 : NULL;
    if (n < cap)
      out[n] = (struct oci_cgroup_view){.name = named ? named : h->controllers,
                                        .host_dir = h->dir, .fstype = "cgroup",
                                        .options = h->controllers, .rel = h->rel};
  }
  if (cg->v2 && n++ < cap)
    out[n - 1] = (struct oci_cgroup_view){.name = *tmpfs ? "unified" : NULL,
                                          .host_dir = cg->v2->dir, .fstype = "cgroup2",
                                          .rel = cg->v2->rel};
  return n;
}

int oci_cgroup_freeze(struct oci_cgroup *cg, bool frozen, oci_error *err) {
  return cg->drv->freeze(cg, frozen, err);
}

int oci_cgroup_is_frozen(struct oci_cgroup *cg, bool *frozen, oci_error *err) {
  return cg->drv->is_frozen(cg, frozen, err);
}

int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n, oci_error *err) {
  return oci_cg_read_pids(main_dir(cg), pids, n, err);
}

int oci_cgroup_kill(struct oci_cgroup *cg, int signum, oci_error *err) {
  if (signum == SIGKILL)
    return cg->drv->kill_all(cg, err);
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (oci_cgroup_pids(cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (kill(pids[i], signum) < 0 && errno != ESRCH)
      return oci_error_errno(err, "kill %d with signal %d", (int)pids[i], signum);
  return 0;
}

int oci_cgroup_stats_json(struct oci_cgroup *cg, char **json, oci_error *err) {
  return cg->drv->stats_json(cg, json, err);
}

int oci_cgroup_oom_fd(struct oci_cgroup *cg, int *fd, oci_error *err) {
  return cg->drv->oom_fd(cg, fd, err);
}

int oci_cgroup_oom_happened(struct oci_cgroup *cg, int fd, bool *oom, oci_error *err) {
  return cg->drv->oom_happened(cg, fd, oom, err);
}

bool oci_cgroup_oom_killed(struct oci_cgroup *cg) {
  uint64_t kills = 0;
  return cg->drv->oom_kills(cg, &kills) == 0 && kills > 0;
}
