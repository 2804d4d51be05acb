/* ocirun — the cgroup v1 driver (also hybrid: v1 controllers do the work;
 * cgroup.c creates and joins the unified side). One hierarchy per
 * controller group, found by name in cg->v1. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define R "linux.resources."

static bool list_has(const char *list, const char *name) {
  size_t len = strlen(name);
  for (const char *p = list; *p;) {
    const char *end = strchrnul(p, ',');
    if ((size_t)(end - p) == len && strncmp(p, name, len) == 0)
      return true;
    p = *end ? end + 1 : end;
  }
  return false;
}

/* The container's directory in the hierarchy holding `ctrl`, or NULL. */
static const char *dir_of(const struct oci_cgroup *cg, const char *ctrl) {
  for (size_t i = 0; i < cg->n_v1; i++)
    if (list_has(cg->v1[i].controllers, ctrl))
      return cg->v1[i].dir;
  return NULL;
}

static int need_dir(const struct oci_cgroup *cg, const char *ctrl, const char *what,
                    const char **dir, oci_error *err) {
  *dir = dir_of(cg, ctrl);
  if (*dir == NULL)
    return oci_error_setx(err, ENOENT, "%s: the cgroup v1 \"%s\" controller is not mounted",
                         what, ctrl);
  return 0;
}

/* ---- create: cpuset needs cpus and mems before anything can join -------- */

static int cpuset_copy_parent(const char *dir, const char *file, oci_error *err) {
  _cleanup_free_ char *cur = NULL, *parent = NULL;
  _cleanup_free_ char *pdir = oci_xstrdup(dir);
  *strrchr(pdir, '/') = '\0';
  if (oci_cg_read(dir, file, &cur, err) < 0)
    return -1;
  if (cur[0] != '\0')
    return 0;
  if (oci_cg_read(pdir, file, &parent, err) < 0)
    return -1;
  return oci_cg_write(dir, file, "cpuset", parent, err);
}

static int v1_create(struct oci_cgroup *cg, oci_error *err) {
  for (size_t i = 0; i < cg->n_v1; i++) {
    const struct cg_hier *h = &cg->v1[i];
    if (!list_has(h->controllers, "cpuset"))
      continue;
    /* Every level we may have made with mkdir -p starts empty: fill top down. */
    size_t mlen = strlen(h->mount);
    for (const char *p = h->dir + mlen; *p; p++) {
      if (*p != '/' || p == h->dir + mlen)
        continue;
      _cleanup_free_ char *level = oci_xasprintf("%.*s", (int)(p - h->dir), h->dir);
      if (cpuset_copy_parent(level, "cpuset.cpus", err) < 0 ||
          cpuset_copy_parent(level, "cpuset.mems", err) < 0)
        return -1;
    }
    if (cpuset_copy_parent(h->dir, "cpuset.cpus", err) < 0 ||
        cpuset_copy_parent(h->dir, "cpuset.mems", err) < 0)
      return -1;
  }
  return 0;
}

/* ---- apply -------------------------------------------------------------- */

static int write_i64(const char *dir, const char *file, const char *what, int64_t v,
                     oci_error *err) {
  return oci_cg_write_fmt(dir, file, what, err, "%" PRId64, v);
}

