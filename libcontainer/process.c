/* ocirun — the container's init process.
 *
 * The parent clones it into the new namespaces; it waits for the parent to
 * write its id maps and place it in the cgroup, builds the rootfs, drops
 * privileges in the order the kernel requires, tells the parent it is ready
 * and then blocks reading exec.fifo until `start` writes to it. Anything
 * that fails before "ready" is sent to the parent as an error message; the
 * parent reports it and rolls everything back. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <net/if.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "internal.h"
#include "netdev.h"
#include "sched.h"
#include "ocirun/caps.h"
#include "ocirun/hooks.h"
#include "ocirun/log.h"
#include "ocirun/rootfs.h"
#include "ocirun/seccomp.h"
#include "ocirun/terminal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int oci_wait_status_to_exit(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 1;
}

static const char *env_lookup(char **env, size_t n, const char *key) {
  size_t klen = strlen(key);
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
      return env[i] + klen + 1;
  return NULL;
}

/* Whether execve could run it for someone: a regular file with an execute
 * bit. Who may is left to execve, which judges with the final uid and
 * capabilities (CAP_DAC_OVERRIDE runs a file only its owner may execute);
 * access(2) would judge by the real uid without capabilities. */
static bool may_be_executable(const struct stat *st) {
  return S_ISREG(st->st_mode) && (st->st_mode & 0111) != 0;
}

char *oci_find_executable(const char *name, char **env, size_t n_env) {
  if (strchr(name, '/') != NULL)
    return oci_xstrdup(name);
  const char *path = env_lookup(env, n_env, "PATH");
  if (path == NULL)
    path = DEFAULT_PATH;
  _cleanup_free_ char *copy = oci_xstrdup(path);
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *cand = oci_xasprintf("%s/%s", *dir ? dir : ".", name);
    struct stat st;
    if (stat(cand, &st) == 0 && may_be_executable(&st))
      return cand;
    free(cand);
  }
  return NULL;
}

/* uid's home directory in the container's /etc/passwd, "/" when it has no
 * entry there (runc's default). Read before privileges are dropped: the
 * file may be readable by root only. Not a FIFO or device: we would block. */
static char *passwd_home(uid_t uid) {
  _cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return oci_xstrdup("/");
  _cleanup_fclose_ FILE *f = fdopen(fd, "re");
  if (f == NULL)
    return oci_xstrdup("/");
  fd = -1; /* f's now */
  struct passwd *pw;
  while ((pw = fgetpwent(f)) != NULL)
    if (pw->pw_uid == uid)
      return oci_xstrdup(pw->pw_dir);
  return oci_xstrdup("/");
}

char **oci_process_env_with_home(const struct oci_process *p) {
  char **env = oci_xmalloc0((p->n_env + 2) * sizeof(*env));
  size_t home_at = p->n_env;
  for (size_t i = 0; i < p->n_env; i++) {
    env[i] = p->env[i];
    if (home_at == p->n_env && strncmp(p->env[i], "HOME=", 5) == 0)
      home_at = i;
  }
  if (home_at < p->n_env && p->env[home_at][5] != '\0')
    return env;
  _cleanup_free_ char *home = passwd_home(p->user.uid);
  env[home_at] = oci_xasprintf("HOME=%s", home);
  return env;
}

int oci_check_executable(const char *exe, const char *arg0, oci_error *err) {
  /* Early, so that create fails rather than start; the permission itself
   * is execve's to decide (may_be_executable). */
  if (exe == NULL)
    return oci_error_setx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
  struct stat st;
  if (stat(exe, &st) < 0)
    return oci_error_errno(err, "exec: \"%s\"", arg0);
  if (!may_be_executable(&st))
    return oci_error_set(err, EACCES, "exec: \"%s\"", arg0);
  return 0;
}

int oci_apply_rlimits(const struct oci_process *p, oci_error *err) {
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) < 0)
      return oci_error_errno(err, "process.rlimits[%zu]: set %s", i, p->rlimits[i].type);
  }
  return 0;
}

