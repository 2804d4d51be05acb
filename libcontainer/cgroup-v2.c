/* ocirun — the cgroup v2 driver: one directory (cg->v2->dir) in the unified
 * hierarchy, controllers enabled from the root down, v1 values converted
 * the way runc documents, devices through an eBPF program. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define R "linux.resources."

/* ---- controllers ------------------------------------------------------- */

/* The "+a +b" needed to turn on in `dir` every controller it offers. */
static char *missing_controllers(const char *dir) {
  _cleanup_free_ char *avail = NULL, *on = NULL;
  if (oci_cg_read(dir, "cgroup.controllers", &avail, NULL) < 0 ||
      oci_cg_read(dir, "cgroup.subtree_control", &on, NULL) < 0)
    return NULL;
  size_t cap = strlen(avail) * 2 + 2, o = 0;
  char *out = oci_xmalloc0(cap);
  char *save = NULL;
  for (char *c = strtok_r(avail, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
    bool enabled = false;
    _cleanup_free_ char *copy = oci_xstrdup(on);
    char *s2 = NULL;
    for (char *e = strtok_r(copy, " ", &s2); e && !enabled; e = strtok_r(NULL, " ", &s2))
      enabled = strcmp(e, c) == 0;
    if (!enabled)
      o += (size_t)snprintf(out + o, cap - o, "%s+%s", o ? " " : "", c);
  }
  return out;
}

static bool has_processes(const char *dir) {
  _cleanup_free_ char *procs = NULL;
  return oci_cg_read(dir, "cgroup.procs", &procs, NULL) == 0 && procs[0] != '\0';
}

static void enable_in(const char *dir, bool is_root) {
  _cleanup_free_ char *want = missing_controllers(dir);
  if (want == NULL || want[0] == '\0')
    return;
  /* A non-root group with processes refuses domain controllers ("no
   * internal processes") but takes threaded ones (cpu, cpuset, pids); that
   * would make it a thread root where no child can host a process
   * (EOPNOTSUPP on join). Leave such a group alone: the container then
   * gets no controllers, and writing a limit says which one is missing. */
  if (!is_root && has_processes(dir)) {
    oci_debug("cgroup v2: %s holds processes; not enabling %s", dir, want);
    return;
  }
  oci_error e;
  if (oci_cg_write(dir, "cgroup.subtree_control", "enable controllers", want, &e) == 0)
    return;
  /* One at a time, so one refused controller does not block the others. */
  char *save = NULL;
  for (char *c = strtok_r(want, " ", &save); c; c = strtok_r(NULL, " ", &save))
    if (oci_cg_write(dir, "cgroup.subtree_control", "enable controllers", c, &e) < 0)
      oci_debug("cgroup v2: %s: %s", dir, e.msg);
}

int oci_cg_v2_enable_controllers(const struct cg_hier *h, oci_error *err) {
  (void)err;
  size_t mlen = strlen(h->mount);
  enable_in(h->mount, true);
  for (const char *p = h->dir + mlen + 1; p < h->dir + strlen(h->dir); p++) {
    if (*p != '/')
      continue;
    _cleanup_free_ char *level = oci_xasprintf("%.*s", (int)(p - h->dir), h->dir);
    enable_in(level, false);
  }
  return 0;
}

static int v2_create(struct oci_cgroup *cg, oci_error *err) {
  /* Under a user's systemd the ancestors are root's: the user manager has
   * enabled what it delegates, nothing more can be. */
  if (cg->sd && cg->sd->user)
    return 0;
  return oci_cg_v2_enable_controllers(cg->v2, err);
}

/* ---- apply ------------------------------------------------------------- */

/* A missing interface file almost always means its controller is not
 * enabled in the parent: say so. */
static int v2_write(const char *dir, const char *file, const char *what, const char *value,
                    oci_error *err) {
  if (oci_cg_write(dir, file, what, value, err) == 0)
    return 0;
  if (err && err->errnum == ENOENT) {
    char msg[OCI_ERROR_MSG_MAX];
    memcpy(msg, err->msg, sizeof(msg));
    msg[900] = '\0';
    oci_error_setx(err, ENOENT,
                   "%s (is the controller enabled in the parent's cgroup.subtree_control?)", msg);
  }
  return -1;
}

static int v2_write_i64(const char *dir, const char *file, const char *what, int64_t v,
                        oci_error *err) {
  char buf[32];
  if (v < 0)
    snprintf(buf, sizeof(buf), "max");
  else
    snprintf(buf, sizeof(buf), "%" PRId64, v);
  return v2_write(dir, file, what, buf, err);
}

static void ignored_on_v2(bool set, const char *what) {
  if (set)
    oci_warn("%s has no cgroup v2 equivalent; ignored", what);
}

static int v2_swap(const char *dir, const struct oci_memory *m, oci_error *err) {
  bool has_swap = m->swap.set;
  int64_t swap = m->swap.v;
  if (m->limit.set && m->limit.v == -1 && !has_swap) {
    has_swap = true; /* unlimited memory: unlimited swap too, as runc does */
    swap = -1;
  }
  if (!has_swap)
    return 0;
  int64_t limit = m->limit.v;
  if (!m->limit.set) {
    uint64_t cur;
    limit = oci_cg_read_u64(dir, "memory.max", &cur) == 0 && cur != UINT64_MAX ? (int64_t)cur : -1;
  }
  int64_t v2;
  if (oci_cg_swap_to_v2(swap, limit, &v2, err) < 0)
    return -1;
  if (!oci_cg_file_exists(dir, "memory.swap.max")) {
    if (v2 <= 0)
      return 0; /* no swap accounting and none asked for */
    return oci_error_setx(err, ENOENT, R "memory.swap: memory.swap.max is missing (no swap accounting)");
  }
  return v2_write_i64(dir, "memory.swap.max", R "memory.swap", v2, err);
}

static int v2_memory(const char *dir, const struct oci_memory *m, oci_error *err) {
  if (m == NULL)
    return 0;
  if (m->check_before_update.set && m->check_before_update.v && m->limit.set && m->limit.v >= 0) {
    uint64_t usage;
    if (oci_cg_read_u64(dir, "memory.current", &usage) == 0 && (uint64_t)m->limit.v < usage)
      return oci_error_setx(err, EBUSY,
                           R "memory.limit: new limit %" PRId64 " is below the current usage %"
                             PRIu64 " (checkBeforeUpdate)", m->limit.v, usage);
  }
  /* Lower swap before memory can't fail here: they are independent in v2. */
  if (m->limit.set && v2_write_i64(dir, "memory.max", R "memory.limit", m->limit.v, err) < 0)
    return -1;
  if (v2_swap(dir, m, err) < 0)
    return -1;
  if (m->reservation.set &&
      v2_write_i64(dir, "memory.low", R "memory.reservation", m->reservation.v, err) < 0)
    return -1;
  ignored_on_v2(m->kernel.set, R "memory.kernel");
  ignored_on_v2(m->kernel_tcp.set, R "memory.kernelTCP");
  ignored_on_v2(m->swappiness.set, R "memory.swappiness");
  ignored_on_v2(m->disable_oom_killer.set && m->disable_oom_killer.v, R "memory.disableOOMKiller");
  return 0;
}

/* cpu.max holds "QUOTA PERIOD": keep the half the update does not give. */
static int v2_cpu_max(const char *dir, const struct oci_cpu *c, oci_error *err) {
  if (!c->quota.set && !c->period.set)
    return 0;
  char quota[32] = "max";
  uint64_t period = 100000;
  _cleanup_free_ char *cur = NULL;
  if (oci_cg_read(dir, "cpu.max", &cur, NULL) == 0)
    sscanf(cur, "%31s %" SCNu64, quota, &period);
  if (c->quota.set) {
    if (c->quota.v > 0)
      snprintf(quota, sizeof(quota), "%" PRId64, c->quota.v);
    else
      snprintf(quota, sizeof(quota), "max");
  }
  if (c->period.set && c->period.v > 0)
    period = c->period.v;
  _cleanup_free_ char *v = oci_xasprintf("%s %" PRIu64, quota, period);
  return v2_write(dir, "cpu.max", c->quota.set ? R "cpu.quota" : R "cpu.period", v, err);
}

static int v2_cpu(const char *dir, const struct oci_cpu *c, oci_error *err) {
  if (c == NULL)
    return 0;
  if ((c->realtime_runtime.set && c->realtime_runtime.v != 0) ||
      (c->realtime_period.set && c->realtime_period.v != 0))
    return oci_error_setx(err, ENOTSUP, R "cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2");
  if (c->shares.set && c->shares.v != 0 &&
      v2_write_i64(dir, "cpu.weight", R "cpu.shares",
                   (int64_t)oci_cg_shares_to_weight(c->shares.v), err) < 0)
    return -1;
  if (v2_cpu_max(dir, c, err) < 0)
    return -1;
  if (c->burst.set && v2_write_i64(dir, "cpu.max.burst", R "cpu.burst", (int64_t)c->burst.v, err) < 0)
    return -1;
  if (c->idle.set && oci_cg_write_fmt(dir, "cpu.idle", R "cpu.idle", err, "%" PRId64, c->idle.v) < 0)
    return -1;
  if (c->cpus && v2_write(dir, "cpuset.cpus", R "cpu.cpus", c->cpus, err) < 0)
    return -1;
  if (c->mems && v2_write(dir, "cpuset.mems", R "cpu.mems", c->mems, err) < 0)
    return -1;
  return 0;
}

static int io_max(const char *dir, const char *key, const char *what,
                  const struct oci_throttle_device *d, size_t n, oci_error *err) {
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *v = oci_xasprintf("%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i].major,
                                           d[i].minor, key, d[i].rate);
    if (v2_write(dir, "io.max", what, v, err) < 0)
      return -1;
  }
  return 0;
}

