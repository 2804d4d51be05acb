/* ocirun — OCI hooks (config.md "POSIX-platform Hooks").
 *
 * Each hook is fork+exec'd with its own argv and env (a hook without an
 * "env" key gets the runtime's environment, as runc and crun give it: hooks
 * such as GPU ones find their tools through the caller's PATH; "env": []
 * is an empty one), the state JSON on stdin through a pipe, and the
 * caller's stdout/stderr (or the files of the run.oci.hooks.stdout/stderr
 * annotations). The parent feeds stdin and waits for the hook in
 * one poll() loop on a pidfd, so a hook that never reads its stdin, never
 * exits or both is still killed at its timeout. The runtime's hooks run in
 * the bundle, as runc's do (its create chdirs there): hooks written for it
 * use paths relative to the bundle. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ocirun/hooks.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

/* Tests set this to exercise the wait path used on kernels without
 * pidfd_open (< 5.3). Not part of the public API. */
extern bool oci_hooks_test_no_pidfd;
bool oci_hooks_test_no_pidfd = false;

struct hook_child {
  pid_t pid;
  int stdin_w;  /* our end of the hook's stdin pipe, O_NONBLOCK */
  int exec_r;   /* CLOEXEC pipe: EOF once execve succeeded, else a child_failure */
};

/* What the child reports when it could not become the hook. */
struct child_failure {
  int chdir_failed; /* 1: chdir to the working directory, 0: execve */
  int errnum;
};

/* How the wait ended: exited/killed (status valid) or timed out. */
struct hook_result {
  bool timed_out;
  int status;
};

/* ---- child side (after fork: no allocation, except the /proc/self/fd
 * walk of oci_close_fds_from on kernels without close_range) ---- */

/* fd, moved above the standard fds when it is one of them (CLOEXEC), so
 * that putting another fd in place cannot overwrite it. */
static int above_stdio(int fd) {
  return fd >= 0 && fd <= STDERR_FILENO ? fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1) : fd;
}

/* dup2 clears CLOEXEC on the copy, so each survives execve. */
static int place_stdio(int stdin_r, const struct oci_hooks_output *output) {
  int out = output ? above_stdio(output->out) : -1;
  int errfd = output ? above_stdio(output->err) : -1;
  if (dup2(stdin_r, STDIN_FILENO) < 0)
    return -1;
  if (out >= 0 && dup2(out, STDOUT_FILENO) < 0)
    return -1;
  return errfd >= 0 && dup2(errfd, STDERR_FILENO) < 0 ? -1 : 0;
}

static __attribute__((noreturn)) void child_exec_hook(const struct oci_hook *hook,
                                                      char **argv, char **envp,
                                                      const char *cwd,
                                                      const struct oci_hooks_output *output,
                                                      int stdin_r, int exec_w) {
  struct child_failure f = {.chdir_failed = 0, .errnum = 0};
  /* A hook starts with default dispositions and an empty mask, like any
   * freshly exec'd program, whatever the runtime's caller left ignored. */
  oci_reset_signals_for_exec();
  /* The runtime may run with stdio closed, so the pipes and the output
   * files can be fds 0-2: each is moved out of the way first. */
  exec_w = above_stdio(exec_w);
  if (place_stdio(above_stdio(stdin_r), output) < 0)
    goto fail;
  /* No runtime fd (state dir, sockets, log) may leak into the hook: mark
   * them all CLOEXEC so execve drops them and exec_w reports the outcome. */
  if (oci_close_fds_from(3, true, NULL) < 0)
    goto fail;
  if (cwd != NULL && chdir(cwd) < 0) {
    f.chdir_failed = 1;
    goto fail;
  }
  execve(hook->path, argv, envp);
fail:
  f.errnum = errno;
  (void)!write(exec_w, &f, sizeof(f));
  _exit(127);
}

/* ---- parent side ---- */

static char **build_argv(const struct oci_hook *hook) {
  size_t n = hook->n_args > 0 ? hook->n_args : 1;
  char **argv = oci_xmalloc0((n + 1) * sizeof(char *));
  if (hook->n_args == 0)
    argv[0] = hook->path;
  for (size_t i = 0; i < hook->n_args; i++)
    argv[i] = hook->args[i];
  return argv;
}

