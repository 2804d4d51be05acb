/* ocirun — commands that act on a container's cgroup: pause, resume, ps,
 * update and events. Each loads the container's state, checks its status,
 * and calls the cgroup front (cgroup.h); no version-specific code here. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroup-internal.h"
#include "internal.h"
#include "ocirun/cgroup.h"
#include "ocirun/container.h"
#include "ocirun/utils.h"

/* A loaded container with its cgroup; both freed by control_close(). */
struct control {
  struct oci_state *st;
  struct oci_cgroup *cg;
  int lock;
};

static void control_close(struct control *c) {
  oci_cgroup_free(c->cg);
  oci_state_free(c->st);
  if (c->lock >= 0)
    close(c->lock);
}

static int control_open(const struct oci_context *ctx, const char *id, bool lock,
                        struct control *c, oci_error *err) {
  memset(c, 0, sizeof(*c));
  c->lock = -1;
  if (oci_container_id_validate(id, err) < 0)
    return -1;
  if (lock && (c->lock = oci_state_lock(ctx, id, err)) < 0)
    return -1;
  if (oci_state_load(ctx, id, &c->st, err) < 0)
    goto fail;
  if (c->st->cgroup == NULL) {
    oci_error_setx(err, ENOENT, "container \"%s\" has no cgroup", id);
    goto fail;
  }
  if (oci_cgroup_load(c->st->cgroup, &c->cg, err) < 0) {
    oci_error_wrap(err, "container \"%s\"", id);
    goto fail;
  }
  return 0;
fail:
  control_close(c);
  return -1;
}

/* The container must be in `want` (e.g. only a running one can pause). */
static int require_status(const struct control *c, const char *want, const char *op,
                          oci_error *err) {
  const char *status = oci_state_status(c->st);
  if (strcmp(status, want) == 0)
    return 0;
  return oci_error_setx(err, EINVAL, "%s: container \"%s\" is %s, not %s", op, c->st->id, status,
                        want);
}

static int set_frozen(const struct oci_context *ctx, const char *id, bool frozen,
                      oci_error *err) {
  const char *op = frozen ? "pause" : "resume";
  struct control c;
  if (control_open(ctx, id, true, &c, err) < 0)
    return oci_error_wrap(err, "%s", op);
  int r = require_status(&c, frozen ? "running" : "paused", op, err);
  if (r == 0 && (r = oci_cgroup_freeze(c.cg, frozen, err)) < 0)
    oci_error_wrap(err, "%s \"%s\"", op, id);
  control_close(&c);
  return r;
}

int oci_container_pause(const struct oci_context *ctx, const char *id, oci_error *err) {
  return set_frozen(ctx, id, true, err);
}

int oci_container_resume(const struct oci_context *ctx, const char *id, oci_error *err) {
  return set_frozen(ctx, id, false, err);
}

int oci_container_ps(const struct oci_context *ctx, const char *id, pid_t **pids, size_t *n,
                     oci_error *err) {
  struct control c;
  *pids = NULL;
  *n = 0;
  if (control_open(ctx, id, false, &c, err) < 0)
    return oci_error_wrap(err, "ps");
  int r = 0;
  if (strcmp(oci_state_status(c.st), "stopped") != 0 &&
      (r = oci_cgroup_pids(c.cg, pids, n, err)) < 0)
    oci_error_wrap(err, "ps \"%s\"", id);
  control_close(&c);
  return r;
}

/* Only what `res` carries is written; everything else stays as it is. */
int oci_container_update(const struct oci_context *ctx, const char *id,
                         const struct oci_resources *res, oci_error *err) {
  struct control c;
  if (control_open(ctx, id, true, &c, err) < 0)
    return oci_error_wrap(err, "update");
  int r = 0;
  if (strcmp(oci_state_status(c.st), "stopped") == 0)
    r = oci_error_setx(err, EINVAL, "update: container \"%s\" is stopped", id);
  if (r == 0) {
    /* New device rules still get runc's defaults after them. */
    oci_cg_set_default_rules(c.cg);
    if ((r = oci_cgroup_apply(c.cg, res, err)) < 0)
      oci_error_wrap(err, "update \"%s\"", id);
  }
  control_close(&c);
  return r;
}

