/* ocirun — terminals: the pty made inside the container, the console socket
 * that hands its master to the caller (runc's protocol, used by containerd
 * and conmon; the fd passing itself is in socket.c), and the relay for a
 * foreground `run`/`exec` with a tty. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "ocirun/terminal.h"
#include "ocirun/utils.h"
#include "rootfs-internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* ---- console socket ---- */

int oci_console_socket_connect(const char *path, oci_error *err) {
  return oci_unix_connect(path, "console socket", err);
}

/* ---- the pty inside the container ---- */

/* The slave of master, opened without a path lookup when the kernel can
 * (TIOCGPTPEER, 4.13+): a path in the container's /dev could be replaced. */
static int open_slave(int master, oci_error *err) {
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave >= 0)
    return slave;
  if (errno != EINVAL && errno != ENOTTY)
    return oci_error_errno(err, "terminal: TIOCGPTPEER");
  char name[128];
  if ((errno = ptsname_r(master, name, sizeof(name))) != 0)
    return oci_error_errno(err, "terminal: ptsname");
  slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return oci_error_errno(err, "terminal: open \"%s\"", name);
  return slave;
}

static int apply_console_size(int slave, const struct oci_process *p, oci_error *err) {
  if (p == NULL || (!p->console_height.set && !p->console_width.set))
    return 0;
  struct winsize ws = {
      .ws_row = p->console_height.set ? (unsigned short)p->console_height.v : 0,
      .ws_col = p->console_width.set ? (unsigned short)p->console_width.v : 0,
  };
  if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
    return oci_error_errno(err, "terminal: set consoleSize %ux%u", ws.ws_col, ws.ws_row);
  return 0;
}

/* Give the slave to the process user, keeping its group (tty from the devpts
 * mount options), as runc does for stdio. EINVAL/EPERM mean the ids are not
 * mapped in our user namespace: then leave it, the fds are open anyway. */
static int chown_slave(int slave, const struct oci_process *p, oci_error *err) {
  struct stat st;
  if (p == NULL)
    return 0;
  if (fstat(slave, &st) < 0)
    return oci_error_errno(err, "terminal: fstat slave");
  if (st.st_uid == p->user.uid)
    return 0;
  if (fchown(slave, p->user.uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
    return oci_error_errno(err, "terminal: chown slave to uid %u", p->user.uid);
  return 0;
}

static int make_controlling_stdio(int slave, oci_error *err) {
  /* A new session is needed to acquire a controlling terminal; the init is
   * normally not a session leader yet (it inherits the runtime's session). */
  if (getsid(0) != getpid() && setsid() < 0)
    return oci_error_errno(err, "terminal: setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return oci_error_errno(err, "terminal: TIOCSCTTY");
  for (int fd = 0; fd <= 2; fd++) {
    if (dup2(slave, fd) < 0)
      return oci_error_errno(err, "terminal: dup2 to fd %d", fd);
  }
  return 0;
}

int oci_terminal_setup(const struct oci_process *p, oci_error *err) {
  _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return oci_error_errno(err, "terminal: open \"/dev/ptmx\"");
  if (unlockpt(master) < 0)
    return oci_error_errno(err, "terminal: unlockpt");
  _cleanup_close_ int slave = open_slave(master, err);
  if (slave < 0)
    return -1;
  if (apply_console_size(slave, p, err) < 0 || chown_slave(slave, p, err) < 0 ||
      make_controlling_stdio(slave, err) < 0)
    return -1;
  if (slave <= 2)
    slave = -1; /* it is one of our stdio fds now: keep it open */
  return OCI_STEAL_FD(master);
}

/* /dev/console as an O_PATH fd: an existing entry is never opened as the
 * device (with the host's /dev bound in it would be the host's console),
 * a symlink is refused, a missing one is made as a mount point. */
static int open_console_target(oci_error *err) {
  _cleanup_close_ int dev = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0)
    return oci_error_errno(err, "terminal: open \"/dev\"");
  int fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    int made = openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (made < 0)
      return oci_error_errno(err, "terminal: create \"/dev/console\"");
    close(made);
    fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0)
    return oci_error_errno(err, "terminal: open \"/dev/console\"");
  struct stat st;
  if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
    close(fd);
    return oci_error_setx(err, EINVAL, "terminal: \"/dev/console\" is a symlink or a directory");
  }
  return fd;
}