/* memory.memsw must stay >= memory.limit: pick the order that keeps it so. */
static int v1_memory_limits(const char *dir, const struct oci_memory *m, oci_error *err) {
  bool has_limit = m->limit.set, has_swap = m->swap.set;
  int64_t limit = m->limit.v, swap = m->swap.v;
  bool memsw = oci_cg_file_exists(dir, "memory.memsw.limit_in_bytes");
  if (has_limit && limit == -1 && !has_swap && memsw) {
    has_swap = true; /* unlimited memory means unlimited swap too, as runc does */
    swap = -1;
  }
  if (has_swap && !memsw)
    return oci_error_setx(err, ENOENT,
                         R "memory.swap: memory.memsw.limit_in_bytes is missing "
                           "(swap accounting is disabled)");
  bool swap_first = false;
  if (has_limit && has_swap) {
    uint64_t cur = 0;
    oci_cg_read_u64(dir, "memory.limit_in_bytes", &cur);
    swap_first = swap == -1 || cur < (uint64_t)swap;
  }
  if (swap_first && write_i64(dir, "memory.memsw.limit_in_bytes", R "memory.swap", swap, err) < 0)
    return -1;
  if (has_limit && write_i64(dir, "memory.limit_in_bytes", R "memory.limit", limit, err) < 0)
    return -1;
  if (has_swap && !swap_first &&
      write_i64(dir, "memory.memsw.limit_in_bytes", R "memory.swap", swap, err) < 0)
    return -1;
  return 0;
}

/* Kernel memory accounting files are gone from recent kernels: warn, skip. */
static int write_optional(const char *dir, const char *file, const char *what, int64_t v,
                          oci_error *err) {
  if (!oci_cg_file_exists(dir, file)) {
    oci_warn("%s: %s is not supported by this kernel; ignored", what, file);
    return 0;
  }
  return write_i64(dir, file, what, v, err);
}

static int check_usage(const char *dir, const char *file, const struct oci_memory *m,
                       oci_error *err) {
  if (!m->check_before_update.set || !m->check_before_update.v || !m->limit.set ||
      m->limit.v < 0)
    return 0;
  uint64_t usage;
  if (oci_cg_read_u64(dir, file, &usage) == 0 && (uint64_t)m->limit.v < usage)
    return oci_error_setx(err, EBUSY,
                         R "memory.limit: new limit %" PRId64 " is below the current usage %"
                           PRIu64 " (checkBeforeUpdate)", m->limit.v, usage);
  return 0;
}

static int v1_memory(const struct oci_cgroup *cg, const struct oci_memory *m, oci_error *err) {
  const char *dir;
  if (m == NULL)
    return 0;
  if (need_dir(cg, "memory", R "memory", &dir, err) < 0 ||
      check_usage(dir, "memory.usage_in_bytes", m, err) < 0 || v1_memory_limits(dir, m, err) < 0)
    return -1;
  if (m->reservation.set &&
      write_i64(dir, "memory.soft_limit_in_bytes", R "memory.reservation", m->reservation.v, err) < 0)
    return -1;
  if (m->kernel.set &&
      write_optional(dir, "memory.kmem.limit_in_bytes", R "memory.kernel", m->kernel.v, err) < 0)
    return -1;
  if (m->kernel_tcp.set && write_optional(dir, "memory.kmem.tcp.limit_in_bytes",
                                          R "memory.kernelTCP", m->kernel_tcp.v, err) < 0)
    return -1;
  if (m->swappiness.set) {
    if (m->swappiness.v > 100)
      return oci_error_setx(err, EINVAL, R "memory.swappiness: %" PRIu64 " is above 100",
                           m->swappiness.v);
    if (write_i64(dir, "memory.swappiness", R "memory.swappiness", (int64_t)m->swappiness.v, err) < 0)
      return -1;
  }
  if (m->disable_oom_killer.set && m->disable_oom_killer.v &&
      oci_cg_write(dir, "memory.oom_control", R "memory.disableOOMKiller", "1", err) < 0)
    return -1;
  if (m->use_hierarchy.set && oci_cg_write(dir, "memory.use_hierarchy", R "memory.useHierarchy",
                                           m->use_hierarchy.v ? "1" : "0", err) < 0)
    return -1;
  return 0;
}

/* Quota and period are checked against each other: if the period write is
 * refused with the old quota in place, set the quota first. */