int oci_set_user(const struct oci_user *u, enum oci_groups_mode groups, oci_error *err) {
  if (groups == OCI_GROUPS_SET) {
    gid_t *gids = (gid_t *)u->additional_gids;
    if (setgroups(u->n_additional_gids, gids) < 0)
      return oci_error_errno(err, "process.user.additionalGids: setgroups");
  } else if (groups == OCI_GROUPS_DENIED && u->n_additional_gids > 0) {
    return oci_error_set(err, EPERM,
                         "process.user.additionalGids: setgroups is denied in this user namespace");
  }
  if (setresgid(u->gid, u->gid, u->gid) < 0)
    return oci_error_errno(err, "process.user.gid: setresgid(%u)", u->gid);
  if (setresuid(u->uid, u->uid, u->uid) < 0)
    return oci_error_errno(err, "process.user.uid: setresuid(%u)", u->uid);
  if (u->umask.set)
    umask(u->umask.v);
  return 0;
}

/* setgroups(2) is refused in a user namespace whose setgroups file says
 * "deny" (what an unprivileged creator has to write). */
static bool setgroups_allowed(void) {
  char buf[16] = "";
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return true;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  return !(n > 0 && strncmp(buf, "deny", 4) == 0);
}

static int write_sysctls(const struct oci_linux *l, oci_error *err) {
  for (size_t i = 0; l && i < l->n_sysctl; i++) {
    _cleanup_free_ char *path = oci_xasprintf("/proc/sys/%s", l->sysctl[i].key);
    for (char *p = path + strlen("/proc/sys/"); *p; p++)
      if (*p == '.')
        *p = '/';
    const char *v = l->sysctl[i].value;
    if (oci_write_file_at(AT_FDCWD, path, v, strlen(v), err) < 0)
      return oci_error_wrap(err, "linux.sysctl \"%s\"", l->sysctl[i].key);
  }
  return 0;
}

