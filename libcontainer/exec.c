/* ocirun — exec: run another process in a running container.
 *
 * The parent joins the container's pid namespace for its children only
 * (setns on a pid namespace never moves the caller), forks, places the
 * child in the container's cgroup and lets it go; the child joins the other
 * namespaces (user first, mount last), applies the process spec exactly as
 * the init does and execs. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "internal.h"
#include "ocirun/log.h"
#include "sched.h"
#include "ocirun/caps.h"
#include "ocirun/cgroup.h"
#include "ocirun/seccomp.h"
#include "ocirun/terminal.h"

struct exec_ctx {
  const struct oci_exec_opts *o;
  struct oci_state *st;
  struct oci_process *p;         /* the merged process */
  struct oci_cgroup *cg;
  struct oci_seccomp_filter *seccomp;
  int ns_fds[OCI_NS_COUNT];
  int root_fd;                   /* the init's root, for a container in our mount
                                    namespace (chroot there); else -1 */
  int sock, child_sock;
  int console_fd;
  int tty_master;
  bool userns;
  bool fork_after_join;          /* pid/time namespaces joined by the child */
  pid_t pid;
};

/* ---- the process spec: the CLI's, completed from the config's ---------- */

static char **strv_concat(char **a, size_t na, char **b, size_t nb, size_t *n) {
  char **v = oci_xmalloc0((na + nb + 1) * sizeof(char *));
  for (size_t i = 0; i < na; i++)
    v[i] = oci_xstrdup(a[i]);
  for (size_t i = 0; i < nb; i++)
    v[na + i] = oci_xstrdup(b[i]);
  *n = na + nb;
  return v;
}

/* Environment: the config's, then the new values; a later KEY= replaces an
 * earlier one so the process sees each variable once. */
static void merge_env(struct oci_process *p, const struct oci_process *base) {
  size_t n;
  char **v = strv_concat(base->env, base->n_env, p->env, p->n_env, &n);
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    size_t klen = strcspn(v[i], "=");
    bool replaced = false;
    for (size_t j = 0; j < out; j++)
      if (strncmp(v[j], v[i], klen) == 0 && v[j][klen] == '=') {
        free(v[j]);
        v[j] = v[i];
        replaced = true;
        break;
      }
    if (!replaced)
      v[out++] = v[i];
  }
  v[out] = NULL;
  for (size_t i = 0; i < p->n_env; i++)
    free(p->env[i]);
  free(p->env);
  p->env = v;
  p->n_env = out;
}

static void add_caps(struct oci_cap_set *set, const struct oci_cap_set *base,
                     const struct oci_cap_set *extra) {
  size_t n;
  char **v = strv_concat(base->names, base->n, extra->names, extra->n, &n);
  oci_strv_free(set->names);
  set->names = v;
  set->n = n;
  set->present = true;
}

static struct oci_capabilities *merge_caps(const struct oci_capabilities *base,
                                           const struct oci_capabilities *extra) {
  static const struct oci_capabilities none;
  if (base == NULL)
    base = &none;
  struct oci_capabilities *c = oci_xmalloc0(sizeof(*c));
  const struct oci_cap_set *add = extra ? &extra->bounding : &none.bounding;
  add_caps(&c->bounding, &base->bounding, add);
  add_caps(&c->effective, &base->effective, add);
  add_caps(&c->permitted, &base->permitted, add);
  add_caps(&c->inheritable, &base->inheritable, &none.bounding);
  add_caps(&c->ambient, &base->ambient, base->inheritable.n ? add : &none.bounding);
  return c;
}

static void free_caps(struct oci_capabilities *c) {
  if (c == NULL)
    return;
  struct oci_cap_set *sets[] = {&c->bounding, &c->effective, &c->inheritable, &c->permitted,
                                &c->ambient};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(sets); i++)
    oci_strv_free(sets[i]->names);
  free(c);
}

/* Completes the CLI's process from the config (runc's rules, see
 * src/ocirun.h). Pointers borrowed from `base` are never freed here. */