static int v1_cfs(const char *dir, const struct oci_cpu *c, oci_error *err) {
  if (c->period.set) {
    oci_error first;
    if (write_i64(dir, "cpu.cfs_period_us", R "cpu.period", (int64_t)c->period.v, &first) == 0) {
      if (c->quota.set && write_i64(dir, "cpu.cfs_quota_us", R "cpu.quota", c->quota.v, err) < 0)
        return -1;
      return 0;
    }
    if (!c->quota.set) {
      *err = first;
      return -1;
    }
    if (write_i64(dir, "cpu.cfs_quota_us", R "cpu.quota", c->quota.v, err) < 0)
      return -1;
    return write_i64(dir, "cpu.cfs_period_us", R "cpu.period", (int64_t)c->period.v, err);
  }
  if (c->quota.set)
    return write_i64(dir, "cpu.cfs_quota_us", R "cpu.quota", c->quota.v, err);
  return 0;
}

/* The kernel refuses a period shorter than the runtime in force, and a
 * runtime longer than the period in force: to go from 900001/600001 to
 * 10000/3000 the runtime must come first, to go up the period (runc
 * issue 4094). Period first as usual; after EINVAL, runtime then period. */
static int v1_rt(const char *dir, const struct oci_cpu *c, oci_error *err) {
  oci_error first = {0};
  if (c->realtime_period.set &&
      write_i64(dir, "cpu.rt_period_us", R "cpu.realtimePeriod", (int64_t)c->realtime_period.v,
                &first) < 0) {
    if (first.errnum != EINVAL || !c->realtime_runtime.set) {
      *err = first;
      return -1;
    }
    if (write_i64(dir, "cpu.rt_runtime_us", R "cpu.realtimeRuntime", c->realtime_runtime.v,
                  err) < 0)
      return -1;
    return write_i64(dir, "cpu.rt_period_us", R "cpu.realtimePeriod",
                     (int64_t)c->realtime_period.v, err);
  }
  if (c->realtime_runtime.set &&
      write_i64(dir, "cpu.rt_runtime_us", R "cpu.realtimeRuntime", c->realtime_runtime.v, err) < 0)
    return -1;
  return 0;
}

static int v1_cpu(const struct oci_cgroup *cg, const struct oci_cpu *c, oci_error *err) {
  const char *dir;
  if (c == NULL)
    return 0;
  bool cpu = c->shares.set || c->quota.set || c->period.set || c->burst.set ||
             c->realtime_runtime.set || c->realtime_period.set || c->idle.set;
  if (cpu) {
    if (need_dir(cg, "cpu", R "cpu", &dir, err) < 0)
      return -1;
    if (c->shares.set && write_i64(dir, "cpu.shares", R "cpu.shares", (int64_t)c->shares.v, err) < 0)
      return -1;
    if (v1_cfs(dir, c, err) < 0)
      return -1;
    if (c->burst.set && write_i64(dir, "cpu.cfs_burst_us", R "cpu.burst", (int64_t)c->burst.v, err) < 0)
      return -1;
    if (v1_rt(dir, c, err) < 0)
      return -1;
    if (c->idle.set && write_i64(dir, "cpu.idle", R "cpu.idle", c->idle.v, err) < 0)
      return -1;
  }
  if (c->cpus || c->mems) {
    if (need_dir(cg, "cpuset", R "cpu.cpus", &dir, err) < 0)
      return -1;
    if (c->cpus && oci_cg_write(dir, "cpuset.cpus", R "cpu.cpus", c->cpus, err) < 0)
      return -1;
    if (c->mems && oci_cg_write(dir, "cpuset.mems", R "cpu.mems", c->mems, err) < 0)
      return -1;
  }
  return 0;
}

static int v1_pids(const struct oci_cgroup *cg, const struct oci_resources *r, oci_error *err) {
  const char *dir;
  if (!r->pids_limit.set)
    return 0;
  if (need_dir(cg, "pids", R "pids.limit", &dir, err) < 0)
    return -1;
  if (r->pids_limit.v < 0)
    return oci_cg_write(dir, "pids.max", R "pids.limit", "max", err);
  return write_i64(dir, "pids.max", R "pids.limit", r->pids_limit.v, err);
}

