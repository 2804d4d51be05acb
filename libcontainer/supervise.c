/* ocirun — the foreground wait of `run` and `exec`: the container's process
 * is watched through a pidfd, the signals a user sends us go on to it, the
 * orphans that come to us as subreaper are reaped, and the tty (when there
 * is one) is relayed, all in one loop until the process exits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ocirun/terminal.h"

/* The signals a user sends to a foreground `run`/`exec` that go on to the
 * container's process (as runc forwards them). SIGWINCH only without a
 * terminal: with one, the relay resizes the pty and the kernel tells the
 * container. */
static void forwarded_signals(sigset_t *set, bool tty) {
  static const int fwd[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2,
                            SIGALRM, SIGTERM, SIGCONT, SIGWINCH};
  sigemptyset(set);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(fwd); i++)
    if (!(tty && fwd[i] == SIGWINCH))
      sigaddset(set, fwd[i]);
  for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
    sigaddset(set, s);
  sigaddset(set, SIGCHLD);
}

void oci_block_forwarded_signals(void) {
  sigset_t set;
  forwarded_signals(&set, false);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

struct fg_wait {
  pid_t init;
  int pidfd;        /* -1 on kernels without pidfd_open: SIGCHLD tells */
  int sfd;          /* signalfd of the forwarded signals and SIGCHLD */
  bool exited;
  int status;       /* wait status of init once exited */
};

/* Reap every child that exited (we are a subreaper: orphans of the
 * container come to us); note the init's status. */
static void reap_children(struct fg_wait *w) {
  int status;
  pid_t p;
  while ((p = waitpid(-1, &status, WNOHANG)) > 0)
    if (p == w->init) {
      w->exited = true;
      w->status = status;
    }
}

static void forward_signal(const struct fg_wait *w, int signo) {
  /* Through the pidfd: the pid cannot have been reused under us. */
  if (w->pidfd >= 0 && syscall(SYS_pidfd_send_signal, w->pidfd, signo, NULL, 0) == 0)
    return;
  if (!w->exited)
    kill(w->init, signo);
}

static int on_signals(void *data, oci_error *err) {
  struct fg_wait *w = data;
  struct signalfd_siginfo si;
  ssize_t n;
  while ((n = read(w->sfd, &si, sizeof(si))) == sizeof(si)) {
    if (si.ssi_signo == SIGCHLD)
      reap_children(w);
    else
      forward_signal(w, (int)si.ssi_signo);
  }
  if (n < 0 && errno != EAGAIN && errno != EINTR)
    return oci_error_errno(err, "signalfd: read");
  return w->exited;
}

static int on_init_exit(void *data, oci_error *err) {
  struct fg_wait *w = data;
  reap_children(w);
  if (!w->exited) {
    /* Readable pidfd but no status: someone else reaped it. */
    if (waitpid(w->init, &w->status, WNOHANG) < 0 && errno == ECHILD)
      return oci_error_set(err, ECHILD, "lost the container's process %d", (int)w->init);
  }
  return w->exited;
}

/* One loop for everything a foreground run/exec waits on: the tty relay
 * (when there is one), signals to forward, children to reap, and the exit
 * of the container's process, which ends it. */
static int wait_forwarding(struct fg_wait *w, int tty_master, oci_error *err) {
  struct oci_relay_watch watches[] = {{.fd = w->sfd, .ready = on_signals, .data = w},
                                      {.fd = w->pidfd, .ready = on_init_exit, .data = w}};
  /* It may have exited (and SIGCHLD been consumed) before we got here:
   * what it wrote is still in the master. */
  reap_children(w);
  if (tty_master >= 0 && w->exited)
    oci_terminal_drain(tty_master);
  if (tty_master >= 0 && !w->exited)
    return oci_terminal_relay_watching(tty_master, watches, OCI_ARRAY_SIZE(watches), err);
  while (!w->exited) {
    struct pollfd fds[2] = {{.fd = w->sfd, .events = POLLIN}, {.fd = w->pidfd, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return oci_error_errno(err, "poll");
    }
    for (size_t i = 0; i < 2 && !w->exited; i++)
      if (fds[i].revents && watches[i].ready(w, err) < 0)
        return -1;
  }
  return 0;
}

int oci_wait_foreground(pid_t pid, int tty_master, int *exit_status, oci_error *err) {
  sigset_t set, old;
  forwarded_signals(&set, tty_master >= 0);
  sigprocmask(SIG_BLOCK, &set, &old);
  struct fg_wait w = {.init = pid, .pidfd = (int)syscall(SYS_pidfd_open, pid, 0)};
  w.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  int r;
  if (w.sfd < 0)
    r = oci_error_errno(err, "signalfd");
  else
    r = wait_forwarding(&w, tty_master, err);
  if (r == 0)
    *exit_status = oci_wait_status_to_exit(w.status);
  if (w.sfd >= 0)
    close(w.sfd);
  if (w.pidfd >= 0)
    close(w.pidfd);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}