/* ---- events ------------------------------------------------------------- */

/* {"type":TYPE,"id":ID[,"data":DATA]} with the id escaped by yajl. */
static char *event_json(const char *type, const char *id, const char *data) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_string(g, (const unsigned char *)id, strlen(id));
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  char *out = data ? oci_xasprintf("{\"type\":\"%s\",\"id\":%.*s,\"data\":%s}", type, (int)len,
                                   (const char *)buf, data)
                   : oci_xasprintf("{\"type\":\"%s\",\"id\":%.*s}", type, (int)len,
                                   (const char *)buf);
  yajl_gen_free(g);
  return out;
}

static int emit_stats(struct control *c, oci_event_cb emit, void *data, oci_error *err) {
  _cleanup_free_ char *stats = NULL;
  if (oci_cgroup_stats_json(c->cg, &stats, err) < 0)
    return -1;
  _cleanup_free_ char *ev = event_json("stats", c->st->id, stats);
  return emit(ev, data) < 0 ? 1 : 0;
}

/* Stats every interval and an "oom" event whenever the OOM fd fires, until
 * the container stops or the consumer says stop. Waits in poll(), never
 * in a sleep loop; the liveness check runs at least once a second. */
static int events_loop(struct control *c, unsigned interval_ms, oci_event_cb emit, void *data,
                       oci_error *err) {
  _cleanup_close_ int oom_fd = -1;
  oci_error ignored;
  if (oci_cgroup_oom_fd(c->cg, &oom_fd, &ignored) < 0)
    oom_fd = -1; /* no memory controller: stats only */
  if (interval_ms == 0)
    interval_ms = 5000;
  long long next = oci_monotonic_ms();
  for (bool alive = true; alive;) {
    /* Check liveness before the OOM fd, so an OOM kill that stopped the
     * container is still reported on the last round. */
    alive = oci_state_init_alive(c->st);
    if (alive && oci_monotonic_ms() >= next) {
      int r = emit_stats(c, emit, data, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
      next = oci_monotonic_ms() + interval_ms;
    }
    long long wait = alive ? next - oci_monotonic_ms() : 0;
    struct pollfd p = {.fd = oom_fd, .events = POLLIN};
    int n = poll(&p, oom_fd >= 0 ? 1 : 0, wait > 1000 ? 1000 : wait < 0 ? 0 : (int)wait);
    if (n < 0 && errno != EINTR)
      return oci_error_errno(err, "events: poll");
    /* The last round reads the counter whether or not the fd fired: the
     * kernel delivers cgroup file notifications from a work queue, and
     * rate-limited, so the one for the kill of pid 1 may still be on its
     * way when the init is already gone. */
    bool oom = false;
    bool look = n > 0 ? (p.revents & POLLIN) != 0 : !alive && oom_fd >= 0;
    if (look && oci_cgroup_oom_happened(c->cg, oom_fd, &oom, err) < 0)
      return -1;
    if (oom) {
      _cleanup_free_ char *ev = event_json("oom", c->st->id, NULL);
      if (emit(ev, data) < 0)
        return 0;
    }
  }
  return 0;
}

int oci_container_events(const struct oci_context *ctx, const char *id, bool stats_only,
                         unsigned interval_ms, oci_event_cb emit, void *data, oci_error *err) {
  struct control c;
  if (control_open(ctx, id, false, &c, err) < 0)
    return oci_error_wrap(err, "events");
  int r;
  if (strcmp(oci_state_status(c.st), "stopped") == 0)
    r = oci_error_setx(err, EINVAL, "events: container \"%s\" is stopped", id);
  else if (stats_only)
    r = emit_stats(&c, emit, data, err) < 0 ? -1 : 0;
  else
    r = events_loop(&c, interval_ms, emit, data, err);
  if (r < 0 && strncmp(err->msg, "events", 6) != 0)
    oci_error_wrap(err, "events \"%s\"", id);
  control_close(&c);
  return r;
}
