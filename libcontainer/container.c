/* ocirun — container lifecycle: create, start, run, kill, delete, state, list.
 *
 * create() is a transaction: every step that changes the host registers its
 * undo in `struct creation`, and any failure unwinds them all (init killed,
 * cgroup removed, state dir removed) before the error goes up. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"
#include "netdev.h"
#include "notify.h"
#include "sched.h"
#include "ocirun/caps.h"
#include "ocirun/cgroup.h"
#include "ocirun/hooks.h"
#include "ocirun/log.h"
#include "ocirun/seccomp.h"
#include "ocirun/terminal.h"

void oci_container_status_free(struct oci_container_status *st) {
  if (st == NULL)
    return;
  free(st->id);
  free(st->status);
  free(st->bundle);
  free(st->rootfs);
  free(st->created);
  free(st->owner);
  for (size_t i = 0; i < st->n_annotations; i++) {
    free(st->annotations[i].key);
    free(st->annotations[i].value);
  }
  free(st->annotations);
  memset(st, 0, sizeof(*st));
}

/* ---- create ------------------------------------------------------------ */

static void run_poststop(const struct oci_state *st);

static void creation_rollback(struct creation *c) {
  oci_error ignored;
  oci_cgroup_preconnect_join();
  if (c->pid > 0) {
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
  }
  /* The spec: a failed prestart/createRuntime/createContainer hook goes on
   * with the poststop hooks, so what the first ones set up (a network) is
   * torn down again. */
  if (c->hooks_ran)
    run_poststop(c->st);
  if (c->cg && c->cg_made) {
    if (oci_cgroup_destroy(c->cg, &ignored) < 0)
      oci_warn("rollback: %s", ignored.msg);
  }
  if (c->dir_made)
    oci_state_dir_remove(c->st->dir, &ignored);
}

static void creation_free(struct creation *c) {
  if (c->sock >= 0)
    close(c->sock);
  if (c->tty_master >= 0)
    close(c->tty_master);
  if (c->cg)
    oci_cgroup_free(c->cg);
  if (c->seccomp)
    oci_seccomp_filter_free(c->seccomp);
  oci_hooks_output_close(&c->hooks_out);
  oci_state_free(c->st);
}

static int load_bundle_config(const struct oci_create_opts *o, struct oci_state *st,
                              oci_error *err) {
  char real[PATH_MAX];
  if (realpath(o->bundle ? o->bundle : ".", real) == NULL)
    return oci_error_errno(err, "bundle \"%s\"", o->bundle ? o->bundle : ".");
  st->bundle = oci_xstrdup(real);
  _cleanup_free_ char *cpath =
      o->config_path ? oci_xstrdup(o->config_path) : oci_xasprintf("%s/config.json", real);
  size_t len = 0;
  if (oci_read_file(cpath, &st->config_json, &len, err) < 0)
    return oci_error_wrap(err, "bundle config");
  /* The length read, not strlen: a NUL byte in the file must not hide
   * what follows it from the parser. */
  return oci_config_parse(st->config_json, len, o->config_path ? o->config_path : "config.json",
                          &st->config, err);
}

static int resolve_rootfs(struct oci_state *st, oci_error *err) {
  const struct oci_config *cfg = st->config;
  if (cfg->root == NULL || cfg->root->path == NULL)
    return oci_error_setx(err, EINVAL, "config.json: root.path: required");
  _cleanup_free_ char *p = cfg->root->path[0] == '/'
                               ? oci_xstrdup(cfg->root->path)
                               : oci_xasprintf("%s/%s", st->bundle, cfg->root->path);
  char real[PATH_MAX];
  struct stat sb;
  if (realpath(p, real) == NULL || stat(real, &sb) < 0)
    return oci_error_errno(err, "root.path: rootfs \"%s\"", p);
  if (!S_ISDIR(sb.st_mode))
    return oci_error_setx(err, ENOTDIR, "root.path: rootfs \"%s\" is not a directory", p);
  st->rootfs = oci_xstrdup(real);
  return 0;
}

/* The checks say "config.json: FIELD"; read from another file (--config),
 * the error names that file instead. */
static int name_config_file(const struct oci_create_opts *o, oci_error *err) {
  static const char prefix[] = "config.json: ";
  if (o->config_path == NULL || strncmp(err->msg, prefix, sizeof(prefix) - 1) != 0)
    return -1;
  _cleanup_free_ char *rest = oci_xstrdup(err->msg + sizeof(prefix) - 1);
  snprintf(err->msg, sizeof(err->msg), "%s: %s", o->config_path, rest);
  return -1;
}

static int validate_process(const struct oci_process *p, const struct oci_create_opts *o,
                            bool relay_tty, oci_error *err) {
  /* Only a foreground run relays the pty itself; anywhere else the master
   * would be dropped, leaving the container a terminal nobody holds. */
  if (p->terminal && !relay_tty && o->console_socket == NULL)
    return oci_error_setx(err, EINVAL,
                         "config.json: process.terminal: a container with a terminal needs a console socket unless it runs in the foreground");
  if (p->apparmor_profile && *p->apparmor_profile)
    return oci_error_setx(err, ENOTSUP, "config.json: process.apparmorProfile: AppArmor is not enabled on this host");
  if (p->selinux_label && *p->selinux_label)
    return oci_error_setx(err, ENOTSUP, "config.json: process.selinuxLabel: SELinux is not enabled on this host");
  if (p->capabilities && oci_caps_validate(p->capabilities, "process.capabilities", err) < 0)
    return oci_error_wrap(err, "config.json");
  return 0;
}

