/* ocirun — systemd's manager over D-Bus, through sd-bus (libsystemd).
 *
 * libsystemd is loaded with dlopen() the first time the systemd driver is
 * used: linked in, it and its own libraries (lz4, lzma, zstd, gcrypt ...)
 * would be mapped and relocated by every ocirun command, the cgroupfs ones
 * included, and cost them milliseconds. The types come from <systemd/
 * sd-bus.h>; only the functions are looked up.
 *
 * The protocol (one connection per command, no polling): a match on the
 * manager's JobRemoved signal, the method call, then the bus is read until
 * the signal for our job arrives, with a deadline. As root we connect to
 * /run/systemd/private, the manager's own socket (what systemctl uses): no
 * bus daemon relays the messages and no Hello is needed, and the manager
 * sends its signals to every private connection. */
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "systemd-bus.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

/* How long a unit job may take before we give up (runc waits 30 s). */
#define JOB_TIMEOUT_USEC (30ULL * 1000 * 1000)

/* ---- property lists ------------------------------------------------------ */

void oci_sd_props_free(struct sd_props *p) {
  for (size_t i = 0; i < p->n; i++) {
    struct sd_prop *q = &p->v[i];
    free(q->s);
    free(q->bytes);
    free(q->pids);
    for (size_t k = 0; k < q->n_devices; k++)
      free(q->devices[k].path);
    free(q->devices);
  }
  free(p->v);
  p->v = NULL;
  p->n = 0;
}

struct sd_prop *oci_sd_props_add(struct sd_props *p, const char *name, enum sd_prop_type type) {
  p->v = oci_xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
  struct sd_prop *q = &p->v[p->n++];
  memset(q, 0, sizeof(*q));
  q->name = name;
  q->type = type;
  return q;
}

const struct sd_prop *oci_sd_props_find(const struct sd_props *p, const char *name) {
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->v[i].name, name) == 0)
      return &p->v[i];
  return NULL;
}

/* ---- libsystemd, loaded on first use ------------------------------------ */

#define SD_FUNCS(X)                                                                   \
  X(int, sd_bus_new, (sd_bus **))                                                     \
  X(int, sd_bus_set_address, (sd_bus *, const char *))                                \
  X(int, sd_bus_start, (sd_bus *))                                                    \
  X(int, sd_bus_open_system, (sd_bus **))                                             \
  X(int, sd_bus_open_user, (sd_bus **))                                               \
  X(sd_bus *, sd_bus_flush_close_unref, (sd_bus *))                                   \
  X(int, sd_bus_message_new_method_call,                                              \
    (sd_bus *, sd_bus_message **, const char *, const char *, const char *, const char *)) \
  X(int, sd_bus_message_append, (sd_bus_message *, const char *, ...))               \
  X(int, sd_bus_message_append_array, (sd_bus_message *, char, const void *, size_t)) \
  X(int, sd_bus_message_open_container, (sd_bus_message *, char, const char *))       \
  X(int, sd_bus_message_close_container, (sd_bus_message *))                          \
  X(int, sd_bus_message_read, (sd_bus_message *, const char *, ...))                  \
  X(sd_bus_message *, sd_bus_message_unref, (sd_bus_message *))                       \
  X(int, sd_bus_call, (sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **)) \
  X(int, sd_bus_match_signal,                                                         \
    (sd_bus *, sd_bus_slot **, const char *, const char *, const char *, const char *, \
     sd_bus_message_handler_t, void *))                                               \
  X(sd_bus_slot *, sd_bus_slot_unref, (sd_bus_slot *))                                \
  X(int, sd_bus_process, (sd_bus *, sd_bus_message **))                               \
  X(int, sd_bus_wait, (sd_bus *, uint64_t))                                           \
  X(int, sd_bus_get_property_string,                                                  \
    (sd_bus *, const char *, const char *, const char *, const char *, sd_bus_error *, char **)) \
  X(void, sd_bus_error_free, (sd_bus_error *))                                        \
  X(int, sd_bus_error_has_name, (const sd_bus_error *, const char *))

