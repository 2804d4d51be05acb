/* seccomp-agent — a minimal seccomp agent for the integration tests.
 *
 *   seccomp-agent SOCKET OUT ANSWER
 *
 * Listens on the unix stream socket SOCKET for runtime connections (the
 * linux.seccomp.listenerPath protocol: one per container process with a
 * filter of its own, the init's and each exec'd one's), appends the
 * container process state JSON of each to OUT, then answers every
 * notification on the received seccomp fds and appends the syscall name to
 * OUT.syscalls, one a line. ANSWER is an errno number (the call fails with
 * it) or "continue" (the kernel runs the call as if not notified). Exits 0
 * when every fd it received has gone away (no process uses those filters
 * any more), 1 on any error, 2 after 60 s without anything. */
#include <errno.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what) {
  fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
  return 1;
}

static int listen_on(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
    return -1;
  return fd;
}

/* Read one connection: the JSON (to EOF) and the fd in SCM_RIGHTS. */
static int receive_state(int lsock, const char *out, int *seccomp_fd) {
  int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -1;
  static char buf[65536];
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof(control.buf)};
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0)
    return -1;
  *seccomp_fd = -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy(seccomp_fd, CMSG_DATA(c), sizeof(int));
  size_t total = (size_t)n;
  while (total < sizeof(buf) - 1 && (n = read(conn, buf + total, sizeof(buf) - 1 - total)) > 0)
    total += (size_t)n;
  close(conn);
  FILE *f = fopen(out, "ae");
  if (f == NULL)
    return -1;
  fwrite(buf, 1, total, f);
  fclose(f);
  if (*seccomp_fd < 0) {
    errno = EBADMSG;
    return -1;
  }
  return 0;
}

/* err_no < 0: let the call go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE). */
static int answer(int fd, int err_no, FILE *log) {
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  if (seccomp_notify_alloc(&req, &resp) < 0)
    return -1;
  int ret = seccomp_notify_receive(fd, req);
  if (ret == 0) {
    char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
    fprintf(log, "%s\n", name ? name : "?");
    fflush(log);
    free(name);
    resp->id = req->id;
    resp->error = err_no < 0 ? 0 : -err_no;
    resp->val = 0;
    resp->flags = err_no < 0 ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
    ret = seccomp_notify_respond(fd, resp);
  }
  seccomp_notify_free(req, resp);
  /* ENOENT: the caller died while we looked; not our error. */
  return ret == 0 || ret == -ENOENT ? 0 : -1;
}

#define MAX_FDS 16

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: seccomp-agent SOCKET OUT ERRNO|continue\n");
    return 1;
  }
  int err_no = strcmp(argv[3], "continue") == 0 ? -1 : atoi(argv[3]);
  int lsock = listen_on(argv[1]);
  if (lsock < 0)
    return die(argv[1]);
  char logpath[4096];
  snprintf(logpath, sizeof(logpath), "%s.syscalls", argv[2]);
  FILE *log = fopen(logpath, "we");
  if (log == NULL)
    return die(logpath);
  /* p[0]: the listening socket; then one entry per seccomp fd received,
   * its fd set to -1 (ignored by poll) once it hung up. */
  struct pollfd p[MAX_FDS + 1] = {{.fd = lsock, .events = POLLIN}};
  size_t n = 0, open_fds = 0;
  for (;;) {
    int r = poll(p, n + 1, 60000);
    if (r == 0)
      return 2;
    if (r < 0)
      return die("poll");
    for (size_t i = 1; i <= n; i++) {
      if (p[i].revents & POLLIN) {
        if (answer(p[i].fd, err_no, log) < 0)
          return die("answer a notification");
      } else if (p[i].revents & (POLLHUP | POLLERR)) {
        close(p[i].fd);
        p[i].fd = -1;  /* no process uses that filter any more */
        if (--open_fds == 0)
          return fclose(log) == 0 ? 0 : 1;
      }
    }
    if ((p[0].revents & POLLIN) && n < MAX_FDS) {
      int fd;
      if (receive_state(lsock, argv[2], &fd) < 0)
        return die("receive the container process state");
      p[++n] = (struct pollfd){.fd = fd, .events = POLLIN};
      open_fds++;
    }
  }
}