static void complete_process(struct oci_process *p, const struct oci_process *base,
                             const struct oci_exec_opts *o, struct oci_capabilities **owned_caps) {
  merge_env(p, base);
  if (p->cwd == NULL)
    p->cwd = oci_xstrdup(base->cwd);
  if (!o->uid_set)
    p->user.uid = base->user.uid;
  if (!o->gid_set)
    p->user.gid = base->user.gid;
  p->user.umask = base->user.umask;

  if (base->user.n_additional_gids) {
    size_t n = base->user.n_additional_gids + p->user.n_additional_gids;
    uint32_t *g = oci_xmalloc0(n * sizeof(uint32_t));
    memcpy(g, base->user.additional_gids, base->user.n_additional_gids * sizeof(uint32_t));
    memcpy(g + base->user.n_additional_gids, p->user.additional_gids,
           p->user.n_additional_gids * sizeof(uint32_t));
    free(p->user.additional_gids);
    p->user.additional_gids = g;
    p->user.n_additional_gids = n;
  }
  *owned_caps = merge_caps(base->capabilities, p->capabilities);
  if (!o->no_new_privs_set)
    p->no_new_privileges = base->no_new_privileges;
  if (p->n_rlimits == 0 && base->n_rlimits > 0) {
    p->rlimits = oci_xmalloc0(base->n_rlimits * sizeof(*p->rlimits));
    for (size_t i = 0; i < base->n_rlimits; i++) {
      p->rlimits[i] = base->rlimits[i];
      p->rlimits[i].type = oci_xstrdup(base->rlimits[i].type);
    }
    p->n_rlimits = base->n_rlimits;
  }
  oci_sched_inherit(p, base);
}

/* ---- child -------------------------------------------------------------- */

static __attribute__((noreturn)) void exec_child_fail(struct exec_ctx *x, oci_error *err) {
  oci_sync_send_error(x->child_sock, err);
  _exit(1);
}

/* The pid namespace we just joined applies to our children only: fork, let
 * the parent know the new pid and leave the rest to the grandchild (a
 * fork clears PR_SET_PDEATHSIG, so our exit does not kill it). */
static int fork_into_pid_namespace(struct exec_ctx *x, oci_error *err) {
  pid_t g = oci_clone_flags(0);
  if (g < 0)
    return oci_error_errno(err, "fork into the container's pid namespace");
  if (g == 0)
    return 0;
  _exit(oci_sync_send(x->child_sock, OCI_SYNC_PID, &g, sizeof(g), -1, err) < 0 ? 1 : 0);
}