static int set_hostnames(const struct oci_init_args *a, oci_error *err) {
  const struct oci_config *cfg = a->cfg;
  /* A uts namespace joined by path is the container's too: the names are
   * set there, as runc does; only the host's must never change. */
  if ((cfg->hostname && *cfg->hostname) || (cfg->domainname && *cfg->domainname)) {
    if (!oci_ns_wants(cfg, OCI_NS_UTS))
      return oci_error_setx(err, EINVAL, "hostname: setting it needs a uts namespace");
  }
  if (cfg->hostname && *cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
    return oci_error_errno(err, "hostname: sethostname \"%s\"", cfg->hostname);
  if (cfg->domainname && *cfg->domainname &&
      setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
    return oci_error_errno(err, "domainname: setdomainname \"%s\"", cfg->domainname);
  return 0;
}

static int set_personality(const struct oci_linux *l, oci_error *err) {
  if (l == NULL || l->personality == NULL || l->personality->domain == NULL)
    return 0;
  unsigned long p;
  if (strcmp(l->personality->domain, "LINUX") == 0)
    p = PER_LINUX;
  else if (strcmp(l->personality->domain, "LINUX32") == 0)
    p = PER_LINUX32;
  else
    return oci_error_setx(err, EINVAL, "linux.personality.domain: unknown \"%s\"",
                         l->personality->domain);
  if (personality(p) < 0)
    return oci_error_errno(err, "linux.personality");
  return 0;
}

/* Hooks the spec places between the mounts and pivot_root: the runtime runs
 * prestart+createRuntime (we ask the parent), then we run createContainer
 * in the container's namespaces. */
struct hook_ctx {
  const struct oci_init_args *a;
  char *state_json;
  bool placed;      /* GO received: we are in our cgroup */
};

static bool has_hooks(const struct oci_hook_list *l) {
  return l->n > 0;
}

static int before_pivot(void *data, oci_error *err) {
  struct hook_ctx *h = data;
  const struct oci_hooks *hooks = &h->a->cfg->hooks;
  if (!has_hooks(&hooks->prestart) && !has_hooks(&hooks->create_runtime) &&
      !has_hooks(&hooks->create_container))
    return 0;
  if (oci_sync_send(h->a->sync_fd, OCI_SYNC_HOOKS, NULL, 0, -1, err) < 0)
    return -1;
  struct oci_sync_msg m;
  if (oci_sync_expect(h->a->sync_fd, OCI_SYNC_HOOKS_DONE, &m, err) < 0)
    return -1;
  /* The runtime's state for createContainer (status "created", as the
   * runtime's hooks get it); h->state_json (from GO) stays for
   * startContainer. It runs in the rootfs, where the mounts
   * left our cwd, as runc runs it (crun runs it in the bundle). */
  int r = oci_hooks_run(&hooks->create_container, "createContainer", NULL, &h->a->hooks_out,
                        m.data, err);
  oci_sync_msg_clear(&m);
  return r;
}

static bool new_cgroupns(const struct oci_config *cfg) {
  const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_CGROUP);
  return ns != NULL && ns->path == NULL;
}

/* The runtime makes our cgroup while we build the rootfs; GO says we have
 * been placed in it. Only then may a cgroup namespace be made (it takes
 * our cgroup as its root, so the container sees itself at "/"). */
static int await_cgroup(void *data, oci_error *err) {
  struct hook_ctx *h = data;
  if (h->placed)
    return 0;
  struct oci_sync_msg m;
  if (oci_sync_expect(h->a->sync_fd, OCI_SYNC_GO, &m, err) < 0)
    return -1;
  h->placed = true;
  h->state_json = OCI_STEAL(m.data);
  oci_sync_msg_clear(&m);
  if (new_cgroupns(h->a->cfg) && unshare(CLONE_NEWCGROUP) < 0)
    return oci_error_errno(err, "create cgroup namespace");
  return 0;
}

/* stdio on the host's /dev/null (a detached container) is moved to the
 * container's own, as runc does: the host's node is on a mount the
 * container cannot see, which CRIU cannot checkpoint. After pivot_root. */
static int reopen_dev_null(oci_error *err) {
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
      continue;
    int null = open("/dev/null", (flags & O_ACCMODE) | O_NOCTTY | O_CLOEXEC);
    struct stat nst;
    if (null < 0 || fstat(null, &nst) < 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != st.st_rdev) {
      if (null >= 0)
        close(null);
      continue; /* no /dev/null of its own: keep the host's */
    }
    int r = dup2(null, fd);
    close(null);
    if (r < 0)
      return oci_error_errno(err, "reopen /dev/null as fd %d", fd);
  }
  return 0;
}

static int setup_terminal(const struct oci_init_args *a, oci_error *err) {
  /* A session of its own either way, as runc's init: the container is no
   * job of the shell that started it, and CRIU checkpoints only a process
   * tree that leads its session. */
  if (!a->cfg->process->terminal)
    return setsid() < 0 ? oci_error_errno(err, "setsid") : 0;
  _cleanup_close_ int master = oci_terminal_setup(a->cfg->process, err);
  if (master < 0)
    return -1;
  if (a->console_fd >= 0) {
    if (oci_send_fd(a->console_fd, master, "/dev/ptmx", err) < 0)
      return oci_error_wrap(err, "console socket");
    return 0;
  }
  if (a->tty_to_parent)
    return oci_sync_send(a->sync_fd, OCI_SYNC_TTY_FD, NULL, 0, master, err);
  return 0;
}

/* runc creates a missing cwd: before the root may become read-only, and
 * after pivot_root, so that "/" is the container's. What cannot be made
 * stays missing, for change_dir to report (one message for every way the
 * cwd is unusable). */
static void make_missing_cwd(const char *cwd) {
  struct stat st;
  oci_error ignored;
  if (stat(cwd, &st) < 0 && errno == ENOENT)
    (void)oci_mkdir_p(cwd, 0755, &ignored);
}

/* The init's terminal is the container's console too, as with runc. */
static int setup_console(const struct oci_init_args *a, oci_error *err) {
  if (!a->cfg->process->terminal)
    return 0;
  return oci_terminal_bind_console(STDIN_FILENO, err);
}