/* Everything that can be checked before the host is touched. */
static int validate_config(const struct oci_config *cfg, const struct oci_create_opts *o,
                           bool relay_tty, struct creation *c, oci_error *err) {
  /* The spec makes process optional until start (see create_container). */
  if (cfg->process != NULL && cfg->process->n_args == 0)
    return oci_error_setx(err, EINVAL, "config.json: process.args: must not be empty");
  /* Without a mount namespace the container shares the host's: its mounts
   * go below a bind of the rootfs (host-rootfs.c), and nothing may change
   * the host's own mounts. */
  if (!oci_ns_wants(cfg, OCI_NS_MOUNT)) {
    if (cfg->linux_ && cfg->linux_->rootfs_propagation && *cfg->linux_->rootfs_propagation)
      return oci_error_setx(err, EINVAL,
                            "config.json: linux.rootfsPropagation: needs a mount namespace in "
                            "linux.namespaces (it would change the host's mounts)");
    if (oci_ns_wants(cfg, OCI_NS_USER))
      return oci_error_setx(err, EINVAL,
                            "config.json: linux.namespaces: a user namespace needs a mount "
                            "namespace too (it cannot mount in the host's)");
  }
  if (cfg->process != NULL && validate_process(cfg->process, o, relay_tty, err) < 0)
    return -1;
  if (oci_config_validate(cfg, err) < 0)
    return -1;
  if (oci_seccomp_prepare_config(cfg, &c->seccomp, err) < 0)
    return oci_error_wrap(err, "config.json");
  return 0;
}

/* <state dir>/NAME, opened O_RDWR (never blocks on a fifo): the init keeps
 * it, `start` opens the other side. */
static int make_fifo(const struct oci_state *st, const char *name, int *fd, oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/%s", st->dir, name);
  if (mkfifo(path, 0600) < 0)
    return oci_error_errno(err, "mkfifo \"%s\"", path);
  *fd = open(path, O_RDWR | O_CLOEXEC);
  if (*fd < 0)
    return oci_error_errno(err, "open \"%s\"", path);
  return 0;
}

static char *hook_state_json(const struct oci_state *st, const char *status) {
  return oci_state_spec_json(st, status, false);
}

/* The status the create-time hooks (prestart, createRuntime,
 * createContainer) are given: the spec's lifecycle runs them at steps 3-5,
 * and its "created" is "after step 2" ("creating" is step 2 itself), as
 * crun and runtime-tools read it (runc 1.1 says "creating"). */
#define CREATE_HOOKS_STATUS "created"

static int run_runtime_hooks(struct creation *c, oci_error *err) {
  /* The spec's state for these hooks carries the pid (network hooks find
   * the container's namespaces through it). */
  c->st->pid = c->pid;
  _cleanup_free_ char *json = hook_state_json(c->st, CREATE_HOOKS_STATUS);
  c->hooks_ran = true;
  const struct oci_hooks *h = &c->st->config->hooks;
  if (oci_hooks_run(&h->prestart, "prestart", c->st->bundle, &c->hooks_out, json, err) < 0 ||
      oci_hooks_run(&h->create_runtime, "createRuntime", c->st->bundle, &c->hooks_out, json,
                    err) < 0)
    return -1;
  return oci_sync_send(c->sock, OCI_SYNC_HOOKS_DONE, json, strlen(json) + 1, -1, err);
}

static int handle_init_message(void *data, struct oci_sync_msg *m, oci_error *err) {
  struct creation *c = data;
  switch (m->type) {
  case OCI_SYNC_HOOKS:
    return run_runtime_hooks(c, err);
  case OCI_SYNC_TTY_FD:
    c->tty_master = OCI_STEAL_FD(m->fd);
    oci_terminal_clear_onlcr(c->tty_master);
    oci_terminal_inherit_size(c->tty_master);
    return 0;
  case OCI_SYNC_SECCOMP_FD: {
    _cleanup_free_ char *json = hook_state_json(c->st, "creating");
    return oci_seccomp_send_listener(c->st->config->linux_->seccomp, m->fd, c->pid, json, err);
  }
  default:
    return oci_error_setx(err, EPROTO, "sync: unexpected message %d", m->type);
  }
}

/* Serve the init (hooks, fds it hands over) until it says it is ready; an
 * error it reports becomes ours. */
static int recv_until_ready(struct creation *c, oci_error *err) {
  return oci_sync_serve(c->sock, handle_init_message, c, err);
}

static int write_pid_file(const char *path, pid_t pid, oci_error *err) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
  if (oci_write_file_atomic(path, buf, (size_t)n, err) < 0)
    return oci_error_wrap(err, "pid file");
  return 0;
}

/* The init's id maps and oom score, then MAPPED: it starts building its
 * rootfs while we make its cgroup. */
static int map_init(struct creation *c, oci_error *err) {
  const struct oci_config *cfg = c->st->config;
  const struct oci_namespace *userns = oci_config_namespace(cfg, OCI_NS_USER);
  /* Hooks and the seccomp agent see the init's pid from here on. */
  c->st->pid = c->pid;
  if (userns && userns->path == NULL && oci_ns_write_id_maps(cfg, c->pid, err) < 0)
    return -1;
  if (oci_oom_score_adj_write(c->pid, cfg->process, err) < 0)
    return -1;
  return oci_sync_send(c->sock, OCI_SYNC_MAPPED, NULL, 0, -1, err);
}