/* The parser gives a present "env" a non-NULL array, even when empty. */
static char **build_envp(const struct oci_hook *hook) {
  char *const *src = hook->env != NULL ? hook->env : environ;
  size_t n = 0;
  if (hook->env != NULL)
    n = hook->n_env;
  else
    while (src[n] != NULL)
      n++;
  char **envp = oci_xmalloc0((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    envp[i] = src[i];
  return envp;
}

static int spawn_hook(const struct oci_hook *hook, const char *cwd,
                      const struct oci_hooks_output *output, struct hook_child *child,
                      oci_error *err) {
  int in[2], ex[2];
  /* argv/envp are built before fork: the child must not allocate. */
  _cleanup_free_ char **argv = build_argv(hook);
  _cleanup_free_ char **envp = build_envp(hook);
  if (pipe2(in, O_CLOEXEC) < 0)
    return oci_error_errno(err, "pipe");
  if (pipe2(ex, O_CLOEXEC) < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    return oci_error_set(err, e, "pipe");
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    close(ex[0]);
    close(ex[1]);
    return oci_error_set(err, e, "fork");
  }
  if (pid == 0)
    child_exec_hook(hook, argv, envp, cwd, output, in[0], ex[1]);
  close(in[0]);
  close(ex[1]);
  /* Non-blocking so a hook that never reads cannot stall us past its
   * timeout: the write is driven by poll() with the exit wait. */
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  child->pid = pid;
  child->stdin_w = in[1];
  child->exec_r = ex[0];
  return 0;
}

/* Milliseconds poll() may wait before the deadline; -1 = no deadline. */
static int poll_timeout(int64_t deadline) {
  if (deadline < 0)
    return -1;
  int64_t left = deadline - oci_monotonic_ms();
  if (left <= 0)
    return 0;
  return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Write what the pipe takes now. Returns false when the hook will not get
 * more (it closed stdin or exited): hooks need not read the state. SIGPIPE
 * is blocked around the write and a SIGPIPE we caused is consumed, so the
 * caller's disposition never sees it. */
static bool feed_stdin(int fd, const char **data, size_t *left) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t n;
  do
    n = write(fd, *data, *left);
  while (n < 0 && errno == EINTR);
  int e = errno;
  if (n < 0 && e == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (n < 0)
    return e == EAGAIN;
  *data += n;
  *left -= (size_t)n;
  return *left > 0;
}

/* Exit notification: a pidfd when the kernel has one, else a signalfd for
 * SIGCHLD (blocked for the duration; see restore_sigchld). */
struct exit_watch {
  int fd;
  bool is_pidfd;
  bool got_sigchld;
  sigset_t old_mask;
};

static int watch_open(struct exit_watch *w, pid_t pid, oci_error *err) {
  w->got_sigchld = false;
  if (!oci_hooks_test_no_pidfd) {
    w->fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (w->fd >= 0) {
      w->is_pidfd = true;
      return 0;
    }
    /* Our unreaped child cannot be gone, unless the kernel reaped it
     * because SIGCHLD is ignored: the same failure waitpid reports. */
    if (errno == ESRCH)
      return oci_error_set(err, ECHILD, "wait");
    if (errno != ENOSYS)
      return oci_error_errno(err, "pidfd_open %d", (int)pid);
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, &w->old_mask);
  w->is_pidfd = false;
  w->fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (w->fd < 0) {
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
    return oci_error_set(err, e, "signalfd");
  }
  return 0;
}

static void watch_close(struct exit_watch *w) {
  close(w->fd);
  if (w->is_pidfd)
    return;
  /* SIGCHLD does not queue: if we consumed one that also reported another
   * child of the caller (a container's init), raise it again so the
   * caller's own handler or signalfd still learns about it. */
  if (w->got_sigchld)
    raise(SIGCHLD);
  pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
}

/* Has the hook exited? 1 and *status when it has (reaped), 0 when not yet,
 * -1 when it cannot be waited for (e.g. the caller set SIGCHLD to SIG_IGN
 * and the kernel reaped it): stop rather than poll a ready fd forever. */
static int watch_reap(struct exit_watch *w, pid_t pid, int *status) {
  if (!w->is_pidfd) {
    struct signalfd_siginfo si;
    while (read(w->fd, &si, sizeof(si)) == sizeof(si))
      w->got_sigchld = true;
  }
  pid_t r;
  do
    r = waitpid(pid, status, w->is_pidfd ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -1;
  return r == pid;
}

static void kill_and_reap(pid_t pid) {
  int status;
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
}

static int wait_hook(struct hook_child *child, const char *state_json,
                     int64_t deadline, struct hook_result *res, oci_error *err) {
  struct exit_watch w;
  if (watch_open(&w, child->pid, err) < 0) {
    kill_and_reap(child->pid);
    return -1;
  }
  const char *data = state_json ? state_json : "";
  size_t left = strlen(data);
  int stdin_w = child->stdin_w;
  child->stdin_w = -1;
  if (left == 0) {
    close(stdin_w);
    stdin_w = -1;
  }
  /* With a signalfd the hook may have exited before SIGCHLD was blocked. */
  int exited = w.is_pidfd ? 0 : watch_reap(&w, child->pid, &res->status);
  int ret = 0;
  while (exited == 0 && !res->timed_out && ret == 0) {
    struct pollfd fds[2] = {{.fd = w.fd, .events = POLLIN},
                            {.fd = stdin_w, .events = POLLOUT}};
    int n = poll(fds, stdin_w >= 0 ? 2 : 1, poll_timeout(deadline));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ret = oci_error_errno(err, "poll");
      kill_and_reap(child->pid);
    } else if (n == 0) {
      res->timed_out = true;
      kill_and_reap(child->pid);
    } else {
      if (stdin_w >= 0 && fds[1].revents != 0 && !feed_stdin(stdin_w, &data, &left)) {
        close(stdin_w);
        stdin_w = -1;
      }
      if (fds[0].revents & POLLIN)
        exited = watch_reap(&w, child->pid, &res->status);
    }
  }
  if (exited < 0)
    ret = oci_error_errno(err, "wait");
  if (stdin_w >= 0)
    close(stdin_w);
  watch_close(&w);
  return ret;
}

/* Why the child did not become the hook; errnum 0 when it did. */
static struct child_failure read_child_failure(int exec_r) {
  struct child_failure f = {.chdir_failed = 0, .errnum = 0};
  if (oci_read_all(exec_r, &f, sizeof(f)) != (ssize_t)sizeof(f))
    f.errnum = 0;
  return f;
}

/* *exit_code: the hook's status when it exited non-zero, else 0. */
static int run_and_judge(const struct oci_hook *hook, const char *stage, size_t idx,
                         const char *cwd, const struct oci_hooks_output *output,
                         const char *state_json, int *exit_code, oci_error *err) {
  struct hook_child child = {.pid = -1, .stdin_w = -1, .exec_r = -1};
  struct hook_result res = {.timed_out = false, .status = 0};
  int64_t timeout_s = hook->timeout.set && hook->timeout.v > 0 ? hook->timeout.v : 0;
  int64_t deadline = timeout_s > 0 ? oci_monotonic_ms() + timeout_s * 1000 : -1;

  if (hook->path == NULL || hook->path[0] != '/')
    return oci_error_set(err, 0, "%s hook #%zu \"%s\": path must be absolute",
                         stage, idx, hook->path ? hook->path : "");
  if (spawn_hook(hook, cwd, output, &child, err) < 0)
    return oci_error_wrap(err, "%s hook #%zu \"%s\"", stage, idx, hook->path);
  int ret = wait_hook(&child, state_json, deadline, &res, err);
  _cleanup_close_ int exec_r = child.exec_r;
  if (ret < 0)
    return oci_error_wrap(err, "%s hook #%zu \"%s\"", stage, idx, hook->path);
  if (res.timed_out) {
    oci_error_set(err, 0, "%s hook #%zu \"%s\": timed out after %lld s", stage, idx,
                  hook->path, (long long)timeout_s);
    if (err != NULL)
      err->errnum = ETIMEDOUT;
    return -1;
  }
  struct child_failure f = read_child_failure(exec_r);
  if (f.errnum != 0 && f.chdir_failed)
    return oci_error_set(err, f.errnum, "%s hook #%zu \"%s\": chdir to \"%s\"", stage, idx,
                         hook->path, cwd);
  if (f.errnum != 0)
    return oci_error_set(err, f.errnum, "%s hook #%zu \"%s\": exec", stage, idx, hook->path);
  if (WIFSIGNALED(res.status)) {
    const char *name = sigabbrev_np(WTERMSIG(res.status));
    const char *what = sigdescr_np(WTERMSIG(res.status));
    /* "(bad system call)": Go's lower-case wording, which runc prints. */
    char descr[64];
    snprintf(descr, sizeof(descr), "%s", what ? what : "unknown signal");
    descr[0] = (char)tolower((unsigned char)descr[0]);
    return oci_error_set(err, 0, "%s hook #%zu \"%s\": killed by signal SIG%s (%s)", stage,
                         idx, hook->path, name ? name : "?", descr);
  }
  if (WIFEXITED(res.status) && WEXITSTATUS(res.status) != 0) {
    *exit_code = WEXITSTATUS(res.status);
    return oci_error_set(err, 0, "%s hook #%zu \"%s\": exited with status %d", stage,
                         idx, hook->path, *exit_code);
  }
  return 0;
}

/* Every failure starts with runc's "error running hook", which engines'
 * and runc's own tests match. */
static int run_one(const struct oci_hook *hook, const char *stage, size_t idx,
                   const char *cwd, const struct oci_hooks_output *output,
                   const char *state_json, int *exit_code, oci_error *err) {
  if (run_and_judge(hook, stage, idx, cwd, output, state_json, exit_code, err) < 0)
    return oci_error_wrap(err, "error running hook");
  return 0;
}

/* A hook that exited non-zero is reported in crun's words ("poststop hook
 * failed with exit code 1"), which its tests and users grep for. */
static void warn_hook_failed(const struct oci_hook *hook, const char *stage, size_t idx,
                             const char *id, int exit_code, const oci_error *e) {
  if (exit_code != 0)
    oci_warn("container \"%s\": error running hook: %s hook failed with exit code %d "
             "(hook #%zu \"%s\")", id, stage, exit_code, idx, hook->path);
  else
    oci_warn("container \"%s\": %s", id, e->msg);
}

size_t oci_hooks_run_all(const struct oci_hook_list *hooks, const char *stage, const char *id,
                         const char *cwd, const struct oci_hooks_output *output,
                         const char *state_json) {
  size_t failed = 0;
  for (size_t i = 0; hooks && i < hooks->n; i++) {
    oci_error e;
    int exit_code = 0;
    oci_debug("running %s hook #%zu \"%s\"", stage, i, hooks->items[i].path);
    if (run_one(&hooks->items[i], stage, i, cwd, output, state_json, &exit_code, &e) < 0) {
      warn_hook_failed(&hooks->items[i], stage, i, id, exit_code, &e);
      failed++;
    }
  }
  return failed;
}

int oci_hooks_run(const struct oci_hook_list *hooks, const char *stage, const char *cwd,
                  const struct oci_hooks_output *output, const char *state_json,
                  oci_error *err) {
  if (hooks == NULL)
    return 0;
  for (size_t i = 0; i < hooks->n; i++) {
    oci_debug("running %s hook #%zu \"%s\"", stage, i, hooks->items[i].path);
    int exit_code = 0;
    if (run_one(&hooks->items[i], stage, i, cwd, output, state_json, &exit_code, err) < 0)
      return -1;
  }
  return 0;
}

/* One annotation's file; -1 when the annotation is not there. Mode 0600:
 * hooks' output may say things about the host. */
static int open_output(const struct oci_config *cfg, const char *key, int *fd, oci_error *err) {
  const char *path = oci_config_annotation(cfg, key);
  *fd = -1;
  if (path == NULL)
    return 0;
  *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (*fd < 0)
    return oci_error_errno(err, "%s: open \"%s\"", key, path);
  return 0;
}

int oci_hooks_output_open(const struct oci_config *cfg, struct oci_hooks_output *o,
                          oci_error *err) {
  *o = OCI_HOOKS_OUTPUT_NONE;
  if (open_output(cfg, OCI_ANNOTATION_HOOKS_STDOUT, &o->out, err) < 0 ||
      open_output(cfg, OCI_ANNOTATION_HOOKS_STDERR, &o->err, err) < 0) {
    oci_hooks_output_close(o);
    return -1;
  }
  return 0;
}

void oci_hooks_output_close(struct oci_hooks_output *o) {
  if (o->out >= 0)
    close(o->out);
  if (o->err >= 0)
    close(o->err);
  *o = OCI_HOOKS_OUTPUT_NONE;
}