static int change_dir(const char *cwd, oci_error *err) {
  if (chdir(cwd) < 0)
    return oci_error_errno(err, "process.cwd: chdir \"%s\"", cwd);
  return 0;
}

/* A new network namespace starts with lo down; runc and crun bring it up,
 * and programs expect 127.0.0.1 to work. */
static int loopback_up(const struct oci_config *cfg, oci_error *err) {
  const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_NETWORK);
  if (ns == NULL || ns->path != NULL)
    return 0;
  _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return oci_error_errno(err, "network namespace: socket");
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
    return oci_error_errno(err, "network namespace: get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
    return oci_error_errno(err, "network namespace: bring lo up");
  return 0;
}

/* Everything done as (container) root, up to the privilege drop. */
static int init_setup(struct oci_init_args *a, struct hook_ctx *hc, oci_error *err) {
  const struct oci_config *cfg = a->cfg;
  if (a->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    return oci_error_errno(err, "linux.uidMappings: become root in the user namespace");
  if (set_hostnames(a, err) < 0 || loopback_up(cfg, err) < 0)
    return -1;
  if (!a->no_new_keyring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->id) < 0 &&
      errno != ENOSYS && errno != EPERM)
    return oci_error_errno(err, "join session keyring");
  struct oci_rootfs_ctx rc = {
      .cfg = cfg, .bundle = a->bundle, .rootfs = a->rootfs, .no_pivot = a->no_pivot,
      .userns = a->userns, .cgroupns = a->cgroupns, .cgroup = a->cgroup,
      .before_pivot = before_pivot, .await_cgroup = await_cgroup, .callback_data = hc,
      .bind_trees = a->bind_trees, .device_nodes = a->device_nodes,
      .host_mount_ns = !oci_ns_wants(cfg, OCI_NS_MOUNT),
  };
  if (oci_rootfs_setup(&rc, err) < 0 || await_cgroup(hc, err) < 0)
    return -1;
  if (setup_terminal(a, err) < 0 || setup_console(a, err) < 0 || reopen_dev_null(err) < 0)
    return -1;
  if (write_sysctls(cfg->linux_, err) < 0)
    return -1;
  make_missing_cwd(cfg->process->cwd);
  if (oci_rootfs_finalize(&rc, err) < 0)
    return -1;
  if (change_dir(cfg->process->cwd, err) < 0)
    return -1;
  if (oci_apply_rlimits(cfg->process, err) < 0)
    return -1;
  if (oci_sched_apply(cfg->process, err) < 0 || oci_mempolicy_apply(cfg->linux_, err) < 0)
    return -1;
  return set_personality(cfg->linux_, err);
}

/* Loading a seccomp filter without no_new_privs needs CAP_SYS_ADMIN (it
 * may be inherited: then nothing is needed). */
static bool filter_needs_sys_admin(const struct oci_process *p,
                                   const struct oci_seccomp_filter *seccomp) {
  return seccomp != NULL && !p->no_new_privileges && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1;
}

/* The stdio the caller gave (pipes, files) is owned by the caller, often
 * mode 0600: a non-root process.user could use the open fds but not reopen
 * them as /dev/stdout or /proc/self/fd/1, what many images log to. As runc
 * (uid) and crun (uid and gid) do, hand them to the process's user. Not a
 * terminal or any other device (/dev/null, a console is the host's), and
 * when the kernel refuses (an owner or user not mapped in the user
 * namespace, a read-only file system) the fd is left as it is. */
static void chown_stdio(const struct oci_user *u) {
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0 || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      continue;
    if (st.st_uid == u->uid && st.st_gid == u->gid)
      continue;
    if (fchown(fd, u->uid, u->gid) < 0)
      oci_debug("stdio fd %d: fchown to %u:%u: %s", fd, u->uid, u->gid, strerror(errno));
  }
}

/* Privileges: no_new_privs, bounding set, user, capabilities. The seccomp
 * filter comes later, in oci_process_before_execve(): as the last step
 * before execve when it can, so a profile only has to allow what the
 * process itself needs. Without no_new_privs the filter needs
 * CAP_SYS_ADMIN, kept until then (execve drops it), as runc also loads
 * such a filter before it drops capabilities. */