/* The cgroup: made now unless create_cgroup made it before the clone,
 * limits written, the init placed in it; then GO. */
static int place_init(struct creation *c, oci_error *err) {
  if (c->cg && !c->cg_made) {
    if (oci_cgroup_make(c->cg, c->st->id, c->pid, err) < 0)
      return -1;
    c->cg_made = true;
    c->st->cgroup = oci_cgroup_save(c->cg);
  }
  const struct oci_linux *l = c->st->config->linux_;
  /* Applied even without linux.resources: it writes the device allow-list. */
  if (c->cg && (oci_cgroup_apply(c->cg, l ? l->resources : NULL, err) < 0 ||
                oci_cgroup_enter(c->cg, c->pid, err) < 0))
    return -1;
  if (oci_netdev_move_all(c->st->config, c->pid, err) < 0)
    return -1;
  _cleanup_free_ char *json = hook_state_json(c->st, "created");
  return oci_sync_send(c->sock, OCI_SYNC_GO, json, strlen(json) + 1, -1, err);
}

/* The init works on its own after MAPPED; when it failed there, its error
 * (waiting on the socket) says more than ours (a send to a dead peer, a
 * vanished pid). */
static int prefer_init_error(struct creation *c, oci_error *err) {
  struct pollfd p = {.fd = c->sock, .events = POLLIN};
  struct oci_sync_msg m;
  oci_error ignored;
  if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN) || oci_sync_recv(c->sock, &m, &ignored) < 0)
    return -1;
  if (m.type == OCI_SYNC_ERROR)
    oci_sync_decode_error(&m, err);
  oci_sync_msg_clear(&m);
  return -1;
}

static int configure_init(struct creation *c, oci_error *err) {
  if (map_init(c, err) < 0 || place_init(c, err) < 0)
    return prefer_init_error(c, err);
  return 0;
}

/* Socket activation (sd_listen_fds): fds 3..3+LISTEN_FDS-1 pass through and
 * the process is told they are its own, as runc does. Only when LISTEN_PID
 * names us: a LISTEN_FDS inherited from an ancestor describes its fds, not
 * ours, and would let whatever we have open there into the container.
 * Returns how many. */
static int pass_listen_fds(struct oci_process *p) {
  const char *v = getenv("LISTEN_FDS"), *for_pid = getenv("LISTEN_PID");
  long n, pid;
  if (v == NULL || oci_parse_long(v, &n) < 0 || n <= 0 || n > 1024)
    return 0;
  if (for_pid == NULL || oci_parse_long(for_pid, &pid) < 0 || pid != (long)getpid())
    return 0;
  p->env = oci_xrealloc(p->env, (p->n_env + 3) * sizeof(char *));
  p->env[p->n_env++] = oci_xasprintf("LISTEN_FDS=%ld", n);
  p->env[p->n_env++] = oci_xstrdup("LISTEN_PID=1");
  p->env[p->n_env] = NULL;
  return (int)n;
}

static int spawn_init(struct creation *c, const struct oci_create_opts *o, bool relay_tty,
                      oci_error *err) {
  const struct oci_config *cfg = c->st->config;
  int sv[2];
  _cleanup_close_ int fifo = -1, result = -1, console = -1;
  if (make_fifo(c->st, "exec.fifo", &fifo, err) < 0)
    return -1;
  if (cfg->hooks.start_container.n > 0 && make_fifo(c->st, "start.result", &result, err) < 0)
    return -1;
  if (cfg->process->terminal && o->console_socket &&
      (console = oci_console_socket_connect(o->console_socket, err)) < 0)
    return -1; /* the error names the console socket */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return oci_error_errno(err, "socketpair");
  c->sock = sv[0];
  _cleanup_close_ int child_sock = sv[1];
  struct oci_init_args a = {
      .cfg = cfg, .id = c->st->id, .bundle = c->st->bundle, .rootfs = c->st->rootfs,
      .sync_fd = child_sock, .fifo_fd = fifo, .lock_fd = c->lock, .result_fd = result,
      .console_fd = console,
      .tty_to_parent = relay_tty && cfg->process->terminal && console < 0,
      .preserve_fds = o->preserve_fds + pass_listen_fds(cfg->process), .no_pivot = o->no_pivot,
      .no_new_keyring = o->no_new_keyring, .userns = oci_ns_wants(cfg, OCI_NS_USER),
      .cgroupns = oci_ns_wants(cfg, OCI_NS_CGROUP), .cgroup = c->cg, .seccomp = c->seccomp,
      .hooks_out = c->hooks_out,
  };
  if (oci_ns_open_paths(cfg, a.ns_fds, err) < 0)
    return -1;
  /* No other thread may run while we clone (the systemd connection's). */
  oci_cgroup_preconnect_join();
  int r = oci_init_spawn(&a, c->sock, &c->pid, err);
  oci_ns_close_fds(a.ns_fds);
  return r;
}

/* Paths resolved now; as root the directories are made after the clone,
 * in parallel with the init's rootfs (place_init). Rootless, they are made
 * here: without a delegated cgroup we run without one, as runc does, unless
 * the config asks for a place or for limits, and the init must know. */