/* io.bfq.weight takes the v1 range as is; io.weight needs converting. */
static int v2_io_weights(const char *dir, const struct oci_blkio *b, oci_error *err) {
  bool bfq = oci_cg_file_exists(dir, "io.bfq.weight");
  const char *file = bfq ? "io.bfq.weight" : "io.weight";
  if (b->weight.set && b->weight.v != 0 &&
      v2_write_i64(dir, file, R "blockIO.weight",
                   bfq ? b->weight.v : (int64_t)oci_cg_blkio_to_io_weight(b->weight.v), err) < 0)
    return -1;
  ignored_on_v2(b->leaf_weight.set, R "blockIO.leafWeight");
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct oci_weight_device *d = &b->weight_device[i];
    if (!d->weight.set)
      continue;
    uint64_t w = bfq ? d->weight.v : oci_cg_blkio_to_io_weight(d->weight.v);
    _cleanup_free_ char *v = oci_xasprintf("%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, w);
    if (v2_write(dir, file, R "blockIO.weightDevice", v, err) < 0)
      return -1;
  }
  return 0;
}

static int v2_io(const char *dir, const struct oci_blkio *b, oci_error *err) {
  if (b == NULL)
    return 0;
  if (v2_io_weights(dir, b, err) < 0 ||
      io_max(dir, "rbps", R "blockIO.throttleReadBpsDevice", b->throttle_read_bps,
             b->n_throttle_read_bps, err) < 0 ||
      io_max(dir, "wbps", R "blockIO.throttleWriteBpsDevice", b->throttle_write_bps,
             b->n_throttle_write_bps, err) < 0 ||
      io_max(dir, "riops", R "blockIO.throttleReadIOPSDevice", b->throttle_read_iops,
             b->n_throttle_read_iops, err) < 0 ||
      io_max(dir, "wiops", R "blockIO.throttleWriteIOPSDevice", b->throttle_write_iops,
             b->n_throttle_write_iops, err) < 0)
    return -1;
  return 0;
}