static int exec_child_setup(struct exec_ctx *x, char **exe, char ***env,
                            oci_error *err) {
  struct oci_sync_msg m;
  if (oci_exec_affinity_apply(x->p, false, err) < 0)
    return -1;
  if (oci_sync_expect(x->child_sock, OCI_SYNC_GO, &m, err) < 0)
    return -1;
  oci_sync_msg_clear(&m);
  if (oci_ns_join_fds(x->ns_fds, "the container", err) < 0)
    return -1;
  if (x->root_fd >= 0 && (fchdir(x->root_fd) < 0 || chroot(".") < 0))
    return oci_error_errno(err, "exec: enter the container's root");
  if (x->fork_after_join && fork_into_pid_namespace(x, err) < 0)
    return -1;
  if (x->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    return oci_error_errno(err, "become root in the container's user namespace");
  /* A session and process group of its own, as runc gives: the ones we
   * were born in are the caller's, outside the container (they read as 0
   * there), and a terminal's signals go to the caller's foreground group,
   * not the container's process (we forward them). */
  if (getsid(0) != getpid() && setsid() < 0)
    return oci_error_errno(err, "exec: setsid");
  if (x->p->terminal) {
    _cleanup_close_ int master = oci_terminal_setup(x->p, err);
    if (master < 0)
      return -1;
    if (x->console_fd >= 0 ? oci_send_fd(x->console_fd, master, "/dev/ptmx", err)
                           : oci_sync_send(x->child_sock, OCI_SYNC_TTY_FD, NULL, 0, master, err))
      return -1;
  }
  if (chdir(x->p->cwd) < 0)
    return oci_error_errno(err, "cwd \"%s\"", x->p->cwd);
  if (oci_apply_rlimits(x->p, err) < 0 || oci_sched_apply(x->p, err) < 0 ||
      oci_mempolicy_apply(x->st->config->linux_, err) < 0)
    return -1;
  *exe = oci_find_executable(x->p->args[0], x->p->env, x->p->n_env);
  *env = oci_process_env_with_home(x->p);
  bool keep_groups =
      oci_config_annotation_on(x->st->config, OCI_ANNOTATION_KEEP_ORIGINAL_GROUPS);
  if (oci_process_drop_privileges(x->p, keep_groups, x->seccomp, err) < 0)
    return -1;
  return oci_check_executable(*exe, x->p->args[0], err);
}

static __attribute__((noreturn)) void exec_child(struct exec_ctx *x) {
  oci_error err = {0};
  char *exe = NULL, **env = NULL;
  /* Like any freshly exec'd process: a foreground exec blocks the signals
   * it forwards, and that mask must not leak in. */
  oci_reset_signals_for_exec();
  prctl(PR_SET_DUMPABLE, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  oci_debug("child process in init(): joining the container, pid %d", (int)getpid());
  /* With SCMP_ACT_NOTIFY this process gets a listener of its own, which
   * must reach the agent as the init's did, before we can make a notified
   * call (else it fails with ENOSYS once the listener is closed). */
  if (exec_child_setup(x, &exe, &env, &err) < 0 ||
      oci_process_send_listener(x->seccomp, x->child_sock, &err) < 0)
    exec_child_fail(x, &err);
  /* Ready; the parent now moves us into the container's cgroup, which may
   * be frozen (exec --ignore-paused): then we stop here, after every step
   * that needed the parent, and exec once the container is resumed. A
   * detached exec's parent exits right after its GO: no death signal now
   * (EOF on the socket before GO still stops us). */
  prctl(PR_SET_PDEATHSIG, 0);
  if (oci_sync_send(x->child_sock, OCI_SYNC_READY, NULL, 0, -1, &err) < 0)
    _exit(1);
  struct oci_sync_msg m;
  if (oci_sync_expect(x->child_sock, OCI_SYNC_GO, &m, &err) < 0)
    _exit(1);
  oci_sync_msg_clear(&m);
  /* Before the seccomp filter, which may not allow write(2). */
  oci_debug("setns_init: about to exec \"%s\"", exe);
  /* Our parent no longer listens: the caller reads the error on stderr. */
  if (oci_exec_affinity_apply(x->p, true, &err) < 0 ||
      oci_process_before_execve(x->o->preserve_fds, oci_process_late_filter(x->seccomp),
                                &err) < 0) {
    dprintf(STDERR_FILENO, "ocirun: %s\n", err.msg);
    _exit(255);
  }
  execve(exe, x->p->args, env);
  dprintf(STDERR_FILENO, "ocirun: exec \"%s\": %s\n", exe, strerror(errno));
  _exit(127);
}

/* ---- parent ------------------------------------------------------------- */

/* The init's /proc directory, as a handle on that very process: what is
 * opened through it belongs to the process whose start time the state
 * recorded, or the open fails once it is gone. By path, a pid reused since
 * the state was read would hand us somebody else's namespaces. */
static int open_init_proc(const struct oci_state *st, oci_error *err) {
  char path[32];
  snprintf(path, sizeof(path), "/proc/%d", (int)st->pid);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 && (st->pid_start == 0 || oci_proc_start_time_at(fd) == st->pid_start))
    return fd;
  if (fd >= 0)
    close(fd);
  return oci_error_setx(err, ESRCH, "container \"%s\": its init process has exited", st->id);
}

/* Open the init's ns/<type> for every namespace the container does not
 * share with us. */
static int open_container_namespaces(struct exec_ctx *x, oci_error *err) {
  for (int t = 0; t < OCI_NS_COUNT; t++)
    x->ns_fds[t] = -1;
  _cleanup_close_ int proc = open_init_proc(x->st, err);
  if (proc < 0)
    return -1;
  for (int t = 0; t < OCI_NS_COUNT; t++) {
    const char *name = t == OCI_NS_NETWORK ? "net" : t == OCI_NS_MOUNT ? "mnt" : oci_ns_type_name(t);
    char theirs[32], ours[64];
    snprintf(theirs, sizeof(theirs), "ns/%s", name);
    snprintf(ours, sizeof(ours), "/proc/self/ns/%s", name);
    struct stat a, b;
    if (fstatat(proc, theirs, &a, 0) < 0)
      continue; /* kernel without this namespace type */
    if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      /* Our own mount namespace (a config without one): the container's
       * root is the init's chroot, not the namespace's root. */
      if (t == OCI_NS_MOUNT &&
          (x->root_fd = openat(proc, "root", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        return oci_error_errno(err, "open /proc/%d/root", (int)x->st->pid);
      continue;
    }
    int fd = openat(proc, theirs, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return oci_error_errno(err, "open /proc/%d/%s", (int)x->st->pid, theirs);
    /* Joined for the children of the parent, before fork; an unprivileged
     * caller may only join them from inside the container's user
     * namespace, so the child does it and forks once more. */
    if ((t == OCI_NS_PID || t == OCI_NS_TIME) && geteuid() != 0)
      x->fork_after_join = true;
    else if (t == OCI_NS_PID || t == OCI_NS_TIME) {
      if (setns(fd, 0) < 0) {
        int e = errno;
        close(fd);
        return oci_error_set(err, e, "join the container's %s namespace", name);
      }
      close(fd);
      continue;
    }
    if (t == OCI_NS_USER)
      x->userns = true;
    x->ns_fds[t] = fd;
  }
  return 0;
}

static int exec_prepare(const struct oci_context *ctx, struct exec_ctx *x, oci_error *err) {
  const struct oci_exec_opts *o = x->o;
  if (oci_state_load(ctx, o->id, &x->st, err) < 0)
    return -1;
  const char *status = oci_state_status(x->st);
  if (strcmp(status, "stopped") == 0)
    return oci_error_setx(err, EINVAL, "cannot exec in a stopped container \"%s\"", o->id);
  if (strcmp(status, "paused") == 0 && !o->ignore_paused)
    return oci_error_setx(err, EBUSY, "cannot exec in a paused container \"%s\"", o->id);
  x->p = o->process;
  if (x->p->n_args == 0)
    return oci_error_setx(err, EINVAL, "exec: no command given");
  if (x->p->terminal && o->detach && o->console_socket == NULL)
    return oci_error_setx(err, EINVAL, "exec: a detached process with a terminal needs a console socket");
  if ((x->p->apparmor_profile && *x->p->apparmor_profile) ||
      (x->p->selinux_label && *x->p->selinux_label))
    return oci_error_setx(err, ENOTSUP, "exec: AppArmor/SELinux are not enabled on this host");
  const struct oci_config *cfg = x->st->config;
  if (x->p->capabilities && oci_caps_validate(x->p->capabilities, "process.capabilities", err) < 0)
    return -1;
  if (oci_seccomp_prepare_config(cfg, &x->seccomp, err) < 0)
    return -1;
  if (x->st->cgroup && oci_cgroup_load(x->st->cgroup, &x->cg, err) < 0)
    return -1;
  if (o->n_cgroup_subs > 0 && x->cg == NULL)
    return oci_error_setx(err, EINVAL, "exec: a sub-cgroup was asked for, but container \"%s\" has no cgroup", o->id);
  if (x->cg && oci_cgroup_check_subs(x->cg, o->cgroup_subs, o->n_cgroup_subs, err) < 0)
    return oci_error_wrap(err, "exec");
  if (x->p->terminal && o->console_socket &&
      (x->console_fd = oci_console_socket_connect(o->console_socket, err)) < 0)
    return -1; /* the error names the console socket */
  return 0;
}

static int exec_wait_ready(struct exec_ctx *x, oci_error *err);

/* Protocol: GO -> the child joins the namespaces and applies the process
 * spec -> READY -> we place it in the cgroup -> GO -> it execs. The cgroup
 * comes last so a frozen one cannot stop the child before it reported. */
static int exec_spawn(struct exec_ctx *x, oci_error *err) {
  if (open_container_namespaces(x, err) < 0)
    return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return oci_error_errno(err, "socketpair");
  x->sock = sv[0];
  x->child_sock = sv[1];
  /* --debug milestones in runc's words (see init_main). */
  oci_debug("nsexec container setup: fork the process that joins the container");
  x->pid = oci_clone_flags(0);
  if (x->pid < 0)
    return oci_error_errno(err, "fork");
  if (x->pid == 0) {
    close(x->sock);
    exec_child(x);
  }
  close(x->child_sock);
  x->child_sock = -1;
  if (oci_oom_score_adj_write(x->pid, x->p, err) < 0)
    return -1;
  if (oci_sync_send(x->sock, OCI_SYNC_GO, NULL, 0, -1, err) < 0 || exec_wait_ready(x, err) < 0)
    return -1;
  if (x->cg && oci_cgroup_enter_subs(x->cg, x->pid, x->o->cgroup_subs, x->o->n_cgroup_subs,
                                     err) < 0)
    return -1;
  return oci_sync_send(x->sock, OCI_SYNC_GO, NULL, 0, -1, err);
}

/* The exec'd process's listener goes to the container's agent, with the
 * container's state and the process's pid, as the init's did at create. */
static int send_listener_to_agent(const struct exec_ctx *x, int fd, oci_error *err) {
  _cleanup_free_ char *json = oci_state_spec_json(x->st, "running", false);
  return oci_seccomp_send_listener(x->st->config->linux_->seccomp, fd, x->pid, json, err);
}

static int handle_child_message(void *data, struct oci_sync_msg *m, oci_error *err) {
  struct exec_ctx *x = data;
  switch (m->type) {
  case OCI_SYNC_TTY_FD:
    x->tty_master = OCI_STEAL_FD(m->fd);
    oci_terminal_clear_onlcr(x->tty_master);
    oci_terminal_inherit_size(x->tty_master);
    return 0;
  case OCI_SYNC_SECCOMP_FD:
    return send_listener_to_agent(x, m->fd, err);
  case OCI_SYNC_PID:
    /* The child forked into the pid namespace and is done; without a
     * valid pid of its child there is nothing left we may signal (the
     * grandchild sees EOF and exits). */
    waitpid(x->pid, NULL, 0);
    if (oci_sync_decode_pid(m, &x->pid, err) < 0) {
      x->pid = 0;
      return -1;
    }
    return 0;
  default:
    return 0;
  }
}

/* Serve the child (a pty master, a seccomp listener it hands over) until it
 * is ready to exec. */
static int exec_wait_ready(struct exec_ctx *x, oci_error *err) {
  return oci_sync_serve(x->sock, handle_child_message, x, err);
}

static void exec_ctx_free(struct exec_ctx *x, struct oci_capabilities *caps) {
  for (int t = 0; t < OCI_NS_COUNT; t++)
    if (x->ns_fds[t] >= 0)
      close(x->ns_fds[t]);
  if (x->root_fd >= 0)
    close(x->root_fd);
  if (x->sock >= 0)
    close(x->sock);
  if (x->child_sock >= 0) /* the child's end, when there was no child */
    close(x->child_sock);
  if (x->console_fd >= 0)
    close(x->console_fd);
  if (x->tty_master >= 0)
    close(x->tty_master);
  if (x->cg)
    oci_cgroup_free(x->cg);
  if (x->seccomp)
    oci_seccomp_filter_free(x->seccomp);
  free_caps(caps);
  oci_state_free(x->st);
}

int oci_container_exec(const struct oci_context *ctx, const struct oci_exec_opts *opts,
                       int *exit_status, oci_error *err) {
  struct exec_ctx x = {.o = opts, .root_fd = -1, .sock = -1, .child_sock = -1,
                       .console_fd = -1, .tty_master = -1};
  for (int t = 0; t < OCI_NS_COUNT; t++)
    x.ns_fds[t] = -1;
  struct oci_capabilities *caps = NULL, *cli_caps = opts->process->capabilities;
  *exit_status = 0;
  /* The exec'd child is a fork of us: run from a binary it can't write. */
  int r = oci_selfexe_protect(err);
  if (r == 0)
    r = exec_prepare(ctx, &x, err);
  if (r == 0 && opts->process_from_cli) {
    /* A container created without a process has nothing to inherit from:
     * its init's stand-in (root in "/", no capability). */
    static const struct oci_process none = {.cwd = "/", .no_new_privileges = true};
    complete_process(x.p, x.st->config->process ? x.st->config->process : &none, opts, &caps);
    x.p->capabilities = caps;
  }
  if (r == 0 && !opts->detach)
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (r == 0)
    r = exec_spawn(&x, err);
  if (r == 0 && opts->pid_file) {
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", (int)x.pid);
    r = oci_write_file_atomic(opts->pid_file, buf, (size_t)n, err);
  }
  if (r == 0 && !opts->detach)
    r = oci_wait_foreground(x.pid, x.tty_master, exit_status, err);
  if (r < 0 && x.pid > 0) {
    kill(x.pid, SIGKILL);
    waitpid(x.pid, NULL, 0);
  }
  if (opts->process_from_cli && x.p != NULL)
    x.p->capabilities = cli_caps;
  exec_ctx_free(&x, caps);
  if (r < 0)
    oci_error_wrap(err, "exec \"%s\"", opts->id);
  return r;
}