static int create_cgroup(const struct oci_context *ctx, struct creation *c, oci_error *err) {
  const struct oci_config *cfg = c->st->config;
  if (oci_cgroup_prepare(cfg, c->st->id, ctx->systemd_cgroup, &c->cg, err) < 0)
    return -1;
  /* Written before anything is made: a create killed from here on leaves
   * what delete --force needs to find its cgroups and unit. */
  _cleanup_free_ char *record = oci_cgroup_save(c->cg);
  if (oci_state_save_cgroup_record(c->st->dir, record, err) < 0)
    return -1;
  /* systemd (also the user's) makes the unit around the init's pid. */
  if (geteuid() == 0 || ctx->systemd_cgroup)
    return 0;
  if (oci_cgroup_make(c->cg, c->st->id, 0, err) < 0) {
    bool asked = cfg->linux_ && (cfg->linux_->cgroups_path || cfg->linux_->resources);
    bool denied = err->errnum == EACCES || err->errnum == EPERM || err->errnum == EROFS;
    if (!denied)
      return -1;
    if (asked)
      return oci_error_wrap(err, "%s: a rootless container needs a delegated cgroup for it",
                            cfg->linux_->resources ? "linux.resources" : "linux.cgroupsPath");
    oci_debug("rootless: running without a cgroup: %s", err->msg);
    oci_cgroup_free(c->cg);
    c->cg = NULL;
    return 0;
  }
  c->cg_made = true;
  c->st->cgroup = oci_cgroup_save(c->cg);
  return 0;
}

/* An init that vanished without a word (EPIPE: its end of the socket
 * closed, or it closed with our message unread, which sync.c reports the
 * same way) was killed. In a fresh cgroup an OOM kill means the memory
 * limit is below what the init needs to even start; say so, not just
 * "exited". */
static void explain_init_death(struct creation *c, oci_error *err) {
  if (err->errnum != EPIPE || c->cg == NULL || !c->cg_made || !oci_cgroup_oom_killed(c->cg))
    return;
  const struct oci_linux *l = c->st->config->linux_;
  const struct oci_memory *m = l && l->resources ? l->resources->memory : NULL;
  if (m != NULL && m->limit.set)
    oci_error_setx(err, ENOMEM,
                   "linux.resources.memory.limit: the container's init was killed by the OOM "
                   "killer while starting: a limit of %lld bytes is less than it needs",
                   (long long)m->limit.v);
  else
    oci_error_setx(err, ENOMEM,
                   "linux.resources: the container's init was killed by the OOM killer while "
                   "starting: the memory limits are less than it needs");
}

/* The spec's process is optional until start: a config without one is
 * created like any other (namespaces, mounts, cgroup, hooks) and `start`
 * refuses it. Its init, which never execs anything, gets a stand-in that
 * holds nothing: root in "/", every capability dropped, no new privileges. */
static struct oci_process *stand_in_process(void) {
  struct oci_process *p = oci_xmalloc0(sizeof(*p));
  p->cwd = oci_xstrdup("/");
  p->no_new_privileges = true;
  return p;
}

static int create_container(const struct oci_context *ctx, const struct oci_create_opts *o,
                            bool relay_tty, struct creation *c, oci_error *err) {
  c->st = oci_xmalloc0(sizeof(*c->st));
  c->sock = c->tty_master = c->lock = -1;
  c->hooks_out = OCI_HOOKS_OUTPUT_NONE;
  struct oci_state *st = c->st;
  /* First, before the host is touched: protect the binary (a re-exec,
   * when it comes to that, starts the command over). */
  if (oci_selfexe_protect(err) < 0)
    return -1;
  if (oci_container_id_validate_new(o->id, err) < 0)
    return -1;
  st->id = oci_xstrdup(o->id);
  oci_cgroup_preconnect(ctx->systemd_cgroup);
  if (load_bundle_config(o, st, err) < 0 || resolve_rootfs(st, err) < 0 ||
      validate_config(st->config, o, relay_tty, c, err) < 0)
    return name_config_file(o, err);
  if (st->config->process == NULL && c->run && !o->restore) {
    oci_error_setx(err, EINVAL, "config.json: process: required to run a container");
    return name_config_file(o, err);
  }
  if (st->config->process == NULL)
    st->config->process = stand_in_process();
  /* Opened once here: the init inherits them for the hooks it runs
   * inside the container, where the paths would not resolve. */
  if (oci_hooks_output_open(st->config, &c->hooks_out, err) < 0) {
    oci_error_wrap(err, "config.json: annotations");
    return name_config_file(o, err);
  }
  if (oci_state_dir_create(ctx, o->id, &st->dir, err) < 0)
    return -1;
  c->dir_made = true;
  /* Held until state.json is written: a delete meanwhile waits, and a dir
   * without state.json whose lock is free belongs to a create that died. */
  c->lock = oci_state_lock(ctx, o->id, err);
  if (c->lock < 0)
    goto fail;
  if (!oci_ns_wants(st->config, OCI_NS_MOUNT) &&
      oci_host_rootfs_bind(st->dir, st->rootfs, err) < 0)
    goto fail;
  /* A restored process keeps the mounts it had: no notify socket added. */
  if (!o->restore && oci_notify_prepare(st, err) < 0)
    goto fail;
  st->created = oci_now_rfc3339();
  st->owner = oci_state_owner_name();
  st->systemd_cgroup = ctx->systemd_cgroup;
  if (create_cgroup(ctx, c, err) < 0)
    goto fail;
  if (o->restore ? oci_restore_process(ctx, c, o, err) < 0
                 : (spawn_init(c, o, relay_tty, err) < 0 || configure_init(c, err) < 0 ||
                    recv_until_ready(c, err) < 0))
    goto fail;
  st->pid = c->pid;
  st->pid_start = oci_pid_start_time(c->pid);
  /* Without a cgroup nothing but state.json would lead to the init. */
  if (c->cg == NULL && oci_state_save_init_record(st->dir, st->pid, st->pid_start, err) < 0)
    goto fail;
  if (oci_state_save(st, err) < 0)
    goto fail;
  if (o->pid_file && write_pid_file(o->pid_file, c->pid, err) < 0)
    goto fail;
  oci_cgroup_disconnect(c->cg);
  close(c->lock);
  c->lock = -1;
  return 0;
fail:
  explain_init_death(c, err);
  creation_rollback(c);
  if (c->lock >= 0)
    close(c->lock);
  c->lock = -1;
  return -1;
}