static int v2_misc(const char *dir, const struct oci_resources *r, oci_error *err) {
  if (r->pids_limit.set && v2_write_i64(dir, "pids.max", R "pids.limit", r->pids_limit.v, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
    _cleanup_free_ char *file = oci_xasprintf("hugetlb.%s.max", h->page_size);
    _cleanup_free_ char *v = oci_xasprintf("%" PRIu64, h->limit);
    if (v2_write(dir, file, R "hugepageLimits", v, err) < 0)
      return -1;
  }
  if (r->network && (r->network->class_id.set || r->network->n_priorities))
    return oci_error_setx(err, ENOTSUP,
                         R "network: net_cls/net_prio exist only in cgroup v1");
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct oci_rdma *d = &r->rdma[i];
    char h[32] = "max", o[32] = "max";
    if (d->hca_handles.set)
      snprintf(h, sizeof(h), "%u", d->hca_handles.v);
    if (d->hca_objects.set)
      snprintf(o, sizeof(o), "%u", d->hca_objects.v);
    _cleanup_free_ char *v = oci_xasprintf("%s hca_handle=%s hca_object=%s", d->device, h, o);
    if (v2_write(dir, "rdma.max", R "rdma", v, err) < 0)
      return -1;
  }
  return 0;
}

/* Whether a controller is listed in dir's cgroup.controllers ("cgroup"'s
 * own files are always there). True when that cannot be read: the write's
 * own error then stands. */