int oci_process_drop_privileges(const struct oci_process *p, bool keep_groups,
                                const struct oci_seccomp_filter *seccomp, oci_error *err) {
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return oci_error_errno(err, "process.noNewPrivileges");
  if (oci_caps_prepare(p->capabilities, err) < 0)
    return -1;
  chown_stdio(&p->user);
  /* Kept groups are the caller's whatever additionalGids says: an engine
   * asks for this so a rootless user's groups still open its files. */
  enum oci_groups_mode groups = keep_groups            ? OCI_GROUPS_KEEP
                                : setgroups_allowed() ? OCI_GROUPS_SET
                                                      : OCI_GROUPS_DENIED;
  if (oci_set_user(&p->user, groups, err) < 0)
    return -1;
  int keep = filter_needs_sys_admin(p, seccomp) ? CAP_SYS_ADMIN : -1;
  if (oci_caps_finish_keeping(p->capabilities, keep, err) < 0)
    return keep < 0 ? -1 : oci_error_wrap(err, "linux.seccomp without process.noNewPrivileges");
  return 0;
}

int oci_process_before_execve(int preserve_fds, struct oci_seccomp_filter *seccomp,
                              oci_error *err) {
  /* CVE-2024-21626: a runtime fd that crossed execve would give the
   * process a way out of its root; one we could not close is an error. */
  if (oci_close_fds_from(3 + preserve_fds, true, err) < 0)
    return oci_error_wrap(err, "close the runtime's fds before exec");
  if (seccomp == NULL)
    return 0;
  /* A listener (exec'd processes: the container's agent has the init's)
   * is O_CLOEXEC: execve closes it. */
  int notify_fd;
  return oci_seccomp_load(seccomp, &notify_fd, err);
}