int oci_container_create(const struct oci_context *ctx, const struct oci_create_opts *opts,
                         oci_error *err) {
  struct creation c = {0};
  int r = create_container(ctx, opts, false, &c, err);
  if (r < 0)
    oci_error_wrap(err, "create \"%s\"", opts->id ? opts->id : "");
  creation_free(&c);
  return r;
}

/* ---- start ------------------------------------------------------------- */

static int release_init(const struct oci_state *st, oci_error *err) {
  _cleanup_free_ char *path = oci_xasprintf("%s/exec.fifo", st->dir);
  /* Non-blocking: ENXIO means nobody holds the read side, i.e. the init died. */
  _cleanup_close_ int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO)
      return oci_error_setx(err, ESRCH, "container \"%s\": its init process has exited", st->id);
    return oci_error_errno(err, "open \"%s\"", path);
  }
  if (oci_write_all(fd, "0", 1) < 0)
    return oci_error_errno(err, "write \"%s\"", path);
  unlink(path);
  return 0;
}

/* With startContainer hooks the init reports on start.result: EOF alone
 * (its copy closed by execve) is success, text is why it gave up. Opened
 * before the release so nothing written can be lost with the last fd.
 * Returns the fd, -1 when there is nothing to wait for, -2 on error. */
static int open_start_result(const struct oci_state *st, oci_error *err) {
  if (st->config == NULL || st->config->hooks.start_container.n == 0)
    return -1;
  _cleanup_free_ char *path = oci_xasprintf("%s/start.result", st->dir);
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) {
    oci_error_errno(err, "open \"%s\"", path);
    return -2;
  }
  return fd;
}

static int wait_start_result(const struct oci_state *st, int fd, oci_error *err) {
  char msg[1024];
  size_t len = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0 && errno != EINTR)
      return oci_error_errno(err, "wait for the start of container \"%s\"", st->id);
    ssize_t n = read(fd, msg + len, sizeof(msg) - 1 - len);
    if (n > 0 && (len += (size_t)n) < sizeof(msg) - 1)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    break; /* EOF, a full buffer or an error */
  }
  _cleanup_free_ char *path = oci_xasprintf("%s/start.result", st->dir);
  unlink(path);
  if (len == 0)
    return 0;
  msg[len] = '\0';
  return oci_error_setx(err, ECANCELED, "container \"%s\": %s", st->id, msg);
}

/* Runtime spec 1.2: a failing poststart hook is an error; the container is
 * then stopped and deleted (poststop hooks included) by the caller. */
static int run_poststart(const struct oci_state *st, oci_error *err) {
  if (st->config->hooks.poststart.n == 0)
    return 0;
  _cleanup_free_ char *json = oci_state_spec_json(st, "running", false);
  struct oci_hooks_output out;
  if (oci_hooks_output_open(st->config, &out, err) < 0)
    return oci_error_wrap(err, "container \"%s\": poststart hooks", st->id);
  int r = oci_hooks_run(&st->config->hooks.poststart, "poststart", st->bundle, &out, json, err);
  oci_hooks_output_close(&out);
  if (r < 0)
    return oci_error_wrap(err, "container \"%s\"", st->id);
  return 0;
}

/* What start waits on once the init is released: start.result, and the
 * NOTIFY_SOCKET socket (each -1 when not used). */
struct release {
  int notify;
  int result;
  bool poststart_failed;  /* the container must be destroyed */
};

static void release_close(struct release *rl) {
  if (rl->notify >= 0)
    close(rl->notify);
  if (rl->result >= 0)
    close(rl->result);
}

/* Let the init go, with what tells how it went opened first. */
static int release_container(const struct oci_state *st, struct release *rl, oci_error *err) {
  rl->result = -1;
  rl->notify = oci_notify_listen(st, err);
  if (rl->notify < 0 && err->errnum != 0)
    return -1;
  rl->result = open_start_result(st, err);
  if (rl->result == -2) {
    rl->result = -1;
    return -1;
  }
  return release_init(st, err);
}

/* The startContainer hooks' verdict, poststart, and with NOTIFY_SOCKET the
 * container's READY=1 relayed. Each ends at the latest when the init
 * exits (EOF on start.result, its pidfd), so a `delete --force` ends it. */