static struct {
#define X(ret, name, args) ret(*name) args;
  SD_FUNCS(X)
#undef X
} sd;

static int sd_load(oci_error *err) {
  static void *handle;
  static char failure[256];
  if (handle)
    return 0;
  if (failure[0])
    return oci_error_setx(err, ENOTSUP, "%s", failure);
  /* Lazy binding: of libsystemd's and its six libraries' thousands of
   * functions we call twenty; binding them all up front cost tens of ms
   * under emulation. */
  void *h = dlopen("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(failure, sizeof(failure),
             "the systemd cgroup driver needs libsystemd.so.0 (Debian: libsystemd0): %s",
             dlerror());
    return oci_error_setx(err, ENOTSUP, "%s", failure);
  }
#define X(ret, name, args)                                                          \
  if ((sd.name = (ret(*) args)dlsym(h, #name)) == NULL) {                           \
    snprintf(failure, sizeof(failure), "libsystemd.so.0 has no %s: too old", #name); \
    dlclose(h);                                                                     \
    return oci_error_setx(err, ENOTSUP, "%s", failure);                            \
  }
  SD_FUNCS(X)
#undef X
  handle = h;
  return 0;
}

bool oci_sdbus_available(void) {
  oci_error e;
  return sd_load(&e) == 0;
}

/* ---- connection ---------------------------------------------------------- */

struct oci_sdbus {
  sd_bus *bus;
  bool user;
  /* The job we wait for and what the manager said of it. */
  const char *job;
  char *job_result;
};

static void bus_error_to(oci_error *err, int r, const sd_bus_error *e, const char *what) {
  if (e && e->message)
    oci_error_setx(err, -r, "%s: %s", what, e->message);
  else
    oci_error_set(err, -r, "%s", what);
}

/* The manager's private socket: root's system manager, or our own user
 * manager (the socket is ours, mode 0600 in $XDG_RUNTIME_DIR). */
static char *private_socket(bool user) {
  if (!user)
    return oci_xstrdup("/run/systemd/private");
  const char *rt = getenv("XDG_RUNTIME_DIR");
  return rt && rt[0] == '/' ? oci_xasprintf("%s/systemd/private", rt) : NULL;
}

static sd_bus *connect_private(bool user) {
  _cleanup_free_ char *path = private_socket(user);
  if (path == NULL || access(path, F_OK) < 0)
    return NULL;
  sd_bus *b = NULL;
  _cleanup_free_ char *addr = oci_xasprintf("unix:path=%s", path);
  if (sd.sd_bus_new(&b) < 0)
    return NULL;
  if (sd.sd_bus_set_address(b, addr) < 0 || sd.sd_bus_start(b) < 0) {
    sd.sd_bus_flush_close_unref(b);
    return NULL;
  }
  return b;
}

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *unused) {
  (void)unused;
  struct oci_sdbus *b = data;
  uint32_t id;
  const char *job = NULL, *unit = NULL, *result = NULL;
  if (sd.sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
    return 0;
  if (b->job && job && strcmp(job, b->job) == 0 && b->job_result == NULL)
    b->job_result = oci_xstrdup(result ? result : "");
  return 0;
}

static int open_bus(bool user, struct oci_sdbus **out, oci_error *err) {
  if (sd_load(err) < 0)
    return -1;
  struct oci_sdbus *b = oci_xmalloc0(sizeof(*b));
  b->user = user;
  b->bus = connect_private(user);
  if (b->bus == NULL) {
    int r = user ? sd.sd_bus_open_user(&b->bus) : sd.sd_bus_open_system(&b->bus);
    if (r < 0) {
      free(b);
      return oci_error_set(err, -r, "systemd: connect to the %s bus",
                           user ? "user's session (DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR)"
                                : "system");
    }
  }
  /* A local filter on a private connection; an AddMatch on a bus. */
  int r = sd.sd_bus_match_signal(b->bus, NULL, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
                                 on_job_removed, b);
  if (r < 0) {
    sd.sd_bus_flush_close_unref(b->bus);
    free(b);
    return oci_error_set(err, -r, "systemd: subscribe to JobRemoved");
  }
  *out = b;
  return 0;
}

/* The preconnection: a thread that loads libsystemd and connects while
 * create reads the bundle, so that the ~20-100 ms (under emulation) of
 * loading and relocating seven libraries are off the critical path. It is
 * always joined before the runtime clones (oci_sdbus_preconnect_join): a
 * child cloned while the thread held the loader's or malloc's lock would
 * inherit the lock but not the thread. */
static struct {
  pthread_t thread;
  bool running;        /* started, not yet joined */
  bool user;
  struct oci_sdbus *bus;  /* its result, until a matching open takes it */
  oci_error err;
  int r;
} pre;

static void *preconnect_main(void *unused) {
  (void)unused;
  pre.r = open_bus(pre.user, &pre.bus, &pre.err);
  return NULL;
}

void oci_sdbus_preconnect(bool user) {
  if (pre.running || pre.bus)
    return;
  pre.user = user;
  pre.bus = NULL;
  /* Without a thread, oci_sdbus_open connects when it is called. */
  pre.running = pthread_create(&pre.thread, NULL, preconnect_main, NULL) == 0;
}

void oci_sdbus_preconnect_join(void) {
  if (!pre.running)
    return;
  pthread_join(pre.thread, NULL);
  pre.running = false;
}

int oci_sdbus_open(bool user, struct oci_sdbus **out, oci_error *err) {
  oci_sdbus_preconnect_join();
  if (pre.bus && pre.user == user) {
    *out = OCI_STEAL(pre.bus);
    return 0;
  }
  /* A failed or mismatched preconnection is simply tried again here, so
   * the error is this call's. */
  return open_bus(user, out, err);
}

void oci_sdbus_close(struct oci_sdbus *b) {
  if (b == NULL)
    return;
  sd.sd_bus_flush_close_unref(b->bus);
  free(b->job_result);
  free(b);
}

/* ---- messages ------------------------------------------------------------ */

static int append_value(sd_bus_message *m, const struct sd_prop *p) {
  int r;
  switch (p->type) {
  case SD_PROP_U64:
    return sd.sd_bus_message_append(m, "v", "t", p->u64);
  case SD_PROP_BOOL:
    return sd.sd_bus_message_append(m, "v", "b", (int)p->b);
  case SD_PROP_STR:
    return sd.sd_bus_message_append(m, "v", "s", p->s);
  case SD_PROP_BYTES:
    if ((r = sd.sd_bus_message_open_container(m, 'v', "ay")) < 0 ||
        (r = sd.sd_bus_message_append_array(m, 'y', p->bytes, p->n_bytes)) < 0)
      return r;
    return sd.sd_bus_message_close_container(m);
  case SD_PROP_PIDS:
    if ((r = sd.sd_bus_message_open_container(m, 'v', "au")) < 0 ||
        (r = sd.sd_bus_message_append_array(m, 'u', p->pids, p->n_pids * sizeof(uint32_t))) < 0)
      return r;
    return sd.sd_bus_message_close_container(m);
  case SD_PROP_DEVICES:
    if ((r = sd.sd_bus_message_open_container(m, 'v', "a(ss)")) < 0 ||
        (r = sd.sd_bus_message_open_container(m, 'a', "(ss)")) < 0)
      return r;
    for (size_t i = 0; i < p->n_devices; i++)
      if ((r = sd.sd_bus_message_append(m, "(ss)", p->devices[i].path, p->devices[i].access)) < 0)
        return r;
    if ((r = sd.sd_bus_message_close_container(m)) < 0)
      return r;
    return sd.sd_bus_message_close_container(m);
  }
  return -EINVAL;
}

static int append_props(sd_bus_message *m, const struct sd_props *props) {
  int r = sd.sd_bus_message_open_container(m, 'a', "(sv)");
  for (size_t i = 0; r >= 0 && i < props->n; i++) {
    if ((r = sd.sd_bus_message_open_container(m, 'r', "sv")) < 0 ||
        (r = sd.sd_bus_message_append(m, "s", props->v[i].name)) < 0 ||
        (r = append_value(m, &props->v[i])) < 0)
      break;
    r = sd.sd_bus_message_close_container(m);
  }
  return r < 0 ? r : sd.sd_bus_message_close_container(m);
}

static sd_bus_message *new_call(struct oci_sdbus *b, const char *member) {
  sd_bus_message *m = NULL;
  if (sd.sd_bus_message_new_method_call(b->bus, &m, SD_DEST, SD_PATH, SD_MANAGER, member) < 0)
    return NULL;
  return m;
}

/* Send m; the reply's job object path (if `job`) is copied out. On a
 * D-Bus error *name_out (if given) says which. */
static int call(struct oci_sdbus *b, sd_bus_message *m, char **job, const char *what,
                sd_bus_error *e, oci_error *err) {
  sd_bus_message *reply = NULL;
  int r = sd.sd_bus_call(b->bus, m, JOB_TIMEOUT_USEC, e, &reply);
  sd.sd_bus_message_unref(m);
  if (r < 0) {
    bus_error_to(err, r, e, what);
    return -1;
  }
  const char *path = NULL;
  if (job && (r = sd.sd_bus_message_read(reply, "o", &path)) < 0) {
    sd.sd_bus_message_unref(reply);
    return oci_error_set(err, -r, "%s: read the job from the reply", what);
  }
  if (job)
    *job = oci_xstrdup(path);
  sd.sd_bus_message_unref(reply);
  return 0;
}

/* Read the bus until JobRemoved for `job` arrives; its result in *result. */
static int wait_job(struct oci_sdbus *b, const char *job, char **result, const char *what,
                    oci_error *err) {
  b->job = job;
  free(b->job_result);
  b->job_result = NULL;
  uint64_t deadline = oci_monotonic_usec() + JOB_TIMEOUT_USEC;
  int r = 0;
  while (b->job_result == NULL) {
    r = sd.sd_bus_process(b->bus, NULL);
    if (r < 0)
      break;
    if (r > 0)
      continue;
    uint64_t now = oci_monotonic_usec();
    if (now >= deadline) {
      r = -ETIMEDOUT;
      break;
    }
    r = sd.sd_bus_wait(b->bus, deadline - now);
    if (r < 0 && r != -EINTR)
      break;
  }
  b->job = NULL;
  if (b->job_result == NULL)
    return oci_error_set(err, -r, "%s: wait for systemd's job %s", what, job);
  *result = OCI_STEAL(b->job_result);
  return 0;
}

static int start_once(struct oci_sdbus *b, const char *unit, const struct sd_props *props,
                      sd_bus_error *e, const char *what, oci_error *err) {
  sd_bus_message *m = new_call(b, "StartTransientUnit");
  int r = m ? sd.sd_bus_message_append(m, "ss", unit, "fail") : -ENOMEM;
  if (r >= 0)
    r = append_props(m, props);
  if (r >= 0)
    r = sd.sd_bus_message_append(m, "a(sa(sv))", 0);
  if (r < 0) {
    sd.sd_bus_message_unref(m);
    return oci_error_set(err, -r, "%s: build the request", what);
  }
  _cleanup_free_ char *job = NULL, *result = NULL;
  if (call(b, m, &job, what, e, err) < 0 || wait_job(b, job, &result, what, err) < 0)
    return -1;
  if (strcmp(result, "done") != 0)
    return oci_error_setx(err, EIO, "%s: systemd's job ended \"%s\" (see journalctl -u %s)",
                          what, result, unit);
  return 0;
}

static void reset_failed(struct oci_sdbus *b, const char *unit) {
  sd_bus_message *m = new_call(b, "ResetFailedUnit");
  if (m == NULL || sd.sd_bus_message_append(m, "s", unit) < 0) {
    sd.sd_bus_message_unref(m);
    return;
  }
  sd_bus_error e = SD_BUS_ERROR_NULL;
  oci_error ignored;
  call(b, m, NULL, "reset-failed", &e, &ignored);
  sd.sd_bus_error_free(&e);
}

int oci_sdbus_start_unit(struct oci_sdbus *b, const char *unit, const struct sd_props *props,
                         oci_error *err) {
  _cleanup_free_ char *what = oci_xasprintf("systemd: start unit %s", unit);
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = start_once(b, unit, props, &e, what, err);
  if (r < 0 && sd.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
    /* A failed or stopping unit of a container that died with that name:
     * forget it and try once more; a live one stays an error. */
    sd.sd_bus_error_free(&e);
    reset_failed(b, unit);
    r = start_once(b, unit, props, &e, what, err);
    if (r < 0 && sd.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists"))
      oci_error_setx(err, EEXIST, "%s: a unit of that name already exists", what);
  }
  sd.sd_bus_error_free(&e);
  return r;
}

int oci_sdbus_set_properties(struct oci_sdbus *b, const char *unit, const struct sd_props *props,
                             oci_error *err) {
  _cleanup_free_ char *what = oci_xasprintf("systemd: set properties of %s", unit);
  sd_bus_message *m = new_call(b, "SetUnitProperties");
  int r = m ? sd.sd_bus_message_append(m, "sb", unit, 1) : -ENOMEM;
  if (r >= 0)
    r = append_props(m, props);
  if (r < 0) {
    sd.sd_bus_message_unref(m);
    return oci_error_set(err, -r, "%s: build the request", what);
  }
  sd_bus_error e = SD_BUS_ERROR_NULL;
  r = call(b, m, NULL, what, &e, err);
  sd.sd_bus_error_free(&e);
  return r;
}

int oci_sdbus_stop_unit(struct oci_sdbus *b, const char *unit, oci_error *err) {
  _cleanup_free_ char *what = oci_xasprintf("systemd: stop unit %s", unit);
  sd_bus_message *m = new_call(b, "StopUnit");
  int r = m ? sd.sd_bus_message_append(m, "ss", unit, "replace") : -ENOMEM;
  if (r < 0) {
    sd.sd_bus_message_unref(m);
    return oci_error_set(err, -r, "%s: build the request", what);
  }
  sd_bus_error e = SD_BUS_ERROR_NULL;
  _cleanup_free_ char *job = NULL, *result = NULL;
  r = call(b, m, &job, what, &e, err);
  bool gone = r < 0 && sd.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit");
  sd.sd_bus_error_free(&e);
  if (gone)
    return 0; /* stopped and collected already: the container's processes are gone */
  if (r < 0 || wait_job(b, job, &result, what, err) < 0)
    return -1;
  /* Failed or not, the unit is collected (CollectMode=inactive-or-failed). */
  if (strcmp(result, "done") != 0)
    oci_debug("%s: job ended \"%s\"", what, result);
  return 0;
}

int oci_sdbus_manager_cgroup(struct oci_sdbus *b, char **out, oci_error *err) {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  char *s = NULL;
  int r = sd.sd_bus_get_property_string(b->bus, SD_DEST, SD_PATH, SD_MANAGER, "ControlGroup",
                                        &e, &s);
  if (r < 0) {
    bus_error_to(err, r, &e, "systemd: read the manager's ControlGroup");
    sd.sd_bus_error_free(&e);
    return -1;
  }
  /* strdup'd by sd-bus with its malloc, which is ours (same libc). */
  *out = s;
  return 0;
}