static int write_dev_list(const char *dir, const char *file, const char *what,
                          const struct oci_throttle_device *d, size_t n, oci_error *err) {
  for (size_t i = 0; i < n; i++)
    if (oci_cg_write_fmt(dir, file, what, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d[i].major,
                         d[i].minor, d[i].rate) < 0)
      return -1;
  return 0;
}

static int v1_blkio_weights(const char *dir, const struct oci_blkio *b, oci_error *err) {
  /* With the bfq scheduler only the blkio.bfq.* weight files exist. */
  bool bfq = !oci_cg_file_exists(dir, "blkio.weight") && oci_cg_file_exists(dir, "blkio.bfq.weight");
  const char *wfile = bfq ? "blkio.bfq.weight" : "blkio.weight";
  const char *wdfile = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
  if (b->weight.set && write_i64(dir, wfile, R "blockIO.weight", b->weight.v, err) < 0)
    return -1;
  if (b->leaf_weight.set &&
      write_i64(dir, "blkio.leaf_weight", R "blockIO.leafWeight", b->leaf_weight.v, err) < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *d = &b->weight_device[i];
    if (d->weight.set && oci_cg_write_fmt(dir, wdfile, R "blockIO.weightDevice", err,
                                          "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                                          d->weight.v) < 0)
      return -1;
    if (d->leaf_weight.set &&
        oci_cg_write_fmt(dir, "blkio.leaf_weight_device", R "blockIO.weightDevice", err,
                         "%" PRId64 ":%" PRId64 " %u", d->major, d->minor, d->leaf_weight.v) < 0)
      return -1;
  }
  return 0;
}

static int v1_blkio(const struct oci_cgroup *cg, const struct oci_blkio *b, oci_error *err) {
  const char *dir;
  if (b == NULL)
    return 0;
  if (need_dir(cg, "blkio", R "blockIO", &dir, err) < 0 || v1_blkio_weights(dir, b, err) < 0)
    return -1;
  if (write_dev_list(dir, "blkio.throttle.read_bps_device", R "blockIO.throttleReadBpsDevice",
                     b->throttle_read_bps, b->n_throttle_read_bps, err) < 0 ||
      write_dev_list(dir, "blkio.throttle.write_bps_device", R "blockIO.throttleWriteBpsDevice",
                     b->throttle_write_bps, b->n_throttle_write_bps, err) < 0 ||
      write_dev_list(dir, "blkio.throttle.read_iops_device", R "blockIO.throttleReadIOPSDevice",
                     b->throttle_read_iops, b->n_throttle_read_iops, err) < 0 ||
      write_dev_list(dir, "blkio.throttle.write_iops_device", R "blockIO.throttleWriteIOPSDevice",
                     b->throttle_write_iops, b->n_throttle_write_iops, err) < 0)
    return -1;
  return 0;
}

/* hugetlb: a v1 hierarchy, or (hybrid) the unified one when only it has it. */
static int v1_hugetlb(const struct oci_cgroup *cg, const struct oci_resources *r, oci_error *err) {
  if (r->n_hugepage_limits == 0)
    return 0;
  const char *dir = dir_of(cg, "hugetlb");
  const char *suffix = "limit_in_bytes";
  if (dir == NULL && cg->v2 && oci_cg_file_exists(cg->v2->dir, "cgroup.controllers")) {
    if (oci_cg_v2_enable_controllers(cg->v2, err) < 0)
      return oci_error_wrap(err, R "hugepageLimits");
    dir = cg->v2->dir;
    suffix = "max";
  }
  if (dir == NULL)
    return need_dir(cg, "hugetlb", R "hugepageLimits", &dir, err);
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
    _cleanup_free_ char *file = oci_xasprintf("hugetlb.%s.%s", h->page_size, suffix);
    if (oci_cg_write_fmt(dir, file, R "hugepageLimits", err, "%" PRIu64, h->limit) < 0)
      return -1;
  }
  return 0;
}

static int v1_network(const struct oci_cgroup *cg, const struct oci_network *n, oci_error *err) {
  const char *dir;
  if (n == NULL)
    return 0;
  if (n->class_id.set && (need_dir(cg, "net_cls", R "network.classID", &dir, err) < 0 ||
                          oci_cg_write_fmt(dir, "net_cls.classid", R "network.classID", err,
                                           "%u", n->class_id.v) < 0))
    return -1;
  if (n->n_priorities && need_dir(cg, "net_prio", R "network.priorities", &dir, err) < 0)
    return -1;
  for (size_t i = 0; i < n->n_priorities; i++)
    if (oci_cg_write_fmt(dir, "net_prio.ifpriomap", R "network.priorities", err, "%s %u",
                         n->priorities[i].name, n->priorities[i].priority) < 0)
      return -1;
  return 0;
}

static int v1_rdma(const struct oci_cgroup *cg, const struct oci_resources *r, oci_error *err) {
  const char *dir;
  if (r->n_rdma == 0)
    return 0;
  if (need_dir(cg, "rdma", R "rdma", &dir, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct oci_rdma *d = &r->rdma[i];
    char h[32] = "max", o[32] = "max";
    if (d->hca_handles.set)
      snprintf(h, sizeof(h), "%u", d->hca_handles.v);
    if (d->hca_objects.set)
      snprintf(o, sizeof(o), "%u", d->hca_objects.v);
    if (oci_cg_write_fmt(dir, "rdma.max", R "rdma", err, "%s hca_handle=%s hca_object=%s",
                         d->device, h, o) < 0)
      return -1;
  }
  return 0;
}

static void rule_id(const oci_opt_i64 *v, char out[24]) {
  if (v->set && v->v >= 0)
    snprintf(out, 24, "%" PRId64, v->v);
  else
    snprintf(out, 24, "*");
}

/* devices.allow and devices.deny, each opened once for all the rules: the
 * kernel takes one rule per write(). */
struct dev_files {
  const char *dir;
  int fd[2]; /* deny, allow */
};

static int dev_write(struct dev_files *f, bool allow, const char *rule, oci_error *err) {
  const char *file = allow ? "devices.allow" : "devices.deny";
  int *fd = &f->fd[allow];
  if (*fd < 0) {
    _cleanup_free_ char *path = oci_xasprintf("%s/%s", f->dir, file);
    *fd = open(path, O_WRONLY | O_CLOEXEC);
  }
  if (*fd < 0 || oci_write_all(*fd, rule, strlen(rule)) < 0)
    return oci_error_errno(err, R "devices: write \"%s\" to %s", rule, file);
  return 0;
}

static int v1_device_rule(struct dev_files *f, const struct oci_device_rule *r, oci_error *err) {
  const char *access = r->access && r->access[0] ? r->access : "rwm";
  char maj[24], min[24], rule[80];
  rule_id(&r->major, maj);
  rule_id(&r->minor, min);
  bool all = r->type == 'a' || r->type == '\0';
  if (all && !r->major.set && !r->minor.set && strspn(access, "rwm") == strlen(access) &&
      strchr(access, 'r') && strchr(access, 'w') && strchr(access, 'm'))
    return dev_write(f, r->allow, "a", err);
  /* The kernel reads type "a" as "everything": spell out c and b instead. */
  for (const char *t = all ? "cb" : (r->type == 'b' ? "b" : "c"); *t; t++) {
    snprintf(rule, sizeof(rule), "%c %s:%s %s", *t, maj, min, access);
    if (dev_write(f, r->allow, rule, err) < 0)
      return -1;
  }
  return 0;
}

static bool is_deny_all(const struct oci_device_rule *r) {
  const char *a = r->access && r->access[0] ? r->access : "rwm";
  return !r->allow && (r->type == 'a' || r->type == '\0') && !r->major.set && !r->minor.set &&
         strchr(a, 'r') && strchr(a, 'w') && strchr(a, 'm');
}

static int v1_devices(const struct oci_cgroup *cg, const struct oci_device_rule *rules,
                      size_t n, oci_error *err) {
  const char *dir;
  if (rules == NULL)
    return 0;
  if (need_dir(cg, "devices", R "devices", &dir, err) < 0)
    return -1;
  struct dev_files f = {.dir = dir, .fd = {-1, -1}};
  /* Start from "deny everything"; the rules then open what they allow. */
  int r = dev_write(&f, false, "a", err);
  size_t i = 0;
  while (i < n && is_deny_all(&rules[i]))
    i++; /* in force already (runc's spec starts with one) */
  for (; i < n && r == 0; i++)
    r = v1_device_rule(&f, &rules[i], err);
  for (int k = 0; k < 2; k++)
    if (f.fd[k] >= 0)
      close(f.fd[k]);
  return r;
}

static int v1_apply(struct oci_cgroup *cg, const struct oci_resources *res,
                    const struct oci_device_rule *rules, size_t n_rules, oci_error *err) {
  /* "invalid configuration": runc's words, which its tests match. */
  if (res->n_unified > 0)
    return oci_error_setx(err, ENOTSUP, "invalid configuration: " R "unified requires cgroup v2");
  if (v1_memory(cg, res->memory, err) < 0 || v1_cpu(cg, res->cpu, err) < 0 ||
      v1_pids(cg, res, err) < 0 || v1_blkio(cg, res->block_io, err) < 0 ||
      v1_hugetlb(cg, res, err) < 0 || v1_network(cg, res->network, err) < 0 ||
      v1_rdma(cg, res, err) < 0 || v1_devices(cg, rules, n_rules, err) < 0)
    return -1;
  return 0;
}

/* ---- freezer ------------------------------------------------------------ */

static int v1_is_frozen(struct oci_cgroup *cg, bool *frozen, oci_error *err) {
  const char *dir;
  _cleanup_free_ char *state = NULL;
  if (need_dir(cg, "freezer", "freezer", &dir, err) < 0 ||
      oci_cg_read(dir, "freezer.state", &state, err) < 0)
    return -1;
  *frozen = strcmp(state, "FROZEN") == 0;
  return 0;
}

/* Write the state and poll until the kernel reports it; a freeze can stick
 * in FREEZING while a task is busy, so rewrite it now and then. */
static int v1_freeze(struct oci_cgroup *cg, bool frozen, oci_error *err) {
  const char *dir;
  const char *want = frozen ? "FROZEN" : "THAWED";
  if (need_dir(cg, "freezer", "freezer", &dir, err) < 0)
    return -1;
  for (unsigned i = 0, waited = 0; waited < 5000; i++) {
    if (i % 20 == 0 && oci_cg_write(dir, "freezer.state", "freezer", want, err) < 0)
      return -1;
    _cleanup_free_ char *state = NULL;
    if (oci_cg_read(dir, "freezer.state", &state, err) < 0)
      return -1;
    if (strcmp(state, want) == 0)
      return 0;
    unsigned ms = i < 4 ? 1u << i : 10;
    oci_cg_sleep_ms(ms);
    waited += ms;
  }
  if (frozen) {
    oci_error ignored;
    oci_cg_write(dir, "freezer.state", "freezer", "THAWED", &ignored);
  }
  return oci_error_setx(err, ETIMEDOUT, "freezer: %s did not become %s", dir, want);
}

static int v1_kill_all(struct oci_cgroup *cg, oci_error *err) {
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (oci_cgroup_pids(cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    kill(pids[i], SIGKILL);
  /* Frozen tasks cannot act on SIGKILL until thawed. */
  const char *dir = dir_of(cg, "freezer");
  _cleanup_free_ char *state = NULL;
  oci_error ignored;
  if (dir && oci_cg_read(dir, "freezer.state", &state, &ignored) == 0 &&
      strcmp(state, "THAWED") != 0)
    oci_cg_write(dir, "freezer.state", "freezer", "THAWED", &ignored);
  return 0;
}

/* ---- stats -------------------------------------------------------------- */

static void read_mem_entry(const char *dir, const char *prefix, struct cg_mem_entry *e) {
  char f[96];
  snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
  oci_cg_read_u64(dir, f, &e->usage);
  snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
  oci_cg_read_u64(dir, f, &e->max);
  snprintf(f, sizeof(f), "%s.failcnt", prefix);
  oci_cg_read_u64(dir, f, &e->failcnt);
  snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
  oci_cg_read_u64(dir, f, &e->limit);
}

static void v1_stats_cpu(const struct oci_cgroup *cg, struct cg_stats *s) {
  const char *dir = dir_of(cg, "cpuacct");
  if (dir) {
    oci_cg_read_u64(dir, "cpuacct.usage", &s->cpu_total);
    oci_cg_read_u64(dir, "cpuacct.usage_user", &s->cpu_user);
    oci_cg_read_u64(dir, "cpuacct.usage_sys", &s->cpu_kernel);
    _cleanup_free_ char *per = NULL;
    if (oci_cg_read(dir, "cpuacct.usage_percpu", &per, NULL) == 0) {
      char *p = per, *end;
      for (uint64_t v; (v = strtoull(p, &end, 10)), end != p; p = end) {
        s->percpu = oci_xrealloc(s->percpu, (s->n_percpu + 1) * sizeof(uint64_t));
        s->percpu[s->n_percpu++] = v;
      }
    }
  }
  if ((dir = dir_of(cg, "cpu")) != NULL) {
    oci_cg_read_keyed(dir, "cpu.stat", "nr_periods", &s->periods);
    oci_cg_read_keyed(dir, "cpu.stat", "nr_throttled", &s->throttled_periods);
    oci_cg_read_keyed(dir, "cpu.stat", "throttled_time", &s->throttled_time);
  }
}

static void v1_stats_blkio(const char *dir, const char *file, struct cg_blkio_list *l) {
  _cleanup_free_ char *text = NULL;
  if (oci_cg_read(dir, file, &text, NULL) < 0)
    return;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    uint64_t maj, min, v;
    char op[16];
    if (sscanf(line, "%" SCNu64 ":%" SCNu64 " %15s %" SCNu64, &maj, &min, op, &v) == 4)
      oci_cg_blkio_add(l, maj, min, op, v);
  }
}

static void v1_stats_hugetlb(const char *dir, struct cg_stats *s) {
  char sizes[8][16];
  size_t n = oci_cg_hugepage_sizes(sizes, 8);
  s->hugetlb = oci_xmalloc0((n + 1) * sizeof(*s->hugetlb));
  for (size_t i = 0; i < n; i++) {
    struct cg_hugetlb_entry *e = &s->hugetlb[s->n_hugetlb++];
    _cleanup_free_ char *prefix = oci_xasprintf("hugetlb.%s", sizes[i]);
    struct cg_mem_entry m = {0};
    read_mem_entry(dir, prefix, &m);
    snprintf(e->size, sizeof(e->size), "%s", sizes[i]);
    e->usage = m.usage;
    e->max = m.max;
    e->failcnt = m.failcnt;
  }
}

static int v1_stats_json(struct oci_cgroup *cg, char **json, oci_error *err) {
  (void)err;
  struct cg_stats s = {0};
  const char *dir;
  v1_stats_cpu(cg, &s);
  if ((dir = dir_of(cg, "memory")) != NULL) {
    read_mem_entry(dir, "memory", &s.mem);
    read_mem_entry(dir, "memory.memsw", &s.swap);
    read_mem_entry(dir, "memory.kmem", &s.kernel);
    read_mem_entry(dir, "memory.kmem.tcp", &s.kernel_tcp);
    oci_cg_read_keyed(dir, "memory.stat", "cache", &s.cache);
    oci_cg_stats_read_raw(&s, dir, "memory.stat");
  }
  if ((dir = dir_of(cg, "pids")) != NULL) {
    oci_cg_read_u64(dir, "pids.current", &s.pids_current);
    if (oci_cg_read_u64(dir, "pids.max", &s.pids_limit) == 0 && s.pids_limit == UINT64_MAX)
      s.pids_limit = 0; /* runc reports "max" as 0 */
  }
  if ((dir = dir_of(cg, "blkio")) != NULL) {
    const char *b = oci_cg_file_exists(dir, "blkio.io_service_bytes_recursive") ? "blkio" :
                    oci_cg_file_exists(dir, "blkio.bfq.io_service_bytes_recursive") ? "blkio.bfq" :
                    "blkio.throttle";
    _cleanup_free_ char *bytes = oci_xasprintf("%s.io_service_bytes_recursive", b);
    _cleanup_free_ char *ios = oci_xasprintf("%s.io_serviced_recursive", b);
    v1_stats_blkio(dir, bytes, &s.io_service_bytes);
    v1_stats_blkio(dir, ios, &s.io_serviced);
  }
  if ((dir = dir_of(cg, "hugetlb")) != NULL)
    v1_stats_hugetlb(dir, &s);
  *json = oci_cg_stats_json(&s);
  oci_cg_stats_clear(&s);
  return 0;
}

/* ---- OOM notification: an eventfd registered on memory.oom_control ----- */

static int v1_oom_fd(struct oci_cgroup *cg, int *fd, oci_error *err) {
  const char *dir;
  if (need_dir(cg, "memory", "oom notification", &dir, err) < 0)
    return -1;
  _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0)
    return oci_error_errno(err, "eventfd");
  _cleanup_free_ char *path = oci_xasprintf("%s/memory.oom_control", dir);
  _cleanup_close_ int ofd = open(path, O_RDONLY | O_CLOEXEC);
  if (ofd < 0)
    return oci_error_errno(err, "open \"%s\"", path);
  if (oci_cg_write_fmt(dir, "cgroup.event_control", "oom notification", err, "%d %d", efd, ofd) < 0)
    return -1;
  *fd = OCI_STEAL_FD(efd);
  return 0;
}

/* The eventfd also fires when the cgroup is removed: that is not an OOM. */
static int v1_oom_happened(struct oci_cgroup *cg, int fd, bool *oom, oci_error *err) {
  (void)err;
  uint64_t count = 0;
  *oom = false;
  if (read(fd, &count, sizeof(count)) != sizeof(count) || count == 0)
    return 0;
  const char *dir = dir_of(cg, "memory");
  *oom = dir && oci_cg_file_exists(dir, "memory.oom_control");
  return 0;
}

/* memory.oom_control has counted kills since Linux 4.13. */
static int v1_oom_kills(struct oci_cgroup *cg, uint64_t *kills) {
  const char *dir = dir_of(cg, "memory");
  return dir ? oci_cg_read_keyed(dir, "memory.oom_control", "oom_kill", kills) : -1;
}

const struct cg_driver oci_cg_driver_v1 = {
    .create = v1_create,
    .apply = v1_apply,
    .freeze = v1_freeze,
    .is_frozen = v1_is_frozen,
    .kill_all = v1_kill_all,
    .stats_json = v1_stats_json,
    .oom_fd = v1_oom_fd,
    .oom_happened = v1_oom_happened,
    .oom_kills = v1_oom_kills,
};