static int await_started(const struct oci_state *st, struct release *rl, oci_error *err) {
  if (rl->result >= 0 && wait_start_result(st, rl->result, err) < 0)
    return -1;
  if (run_poststart(st, err) < 0) {
    rl->poststart_failed = true;
    return -1;
  }
  return rl->notify >= 0 ? oci_notify_wait_ready(rl->notify, st->pid, err) : 0;
}

static int release_and_notify(const struct oci_state *st, oci_error *err) {
  struct release rl = {-1, -1, false};
  int r = release_container(st, &rl, err);
  if (r == 0)
    r = await_started(st, &rl, err);
  release_close(&rl);
  return r;
}

static void kill_init(const struct oci_state *st);

int oci_container_start(const struct oci_context *ctx, const char *id, oci_error *err) {
  if (oci_container_id_validate(id, err) < 0)
    return -1;
  int lock = oci_state_lock(ctx, id, err);
  if (lock < 0)
    return -1;
  struct oci_state *st = NULL;
  struct release rl = {-1, -1, false};
  int r = oci_state_load(ctx, id, &st, err);
  const char *status = r == 0 ? oci_state_status(st) : NULL;
  if (status && strcmp(status, "created") != 0) {
    r = oci_error_setx(err, EINVAL, "container \"%s\" is %s, not created: cannot start it", id,
                       status);
  } else if (r == 0 && st->config->process == NULL) {
    /* The spec: start MUST fail without a process. The init has nothing
     * to run: it is stopped, for `delete` to remove. */
    kill_init(st);
    r = oci_error_setx(err, EINVAL,
                       "container \"%s\": its config.json has no process: nothing to start", id);
  } else if (r == 0)
    r = release_container(st, &rl, err);
  /* Released: the lock is not held over the waits (READY=1 may never
   * come), or a `delete` of the container would wait with us. */
  close(lock);
  if (r == 0)
    r = await_started(st, &rl, err);
  release_close(&rl);
  oci_state_free(st);
  if (rl.poststart_failed) {
    /* The spec's lifecycle goes on with delete: stop the container, run
     * poststop, remove it (unless a `delete` got there first). */
    oci_error derr;
    if (oci_container_delete(ctx, id, true, &derr) < 0)
      oci_warn("%s", derr.msg);
  }
  return r;
}

/* ---- delete ------------------------------------------------------------ */

static void run_poststop(const struct oci_state *st) {
  if (st->config == NULL || st->config->hooks.poststop.n == 0)
    return;
  _cleanup_free_ char *json = oci_state_spec_json(st, "stopped", false);
  /* The hooks still run (they clean up) when their files cannot be opened. */
  struct oci_hooks_output out;
  oci_error e;
  if (oci_hooks_output_open(st->config, &out, &e) < 0)
    oci_warn("poststop hooks: %s", e.msg);
  /* They run in the bundle; one removed before delete (an engine cleaning
   * up in the other order) must not cost them their run: then they run
   * where delete was called, as runc's delete runs them. */
  const char *cwd = access(st->bundle, X_OK) == 0 ? st->bundle : NULL;
  oci_hooks_run_all(&st->config->hooks.poststop, "poststop", st->id, cwd, &out, json);
  oci_hooks_output_close(&out);
}

static void kill_init(const struct oci_state *st) {
  if (!oci_state_init_alive(st))
    return;
  int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
  if (pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    poll(&p, 1, 5000);
    close(pidfd);
  } else {
    kill(st->pid, SIGKILL);
  }
}

/* live_cg: the container's cgroup as create made it (run), with its
 * systemd connection; else it is loaded from the state. */
static int destroy_with(struct oci_state *st, struct oci_cgroup *live_cg, oci_error *err) {
  /* With a cgroup, its destroy kills everything in it, thawing a paused
   * container first; killing the init alone would wait in vain for a
   * frozen process to die. */
  if (st->cgroup == NULL)
    kill_init(st);
  if (st->cgroup) {
    struct oci_cgroup *cg = live_cg;
    if (cg == NULL && oci_cgroup_load(st->cgroup, &cg, err) < 0) {
      kill_init(st);
      return -1;
    }
    int r = oci_cgroup_destroy(cg, err);
    if (cg != live_cg)
      oci_cgroup_free(cg);
    if (r < 0)
      return -1;
  }
  run_poststop(st);
  return oci_state_dir_remove(st->dir, err);
}

static int destroy(struct oci_state *st, oci_error *err) {
  return destroy_with(st, NULL, err);
}

/* Tear down by create's own records: the cgroups and unit cgroup.json
 * names, with everything in them, and for a container without a cgroup
 * the init of init.pid; then the directory. For a create killed before it
 * wrote state.json, and for a damaged state.json, which is not followed at
 * all: its pid may be anyone's by now and its cgroup anything, while
 * cgroup.json, written once before anything was made, names the
 * container's own cgroup. */
static int remove_by_record(const struct oci_context *ctx, const char *id, bool damaged,
                            oci_error *err) {
  _cleanup_free_ char *record = oci_state_load_cgroup_record(ctx, id);
  struct oci_cgroup *cg = NULL;
  bool found = false;
  if (record && oci_cgroup_load(record, &cg, err) == 0) {
    int r = oci_cgroup_destroy(cg, err);
    oci_cgroup_free(cg);
    if (r < 0)
      return oci_error_wrap(err, "delete \"%s\"", id);
    found = true;
  }
  /* Only if still the process that started at the recorded time. */
  struct oci_state init = {0};
  if (oci_state_load_init_record(ctx, id, &init.pid, &init.pid_start)) {
    kill_init(&init);
    found = true;
  }
  if (damaged && !found)
    oci_warn("delete \"%s\": no record of its cgroup or init: processes of the container, if "
             "any, are left running", id);
  return oci_state_dir_remove_by_id(ctx, id, err);
}