static bool v2_has_controller(const char *dir, const char *ctrl, size_t len) {
  if (len == 6 && strncmp(ctrl, "cgroup", 6) == 0)
    return true;
  _cleanup_free_ char *list = NULL;
  if (oci_cg_read(dir, "cgroup.controllers", &list, NULL) < 0)
    return true;
  char *save = NULL;
  for (char *c = strtok_r(list, " \n", &save); c; c = strtok_r(NULL, " \n", &save))
    if (strlen(c) == len && strncmp(c, ctrl, len) == 0)
      return true;
  return false;
}

/* linux.resources.unified: raw interface files, named CONTROLLER.FILE (the
 * parser checked the form) and never outside the container's directory. A
 * missing file is told apart: a controller the cgroup does not have, or a
 * file the controller does not have. */
static int v2_unified(const char *dir, const struct oci_resources *r, oci_error *err) {
  for (size_t i = 0; i < r->n_unified; i++) {
    const struct oci_kv *kv = &r->unified[i];
    /* The parser refused other keys; checked again as the name is a path. */
    const char *dot = strchr(kv->key, '.');
    if (dot == NULL || dot == kv->key || strchr(kv->key, '/'))
      return oci_error_setx(err, EINVAL, R "unified: invalid file name \"%s\"", kv->key);
    _cleanup_free_ char *what = oci_xasprintf(R "unified.%s", kv->key);
    size_t len = (size_t)(dot - kv->key);
    if (oci_cg_write(dir, kv->key, what, kv->value, err) == 0)
      continue;
    if (err && err->errnum == ENOENT && !v2_has_controller(dir, kv->key, len))
      return oci_error_setx(err, ENOENT,
                            "%s: controller \"%.*s\" is not available in the container's "
                            "cgroup (not in its cgroup.controllers)", what, (int)len, kv->key);
    if (err && err->errnum == ENOENT)
      return oci_error_set(err, ENOENT, "%s: controller \"%.*s\" has no file \"%s\"", what,
                           (int)len, kv->key, kv->key);
    return -1;
  }
  return 0;
}