/* Wait for `start`: it writes one byte into exec.fifo. */
static int wait_for_start(int fifo_fd) {
  char c;
  ssize_t n;
  do
    n = read(fifo_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

static __attribute__((noreturn)) void init_fail(struct oci_init_args *a, oci_error *err) {
  oci_sync_send_error(a->sync_fd, err);
  _exit(1);
}

/* After start the parent is gone: `start` hears from us through
 * start.result (with startContainer hooks), else there is the container's
 * stderr. */
static __attribute__((noreturn)) void start_fail(struct oci_init_args *a, const oci_error *err) {
  if (a->result_fd < 0 || oci_write_all(a->result_fd, err->msg, strlen(err->msg)) < 0)
    dprintf(STDERR_FILENO, "ocirun: %s\n", err->msg);
  _exit(1);
}

/* A filter's listener (NOTIFY rules, or a listenerPath) must reach the
 * agent through our parent (create, exec), which waits for READY: such a
 * filter is loaded now, and
 * the profile must allow what follows (read of exec.fifo, close, execve);
 * sendmsg right after the load cannot be notified (seccomp.c refuses it). */
int oci_process_send_listener(struct oci_seccomp_filter *seccomp, int sync_fd, oci_error *err) {
  int notify_fd = -1;
  if (seccomp == NULL || !oci_seccomp_has_listener(seccomp))
    return 0;
  if (oci_seccomp_load(seccomp, &notify_fd, err) < 0)
    return -1;
  int r = oci_sync_send(sync_fd, OCI_SYNC_SECCOMP_FD, NULL, 0, notify_fd, err);
  close(notify_fd);
  return r;
}

struct oci_seccomp_filter *oci_process_late_filter(struct oci_seccomp_filter *seccomp) {
  return seccomp && !oci_seccomp_has_listener(seccomp) ? seccomp : NULL;
}

static __attribute__((noreturn)) void init_main(struct oci_init_args *a) {
  oci_error err = {0};
  struct hook_ctx hc = {.a = a};
  struct oci_sync_msg m;
  const struct oci_process *p = a->cfg->process;
  /* The --debug milestones carry runc's names for the same steps, which
   * runc's tests and people's scripts look for. */
  oci_debug("child process in init(): the container's init, pid %d", (int)getpid());

  /* create's lock on the state dir is not ours to hold: `start` takes it,
   * and it is a host directory. */
  if (a->lock_fd >= 0)
    close(a->lock_fd);

  /* Die with the parent while it still owns us (create aborted). Through
   * the intermediate our parent exits at once; then the sync socket's EOF
   * is what tells us create was aborted. */
  if (!a->parent_exits)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (oci_sync_expect(a->sync_fd, OCI_SYNC_MAPPED, &m, &err) < 0)
    _exit(1);
  oci_sync_msg_clear(&m);
  /* Non-dumpable from here to execve, so nothing in the container can open
   * our /proc/PID/exe or memory. Not before MAPPED: a non-dumpable
   * process's /proc/PID files belong to root, and a rootless parent could
   * no longer write our uid_map/gid_map/setgroups. Nothing else runs in
   * our new namespaces before MAPPED. */
  prctl(PR_SET_DUMPABLE, 0);
  oci_reset_signals_for_exec();
  /* The network namespace is ours to make, not clone's: creating one is
   * the slow part of clone, and here it overlaps the runtime's cgroup
   * work. We are in our user namespace already, which will own it. */
  if (a->unshare_flags && unshare(a->unshare_flags) < 0) {
    oci_error_errno(&err, "create namespaces (flags 0x%x)", a->unshare_flags);
    init_fail(a, &err);
  }

  if (init_setup(a, &hc, &err) < 0)
    init_fail(a, &err);
  /* No args: the stand-in for a config without a process, which start
   * refuses; there is no executable to find. */
  _cleanup_free_ char *exe = p->n_args ? oci_find_executable(p->args[0], p->env, p->n_env) : NULL;
  char **env = oci_process_env_with_home(p);
  prctl(PR_SET_PDEATHSIG, 0);
  bool keep_groups = oci_config_annotation_on(a->cfg, OCI_ANNOTATION_KEEP_ORIGINAL_GROUPS);
  if (oci_process_drop_privileges(p, keep_groups, a->seccomp, &err) < 0 ||
      (p->n_args && oci_check_executable(exe, p->args[0], &err) < 0) ||
      oci_process_send_listener(a->seccomp, a->sync_fd, &err) < 0)
    init_fail(a, &err);
  oci_debug("init: closing the pipe to signal completion (ready, waiting for start)");
  if (oci_sync_send(a->sync_fd, OCI_SYNC_READY, NULL, 0, -1, &err) < 0)
    _exit(1);
  close(a->sync_fd);

  if (wait_for_start(a->fifo_fd) < 0 || p->n_args == 0)
    _exit(1);
  close(a->fifo_fd);
  /* Past pivot_root the bundle is out of sight: startContainer runs in
   * process.cwd, as runc's does. */
  if (oci_hooks_run(&a->cfg->hooks.start_container, "startContainer", NULL, &a->hooks_out,
                    hc.state_json ? hc.state_json : "{}", &err) < 0)
    start_fail(a, &err);
  if (oci_process_before_execve(a->preserve_fds, oci_process_late_filter(a->seccomp), &err) < 0)
    start_fail(a, &err);
  execve(exe, p->args, env);
  int e = errno;
  dprintf(STDERR_FILENO, "ocirun: exec \"%s\": %s\n", exe, strerror(e));
  if (a->result_fd >= 0)
    dprintf(a->result_fd, "exec \"%s\": %s", exe, strerror(e));
  _exit(127);
}

pid_t oci_clone_flags(int flags) {
  return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, 0UL);
}

/* Namespaces joined by path, or a new time namespace: an intermediate
 * process joins them or makes it (both only apply to children: the pid
 * namespace, and the time namespace unshare makes), clones the init and
 * reports its pid. The runtime itself stays where it is, and so do the
 * hooks and helpers it runs. */
static __attribute__((noreturn)) void intermediate_main(struct oci_init_args *a, int flags) {
  oci_error err = {0};
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (oci_ns_join_fds(a->ns_fds, "namespaces[].path", &err) < 0 ||
      oci_ns_prepare_time(a->cfg, &err) < 0)
    init_fail(a, &err);
  a->parent_exits = true;
  pid_t pid = oci_clone_flags(flags);
  if (pid < 0) {
    oci_error_errno(&err, "clone the container's init");
    init_fail(a, &err);
  }
  if (pid == 0)
    init_main(a);
  if (oci_sync_send(a->sync_fd, OCI_SYNC_PID, &pid, sizeof(pid), -1, &err) < 0) {
    kill(pid, SIGKILL);
    _exit(1);
  }
  _exit(0);
}

static int spawn_through_intermediate(struct oci_init_args *a, int parent_sock, int flags,
                                      pid_t *pid, oci_error *err) {
  pid_t mid = oci_clone_flags(0);
  if (mid < 0)
    return oci_error_errno(err, "fork");
  if (mid == 0) {
    close(parent_sock);
    intermediate_main(a, flags);
  }
  struct oci_sync_msg m;
  int r = oci_sync_expect(parent_sock, OCI_SYNC_PID, &m, err);
  int status;
  waitpid(mid, &status, 0);
  if (r < 0)
    return -1;
  r = oci_sync_decode_pid(&m, pid, err);
  oci_sync_msg_clear(&m);
  return r;
}

static int spawn_init(struct oci_init_args *a, int parent_sock, pid_t *pid, oci_error *err) {
  /* The cgroup namespace is made by the init itself, once it is in its
   * cgroup (see await_cgroup). */
  int flags = oci_ns_new_flags(a->cfg) & ~CLONE_NEWCGROUP;
  /* And the network namespace by the init, after MAPPED (see init_main),
   * unless the runtime moves interfaces into it: then it must exist when
   * the runtime gets the init's pid. */
  if (!oci_netdev_wanted(a->cfg)) {
    a->unshare_flags = flags & CLONE_NEWNET;
    flags &= ~CLONE_NEWNET;
  }
  bool intermediate = oci_ns_wants_new_time(a->cfg);
  for (int t = 0; t < OCI_NS_COUNT; t++)
    intermediate |= a->ns_fds[t] >= 0;
  oci_debug("nsexec container setup: clone the init (flags 0x%x%s)", (unsigned)flags,
            intermediate ? ", through an intermediate process" : "");
  if (!intermediate) {
    pid_t child = oci_clone_flags(flags);
    if (child < 0)
      return oci_error_errno(err, "clone the container's init (flags 0x%x)", flags);
    if (child == 0) {
      close(parent_sock);
      init_main(a);
    }
    *pid = child;
    return 0;
  }
  return spawn_through_intermediate(a, parent_sock, flags, pid, err);
}

int oci_init_spawn(struct oci_init_args *a, int parent_sock, pid_t *pid, oci_error *err) {
  /* Bind sources are cloned here, on the host, while a user namespace's
   * root could still be refused them; the init attaches the clones. Only
   * for a runtime that is root on the host: rootless, the trees of its own
   * mount namespace cloned this way made the cgroup2 mount of a container
   * under the user's systemd fail with EBUSY, and a rootless runtime can
   * reach no more than its container's root anyway. */
  bool host_root = geteuid() == 0 && oci_in_initial_userns();
  a->device_nodes = NULL;
  if (a->userns && host_root && oci_devices_make_nodes(a->cfg, &a->device_nodes, err) < 0)
    return -1;
  a->bind_trees = a->userns && host_root ? oci_rootfs_open_bind_trees(a->cfg, a->bundle) : NULL;
  int ret = spawn_init(a, parent_sock, pid, err);
  oci_rootfs_close_bind_trees(a->bind_trees, a->cfg->n_mounts);
  a->bind_trees = NULL;
  oci_devices_close_nodes(a->device_nodes, a->cfg->linux_ ? a->cfg->linux_->n_devices : 0);
  a->device_nodes = NULL;
  return ret;
}