/* state.json's cgroup is the one create recorded before it made anything
 * (or there is no such record: an older ocirun). A damaged file naming
 * another (the host's root, a parent) would have delete kill everything in
 * it: such a file is not followed. */
static bool cgroup_as_recorded(const struct oci_context *ctx, const struct oci_state *st) {
  _cleanup_free_ char *record = oci_state_load_cgroup_record(ctx, st->id);
  struct oci_cgroup *first = NULL, *now = NULL;
  oci_error ignored;
  /* No cgroup: nothing is followed but the init, checked by start time. */
  if (st->cgroup == NULL || record == NULL || oci_cgroup_load(record, &first, &ignored) < 0)
    return true;
  bool same = oci_cgroup_load(st->cgroup, &now, &ignored) == 0 &&
              oci_cgroup_same_place(first, now);
  oci_cgroup_free(first);
  oci_cgroup_free(now);
  return same;
}

int oci_container_delete(const struct oci_context *ctx, const char *id, bool force,
                         oci_error *err) {
  if (oci_container_id_validate(id, err) < 0)
    return -1;
  /* delete --force of a container that is already gone succeeds, as with
   * runc: engines call it blindly while cleaning up. */
  _cleanup_close_ int lock = oci_state_lock(ctx, id, err);
  if (lock < 0)
    return force && err->errnum == ENOENT ? 0 : -1;
  struct oci_state *st = NULL;
  if (oci_state_load(ctx, id, &st, err) < 0) {
    bool damaged = err->errnum == EUCLEAN;
    if (!force || (err->errnum != ENOENT && !damaged))
      return oci_error_wrap(err, "delete \"%s\"", id);
    /* We hold the lock and there is no usable state.json: a create was
     * killed before it wrote it, or it was damaged since. Without this,
     * the id could never be used again. */
    if (damaged)
      oci_warn("delete \"%s\": %s: removing the container by its cgroup record", id, err->msg);
    return remove_by_record(ctx, id, damaged, err);
  }
  if (!cgroup_as_recorded(ctx, st)) {
    oci_error_setx(err, EUCLEAN, "container \"%s\": %s/state.json: \"cgroup\": not the "
                   "cgroup create recorded", id, st->dir);
    oci_state_free(st);
    if (!force)
      return oci_error_wrap(err, "delete \"%s\"", id);
    oci_warn("delete \"%s\": %s: removing the container by its cgroup record", id, err->msg);
    return remove_by_record(ctx, id, true, err);
  }
  const char *status = oci_state_status(st);
  int r;
  if (!force && strcmp(status, "stopped") != 0 && strcmp(status, "created") != 0)
    r = oci_error_setx(err, EBUSY, "cannot delete container \"%s\" that is not stopped: %s", id,
                      status);
  else if ((r = destroy(st, err)) < 0)
    oci_error_wrap(err, "delete \"%s\"", id);
  oci_state_free(st);
  return r;
}

/* ---- kill -------------------------------------------------------------- */

static int signal_init(const struct oci_state *st, int signum, oci_error *err) {
  int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
  if (pidfd < 0)
    return oci_error_errno(err, "container \"%s\": open its init process", st->id);
  /* The pidfd pins the process: re-check it is still ours, then signal. */
  int r = 0;
  if (!oci_state_init_alive(st))
    r = oci_error_setx(err, ESRCH, "container \"%s\" is not running", st->id);
  else if (syscall(SYS_pidfd_send_signal, pidfd, signum, NULL, 0) < 0)
    r = oci_error_errno(err, "container \"%s\": send signal %d", st->id, signum);
  close(pidfd);
  return r;
}

int oci_container_kill(const struct oci_context *ctx, const char *id, int signum, bool all,
                       oci_error *err) {
  struct oci_state *st = NULL;
  if (oci_state_load(ctx, id, &st, err) < 0)
    return -1;
  int r;
  bool stopped = strcmp(oci_state_status(st), "stopped") == 0;
  if (stopped && !all) {
    r = oci_error_setx(err, ESRCH, "container \"%s\" is not running", id);
  } else if (stopped && st->cgroup == NULL) {
    r = 0; /* --all with nothing left to signal, as runc */
  } else if (all && st->cgroup && !cgroup_as_recorded(ctx, st)) {
    r = oci_error_setx(err, EUCLEAN, "kill every process of \"%s\": %s/state.json: \"cgroup\": not the "
                       "cgroup create recorded", id, st->dir);
  } else if (all && st->cgroup) {
    struct oci_cgroup *cg = NULL;
    r = oci_cgroup_load(st->cgroup, &cg, err);
    if (r == 0)
      r = oci_cgroup_kill(cg, signum, err);
    oci_cgroup_free(cg);
    if (r < 0)
      oci_error_wrap(err, "kill every process of \"%s\"", id);
  } else {
    r = signal_init(st, signum, err);
  }
  oci_state_free(st);
  return r;
}

/* ---- state / list ------------------------------------------------------ */