static int v2_apply(struct oci_cgroup *cg, const struct oci_resources *res,
                    const struct oci_device_rule *rules, size_t n_rules, oci_error *err) {
  const char *dir = cg->v2->dir;
  if (v2_memory(dir, res->memory, err) < 0 || v2_cpu(dir, res->cpu, err) < 0 ||
      v2_io(dir, res->block_io, err) < 0 || v2_misc(dir, res, err) < 0 ||
      v2_unified(dir, res, err) < 0)
    return -1;
  if (rules && oci_cg_bpf_install(dir, rules, n_rules, err) < 0)
    return oci_error_wrap(err, R "devices");
  return 0;
}

/* ---- freeze ------------------------------------------------------------ */

static int v2_is_frozen(struct oci_cgroup *cg, bool *frozen, oci_error *err) {
  uint64_t v = 0;
  if (!oci_cg_file_exists(cg->v2->dir, "cgroup.freeze"))
    return oci_error_setx(err, ENOTSUP, "freezer: %s/cgroup.freeze is missing", cg->v2->dir);
  oci_cg_read_keyed(cg->v2->dir, "cgroup.events", "frozen", &v);
  *frozen = v == 1;
  return 0;
}

/* Write cgroup.freeze, then wait on cgroup.events (it signals POLLPRI on
 * change) until "frozen" says the same. */
static int v2_freeze(struct oci_cgroup *cg, bool frozen, oci_error *err) {
  const char *dir = cg->v2->dir;
  _cleanup_free_ char *events = oci_xasprintf("%s/cgroup.events", dir);
  _cleanup_close_ int fd = open(events, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "freezer: open \"%s\"", events);
  if (v2_write(dir, "cgroup.freeze", "freezer", frozen ? "1" : "0", err) < 0)
    return -1;
  long long deadline = oci_monotonic_ms() + 5000;
  for (;;) {
    bool now;
    if (v2_is_frozen(cg, &now, err) < 0)
      return -1;
    if (now == frozen)
      return 0;
    long long left = deadline - oci_monotonic_ms();
    if (left <= 0)
      break;
    struct pollfd p = {.fd = fd, .events = POLLPRI};
    poll(&p, 1, left > 100 ? 100 : (int)left);
  }
  return oci_error_setx(err, ETIMEDOUT, "freezer: %s did not become %s", dir,
                       frozen ? "frozen" : "thawed");
}