int oci_terminal_bind_console(int slave, oci_error *err) {
  _cleanup_close_ int target = open_console_target(err);
  if (target < 0)
    return -1;
  if (oci_mnt_bind_fd(slave, target, false, err) < 0)
    return oci_error_wrap(err, "terminal: bind the pty onto \"/dev/console\"");
  return 0;
}

/* ---- relay for a foreground run/exec ---- */

struct relay {
  int master;
  bool master_open;     /* false once every slave fd is closed */
  int sigfd;            /* SIGWINCH signalfd, -1 when stdio is no tty */
  int tty;              /* our terminal (stdin or stdout), -1 when none */
  bool stdin_open;
  bool stdout_ok;       /* false after a write error: drain, don't print */
  char in[4096];        /* stdin bytes not yet written to the master */
  size_t in_len, in_off;
  const struct oci_relay_watch *watches;
  size_t n_watches;
};

void oci_terminal_inherit_size(int master) {
  struct winsize ws;
  int tty = isatty(STDIN_FILENO) ? STDIN_FILENO : isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1;
  if (tty >= 0 && ioctl(tty, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

static void copy_winsize(const struct relay *r) {
  struct winsize ws;
  if (r->tty >= 0 && ioctl(r->tty, TIOCGWINSZ, &ws) == 0)
    ioctl(r->master, TIOCSWINSZ, &ws);
}

/* Blocking-style write to an fd that may be non-blocking (shared file
 * description): wait for POLLOUT on EAGAIN rather than spin. */
static int write_out(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      poll(&pfd, 1, -1);
      continue;
    }
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Returns 1 when the container side hung up, 0 to go on (or nothing to read
 * now), -1 on error. */
static int relay_master_out(struct relay *r, oci_error *err) {
  char buf[16384];
  ssize_t n = read(r->master, buf, sizeof(buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n == 0 || (n < 0 && errno == EIO))
    return 1; /* every slave fd is closed */
  if (n < 0)
    return oci_error_errno(err, "terminal relay: read from the container");
  if (r->stdout_ok && write_out(STDOUT_FILENO, buf, (size_t)n) < 0)
    r->stdout_ok = false; /* keep draining so the container never blocks */
  return 0;
}

/* Copy what the container wrote and the master holds now (the master is
 * non-blocking; a read also flushes bytes the kernel still queues between
 * slave and master). Bounded: a process left behind that writes without end
 * must not keep us here. */
static void relay_drain(struct relay *r) {
  char buf[16384];
  for (int i = 0; r->master_open && i < 256; i++) {
    ssize_t n = read(r->master, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    if (r->stdout_ok && write_out(STDOUT_FILENO, buf, (size_t)n) < 0)
      r->stdout_ok = false;
  }
}

static void relay_stdin_in(struct relay *r) {
  ssize_t n = read(STDIN_FILENO, r->in, sizeof(r->in));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    r->stdin_open = false; /* EOF or error: keep relaying the output */
    return;
  }
  r->in_len = (size_t)n;
  r->in_off = 0;
}

static int relay_master_in(struct relay *r, oci_error *err) {
  ssize_t n = write(r->master, r->in + r->in_off, r->in_len - r->in_off);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n < 0 && errno == EIO)
    return 1;
  if (n < 0)
    return oci_error_errno(err, "terminal relay: write to the container");
  r->in_off += (size_t)n;
  if (r->in_off == r->in_len)
    r->in_len = r->in_off = 0;
  return 0;
}

enum { P_MASTER, P_STDIN, P_SIG, P_WATCH };

/* The master side: 1 when it hung up or failed (the relay of data is over),
 * 0 to go on. */
static int relay_master_events(struct relay *r, short revents, oci_error *err) {
  int ret = 0;
  if (revents & (POLLIN | POLLHUP | POLLERR))
    ret = relay_master_out(r, err);
  if (ret == 0 && (revents & POLLOUT))
    ret = relay_master_in(r, err);
  return ret;
}

/* Each watch that polled readable: its ready() result (1 = stop). */
static int relay_watch_events(struct relay *r, const struct pollfd *fds, oci_error *err) {
  for (size_t i = 0; i < r->n_watches; i++) {
    if (fds[i].revents == 0)
      continue;
    int w = r->watches[i].ready(r->watches[i].data, err);
    if (w != 0)
      return w;
  }
  return 0;
}

static int relay_loop(struct relay *r, oci_error *err) {
  size_t nfds = P_WATCH + r->n_watches;
  _cleanup_free_ struct pollfd *fds = oci_xmalloc0(nfds * sizeof(*fds));
  for (;;) {
    bool master_out = r->master_open && r->in_len > 0;
    fds[P_MASTER] = (struct pollfd){.fd = r->master_open ? r->master : -1,
                                    .events = POLLIN | (master_out ? POLLOUT : 0)};
    fds[P_STDIN] = (struct pollfd){
        .fd = r->stdin_open && r->in_len == 0 && r->master_open ? STDIN_FILENO : -1,
        .events = POLLIN};
    fds[P_SIG] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
    for (size_t i = 0; i < r->n_watches; i++)
      fds[P_WATCH + i] = (struct pollfd){.fd = r->watches[i].fd, .events = POLLIN};
    if (poll(fds, nfds, -1) < 0) {
      if (errno == EINTR)
        continue;
      return oci_error_errno(err, "terminal relay: poll");
    }
    /* Output first, so what the container wrote before it exited is out
     * before a watch ends the relay. */
    int ret = relay_master_events(r, fds[P_MASTER].revents, err);
    if (ret < 0)
      return -1;
    if (ret > 0) {
      r->master_open = false;
      if (r->n_watches == 0)
        return 0; /* plain relay: done when the container side hangs up */
    }
    if (fds[P_STDIN].revents)
      relay_stdin_in(r);
    if (fds[P_SIG].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
        ;
      copy_winsize(r);
    }
    ret = relay_watch_events(r, fds + P_WATCH, err);
    if (ret != 0) {
      relay_drain(r);
      return ret < 0 ? -1 : 0;
    }
  }
}

int oci_terminal_relay_watching(int master, const struct oci_relay_watch *watches,
                                size_t n_watches, oci_error *err) {
  struct relay r = {.master = master, .master_open = true, .sigfd = -1, .tty = -1,
                    .stdin_open = true, .stdout_ok = true, .watches = watches,
                    .n_watches = n_watches};
  struct termios saved;
  bool raw = false;
  sigset_t winch, old_mask;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);

  if (isatty(STDIN_FILENO))
    r.tty = STDIN_FILENO;
  else if (isatty(STDOUT_FILENO))
    r.tty = STDOUT_FILENO;
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    struct termios t = saved;
    cfmakeraw(&t);
    raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  if (r.tty >= 0) {
    pthread_sigmask(SIG_BLOCK, &winch, &old_mask);
    r.sigfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
    copy_winsize(&r);
  }
  /* Non-blocking master: a full pty buffer must never stop us draining the
   * container's output (each side could otherwise wait for the other). */
  int flags = fcntl(master, F_GETFL);
  if (flags >= 0)
    fcntl(master, F_SETFL, flags | O_NONBLOCK);

  int ret = relay_loop(&r, err);

  if (flags >= 0)
    fcntl(master, F_SETFL, flags);
  if (r.tty >= 0) {
    if (r.sigfd >= 0)
      close(r.sigfd);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  }
  if (raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  return ret;
}

void oci_terminal_clear_onlcr(int master) {
  struct termios t;
  if (tcgetattr(master, &t) == 0) {
    t.c_oflag &= ~(tcflag_t)ONLCR;
    tcsetattr(master, TCSANOW, &t);
  }
}

void oci_terminal_drain(int master) {
  struct relay r = {.master = master, .master_open = true, .stdout_ok = true};
  int flags = fcntl(master, F_GETFL);
  if (flags >= 0)
    fcntl(master, F_SETFL, flags | O_NONBLOCK);
  relay_drain(&r);
  if (flags >= 0)
    fcntl(master, F_SETFL, flags);
}

int oci_terminal_relay(int master, oci_error *err) {
  return oci_terminal_relay_watching(master, NULL, 0, err);
}