static void fill_status(const struct oci_state *st, struct oci_container_status *out) {
  memset(out, 0, sizeof(*out));
  out->id = oci_xstrdup(st->id);
  out->status = oci_xstrdup(oci_state_status(st));
  out->pid = strcmp(out->status, "stopped") == 0 ? 0 : st->pid;
  out->bundle = oci_xstrdup(st->bundle);
  out->rootfs = oci_xstrdup(st->rootfs);
  out->created = oci_xstrdup(st->created);
  out->owner = oci_xstrdup(st->owner);
  const struct oci_config *cfg = st->config;
  if (cfg && cfg->n_annotations) {
    out->annotations = oci_xmalloc0(cfg->n_annotations * sizeof(struct oci_kv));
    for (size_t i = 0; i < cfg->n_annotations; i++) {
      out->annotations[i].key = oci_xstrdup(cfg->annotations[i].key);
      out->annotations[i].value = oci_xstrdup(cfg->annotations[i].value);
    }
    out->n_annotations = cfg->n_annotations;
  }
}

/* A container whose state cannot be read is still listed, or nobody would
 * know to delete it: status "unknown" (a string every consumer of the JSON
 * takes), the other fields empty, and why on stderr. */
static void fill_unknown(const char *id, const oci_error *why,
                         struct oci_container_status *out) {
  memset(out, 0, sizeof(*out));
  out->id = oci_xstrdup(id);
  out->status = oci_xstrdup("unknown");
  oci_warn("list: %s", why->msg);
}

int oci_container_state_json(const struct oci_context *ctx, const char *id, char **json,
                             oci_error *err) {
  struct oci_state *st = NULL;
  if (oci_state_load(ctx, id, &st, err) < 0)
    return -1;
  *json = oci_state_spec_json(st, oci_state_status(st), true);
  oci_state_free(st);
  return 0;
}

int oci_container_list(const struct oci_context *ctx, struct oci_container_status **out,
                       size_t *n, oci_error *err) {
  _cleanup_strv_ char **ids = NULL;
  size_t n_ids = 0;
  *out = NULL;
  *n = 0;
  if (oci_state_list_ids(ctx, &ids, &n_ids, err) < 0)
    return -1;
  *out = oci_xmalloc0((n_ids + 1) * sizeof(**out));
  for (size_t i = 0; i < n_ids; i++) {
    struct oci_state *st = NULL;
    oci_error why;
    if (oci_state_load(ctx, ids[i], &st, &why) < 0) {
      if (why.errnum == ENOENT && !oci_state_dir_exists(ctx, ids[i]))
        continue; /* deleted meanwhile */
      if (why.errnum == ENOENT)
        oci_error_setx(&why, ENOENT, "container \"%s\": no state.json: its create did not "
                       "finish; a forced delete removes it", ids[i]);
      fill_unknown(ids[i], &why, &(*out)[(*n)++]);
      continue;
    }
    fill_status(st, &(*out)[(*n)++]);
    oci_state_free(st);
  }
  return 0;
}

/* ---- run --------------------------------------------------------------- */

/* Delete what run made, as `delete` does: under the lock, and only while
 * our state.json is there. A `delete` that got to it first holds the lock
 * until it has run the poststop hooks and removed the directory; checked
 * without the lock, both would run them. */
static void run_cleanup(const struct oci_context *ctx, struct creation *c,
                        const struct stat *dir_st) {
  struct oci_state *st = c->st;
  oci_error derr;
  _cleanup_close_ int lock = oci_state_lock(ctx, st->id, &derr);
  if (lock < 0) {
    if (derr.errnum != ENOENT)
      oci_warn("delete \"%s\": %s", st->id, derr.msg);
    return;
  }
  struct stat now;
  if (fstat(lock, &now) < 0 || now.st_ino != dir_st->st_ino || now.st_dev != dir_st->st_dev)
    return; /* deleted, and the id taken again since */
  if (faccessat(lock, "state.json", F_OK, 0) == 0 && destroy_with(st, c->cg, &derr) < 0)
    oci_warn("delete \"%s\": %s", st->id, derr.msg);
}

int oci_container_run(const struct oci_context *ctx, const struct oci_create_opts *opts,
                      int *exit_status, oci_error *err) {
  struct creation c = {.run = true};
  *exit_status = 0;
  /* The init is our child; orphans it leaves behind are reparented to us. */
  if (!opts->detach) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    oci_block_forwarded_signals();
  }
  if (create_container(ctx, opts, !opts->detach, &c, err) < 0) {
    creation_free(&c);
    return oci_error_wrap(err, "%s \"%s\"", opts->restore ? "restore" : "run",
                          opts->id ? opts->id : "");
  }
  /* Which directory is ours, for the cleanup: the id may be reused. */
  struct stat dir_st;
  if (stat(c.st->dir, &dir_st) < 0)
    dir_st.st_ino = 0;
  /* c.st is what state.json holds: no need to read and parse it back. A
   * restored process runs already. */
  int r = opts->restore ? 0 : release_and_notify(c.st, err);
  if (r == 0 && !opts->detach)
    r = oci_wait_foreground(c.pid, c.tty_master, exit_status, err);
  /* A start that failed leaves nothing either, detached or not. */
  if ((r < 0 || !opts->detach) && !opts->keep)
    run_cleanup(ctx, &c, &dir_st);
  creation_free(&c);
  return r;
}