static int v2_kill_all(struct oci_cgroup *cg, oci_error *err) {
  if (oci_cg_file_exists(cg->v2->dir, "cgroup.kill"))
    return oci_cg_write(cg->v2->dir, "cgroup.kill", "kill", "1", err);
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (oci_cgroup_pids(cg, &pids, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    kill(pids[i], SIGKILL);
  return 0;
}

/* ---- stats ------------------------------------------------------------- */

static void v2_stats_io(const char *dir, struct cg_stats *s) {
  _cleanup_free_ char *text = NULL;
  if (oci_cg_read(dir, "io.stat", &text, NULL) < 0)
    return;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    uint64_t maj, min, rb = 0, wb = 0, ri = 0, wi = 0;
    int off = 0;
    if (sscanf(line, "%" SCNu64 ":%" SCNu64 "%n", &maj, &min, &off) != 2)
      continue;
    char *save2 = NULL;
    for (char *kv = strtok_r(line + off, " ", &save2); kv; kv = strtok_r(NULL, " ", &save2)) {
      sscanf(kv, "rbytes=%" SCNu64, &rb);
      sscanf(kv, "wbytes=%" SCNu64, &wb);
      sscanf(kv, "rios=%" SCNu64, &ri);
      sscanf(kv, "wios=%" SCNu64, &wi);
    }
    oci_cg_blkio_add(&s->io_service_bytes, maj, min, "Read", rb);
    oci_cg_blkio_add(&s->io_service_bytes, maj, min, "Write", wb);
    oci_cg_blkio_add(&s->io_serviced, maj, min, "Read", ri);
    oci_cg_blkio_add(&s->io_serviced, maj, min, "Write", wi);
  }
}

static void v2_stats_hugetlb(const char *dir, struct cg_stats *s) {
  char sizes[8][16];
  size_t n = oci_cg_hugepage_sizes(sizes, 8);
  s->hugetlb = oci_xmalloc0((n + 1) * sizeof(*s->hugetlb));
  for (size_t i = 0; i < n; i++) {
    struct cg_hugetlb_entry *e = &s->hugetlb[s->n_hugetlb++];
    snprintf(e->size, sizeof(e->size), "%s", sizes[i]);
    _cleanup_free_ char *cur = oci_xasprintf("hugetlb.%s.current", sizes[i]);
    _cleanup_free_ char *ev = oci_xasprintf("hugetlb.%s.events", sizes[i]);
    oci_cg_read_u64(dir, cur, &e->usage);
    oci_cg_read_keyed(dir, ev, "max", &e->failcnt);
  }
}

static void v2_stats_memory(const char *dir, struct cg_stats *s) {
  oci_cg_read_u64(dir, "memory.current", &s->mem.usage);
  oci_cg_read_u64(dir, "memory.peak", &s->mem.max);
  oci_cg_read_u64(dir, "memory.max", &s->mem.limit);
  oci_cg_read_keyed(dir, "memory.events", "max", &s->mem.failcnt);
  uint64_t swap = 0;
  oci_cg_read_u64(dir, "memory.swap.current", &swap);
  s->swap.usage = swap + s->mem.usage; /* runc reports memory+swap, as v1 did */
  oci_cg_read_u64(dir, "memory.swap.max", &s->swap.limit);
  oci_cg_read_keyed(dir, "memory.swap.events", "max", &s->swap.failcnt);
  oci_cg_read_keyed(dir, "memory.stat", "file", &s->cache);
  oci_cg_stats_read_raw(s, dir, "memory.stat");
}

static int v2_stats_json(struct oci_cgroup *cg, char **json, oci_error *err) {
  (void)err;
  const char *dir = cg->v2->dir;
  struct cg_stats s = {0};
  uint64_t v;
  if (oci_cg_read_keyed(dir, "cpu.stat", "usage_usec", &v) == 0)
    s.cpu_total = v * 1000;
  if (oci_cg_read_keyed(dir, "cpu.stat", "user_usec", &v) == 0)
    s.cpu_user = v * 1000;
  if (oci_cg_read_keyed(dir, "cpu.stat", "system_usec", &v) == 0)
    s.cpu_kernel = v * 1000;
  oci_cg_read_keyed(dir, "cpu.stat", "nr_periods", &s.periods);
  oci_cg_read_keyed(dir, "cpu.stat", "nr_throttled", &s.throttled_periods);
  if (oci_cg_read_keyed(dir, "cpu.stat", "throttled_usec", &v) == 0)
    s.throttled_time = v * 1000;
  v2_stats_memory(dir, &s);
  oci_cg_read_u64(dir, "pids.current", &s.pids_current);
  if (oci_cg_read_u64(dir, "pids.max", &s.pids_limit) == 0 && s.pids_limit == UINT64_MAX)
    s.pids_limit = 0;
  v2_stats_io(dir, &s);
  v2_stats_hugetlb(dir, &s);
  *json = oci_cg_stats_json(&s);
  oci_cg_stats_clear(&s);
  return 0;
}

/* ---- OOM: inotify on memory.events, compared by its oom_kill count ----- *
 *
 * cgroup.events is watched too: when the OOM killer kills the last process
 * (the container's pid 1), whoever manages the cgroup may remove it as soon
 * as it empties (systemd does, for a scope), and the kernel can hold the
 * memory.events notification back (at most one per file every 10 ms) until
 * after that. The counter is already up when the cgroup empties, so
 * reading it at "populated 0" is in time: systemd answers the same
 * notification with D-Bus work and a job before it removes anything. */

static void parent_oom_kills(const struct oci_cgroup *cg, uint64_t *kills) {
  _cleanup_free_ char *parent = oci_xstrdup(cg->v2->dir);
  char *slash = strrchr(parent, '/');
  *kills = 0;
  if (slash != NULL && slash != parent) {
    *slash = '\0';
    oci_cg_read_keyed(parent, "memory.events", "oom_kill", kills);
  }
}

/* memory.events: oom_kill, and max + oom (the cgroup at its limit). */
static int read_memory_events(const struct oci_cgroup *cg, uint64_t *kills, uint64_t *pressure) {
  uint64_t max = 0, oom = 0;
  if (oci_cg_read_keyed(cg->v2->dir, "memory.events", "oom_kill", kills) < 0 ||
      oci_cg_read_keyed(cg->v2->dir, "memory.events", "max", &max) < 0 ||
      oci_cg_read_keyed(cg->v2->dir, "memory.events", "oom", &oom) < 0)
    return -1;
  *pressure = max + oom;
  return 0;
}

static int v2_oom_fd(struct oci_cgroup *cg, int *fd, oci_error *err) {
  _cleanup_close_ int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ifd < 0)
    return oci_error_errno(err, "inotify_init1");
  static const char *const files[] = {"memory.events", "cgroup.events"};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(files); i++) {
    _cleanup_free_ char *path = oci_xasprintf("%s/%s", cg->v2->dir, files[i]);
    if (inotify_add_watch(ifd, path, IN_MODIFY) < 0)
      return oci_error_errno(err, "watch \"%s\"", path);
  }
  cg->oom_kills_seen = cg->pressure_seen = 0;
  cg->pressure_ms = -1;
  read_memory_events(cg, &cg->oom_kills_seen, &cg->pressure_seen);
  parent_oom_kills(cg, &cg->parent_kills);
  *fd = OCI_STEAL_FD(ifd);
  return 0;
}

/* The cgroup went away before its oom_kill could be read: systemd removes
 * an emptied scope at once, and the kernel may hold the last memory.events
 * notification back (one per file every 10 ms) until after that. It was
 * an OOM kill if the cgroup had just been at its limit and its parent,
 * whose oom_kill counts its children's and outlives them, counted a kill
 * since our last read. (runc takes any memory.events change followed by
 * a failed read for an OOM.) */
static bool vanished_after_oom(const struct oci_cgroup *cg) {
  if (cg->pressure_ms < 0 || oci_monotonic_ms() - cg->pressure_ms > 2000)
    return false;
  uint64_t parent;
  parent_oom_kills(cg, &parent);
  if (parent <= cg->parent_kills)
    return false;
  oci_debug("cgroup v2: %s went away right after an OOM kill counted by its parent", cg->v2->dir);
  return true;
}

static int v2_oom_happened(struct oci_cgroup *cg, int fd, bool *oom, oci_error *err) {
  (void)err;
  char buf[4096];
  while (read(fd, buf, sizeof(buf)) > 0)
    ; /* drain: we only need "something changed" */
  uint64_t kills = 0, pressure = 0;
  *oom = false;
  if (read_memory_events(cg, &kills, &pressure) < 0) {
    *oom = vanished_after_oom(cg);
    cg->pressure_ms = -1; /* said once */
    return 0;
  }
  if (pressure > cg->pressure_seen)
    cg->pressure_ms = oci_monotonic_ms();
  cg->pressure_seen = pressure;
  if (kills > cg->oom_kills_seen) {
    *oom = true;
    cg->oom_kills_seen = kills;
  }
  parent_oom_kills(cg, &cg->parent_kills);
  return 0;
}

static int v2_oom_kills(struct oci_cgroup *cg, uint64_t *kills) {
  return oci_cg_read_keyed(cg->v2->dir, "memory.events", "oom_kill", kills);
}

const struct cg_driver oci_cg_driver_v2 = {
    .create = v2_create,
    .apply = v2_apply,
    .freeze = v2_freeze,
    .is_frozen = v2_is_frozen,
    .kill_all = v2_kill_all,
    .stats_json = v2_stats_json,
    .oom_fd = v2_oom_fd,
    .oom_happened = v2_oom_happened,
    .oom_kills = v2_oom_kills,
};
