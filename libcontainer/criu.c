/* ocirun — CRIU's RPC service, `criu swrk`, driven over a socketpair.
 *
 * The messages are CRIU's own protobuf types (rpc.proto); their encoding
 * is the C code CRIU generates and ships in libcriu (criu/rpc.pb-c.h), so
 * ocirun only decides what to ask and answers CRIU's notifications. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"
#include "ocirun/socket.h"
#include "internal.h"

char *oci_criu_find(const char *configured, oci_error *err) {
  const char *name = configured && *configured ? configured : "criu";
  _cleanup_free_ char *path_env = NULL;
  char *env[1] = {NULL};
  if (getenv("PATH"))
    env[0] = path_env = oci_xasprintf("PATH=%s", getenv("PATH"));
  char *exe = oci_find_executable(name, env, env[0] ? 1 : 0);
  if (exe && access(exe, X_OK) == 0)
    return exe;
  free(exe);
  oci_error_setx(err, ENOENT,
                 "checkpoint/restore needs CRIU: \"%s\" %s; install it with apt-get install criu",
                 name, strchr(name, '/') ? "is not an executable file" : "not found in $PATH");
  return NULL;
}

/* The child: criu swrk on its end of the socket, with the fds it must
 * inherit and default signals (a foreground restore blocks the ones it
 * forwards). */
static void __attribute__((noreturn)) exec_swrk(const char *binary,
                                                 const struct oci_criu_spawn *sp, int sock) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  fcntl(sock, F_SETFD, 0);
  for (size_t i = 0; sp && i < sp->n_keep_fds; i++)
    fcntl(sp->keep_fds[i], F_SETFD, 0);
  char fd_arg[16];
  snprintf(fd_arg, sizeof(fd_arg), "%d", sock);
  execl(binary, "criu", "swrk", fd_arg, (char *)NULL);
  fprintf(stderr, "ocirun: exec \"%s\": %s\n", binary, strerror(errno));
  _exit(127);
}

int oci_criu_enter_private_root(const char *rootfs, oci_error *err) {
  int host = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (host < 0)
    return oci_error_errno(err, "criu: open our mount namespace");
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
      mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
    oci_error_errno(err, "criu: bind rootfs \"%s\" in a mount namespace of its own", rootfs);
    oci_criu_leave_private_root(host, NULL);
    return -1;
  }
  return host;
}

int oci_criu_leave_private_root(int host_ns, oci_error *err) {
  int r = setns(host_ns, CLONE_NEWNS);
  int saved = errno;
  close(host_ns);
  if (r < 0 && err)
    return oci_error_set(err, saved, "criu: back to the host's mount namespace");
  return r;
}

int oci_criu_start(const char *binary, const struct oci_criu_spawn *sp, struct oci_criu *c,
                   oci_error *err) {
  int sv[2];
  c->pid = -1;
  c->sock = -1;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return oci_error_errno(err, "criu: socketpair");
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return oci_error_errno(err, "criu: fork");
  }
  if (pid == 0)
    exec_swrk(binary, sp, sv[1]);
  close(sv[1]);
  c->pid = pid;
  c->sock = sv[0];
  return 0;
}

void oci_criu_stop(struct oci_criu *c) {
  if (c->sock >= 0)
    close(c->sock);
  c->sock = -1;
  if (c->pid > 0)
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  c->pid = -1;
}

static int send_req(int sock, const CriuReq *req, oci_error *err) {
  size_t len = criu_req__get_packed_size(req);
  _cleanup_free_ uint8_t *buf = oci_xmalloc0(len ? len : 1);
  criu_req__pack(req, buf);
  ssize_t n;
  do
    n = send(sock, buf, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return oci_error_errno(err, "criu: send the request");
  return 0;
}

/* One message (a whole datagram) and the fd attached to it, if any. */
static int recv_resp(int sock, CriuResp **resp, int *fd, oci_error *err) {
  *fd = -1;
  ssize_t size;
  do
    size = recv(sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
  while (size < 0 && errno == EINTR);
  if (size < 0)
    return oci_error_errno(err, "criu: receive");
  if (size == 0)
    return oci_error_setx(err, EPIPE, "criu exited without an answer");
  _cleanup_free_ uint8_t *buf = oci_xmalloc0((size_t)size);
  ssize_t n = oci_recv_with_fd(sock, buf, (size_t)size, 0, fd);
  if (n < 0)
    return oci_error_errno(err, "criu: receive");
  *resp = criu_resp__unpack(NULL, (size_t)n, buf);
  if (*resp == NULL) {
    if (*fd >= 0)
      close(*fd);
    return oci_error_setx(err, EPROTO, "criu: a message that does not decode");
  }
  return 0;
}

/* Run the callback and tell CRIU whether to go on. */
static int answer_notify(struct oci_criu *c, const CriuResp *m, int fd, oci_criu_notify_fn cb,
                         void *data, oci_error *cb_err, bool *failed, oci_error *err) {
  const char *script = m->notify && m->notify->script ? m->notify->script : "";
  pid_t pid = m->notify && m->notify->has_pid ? m->notify->pid : 0;
  int r = 0;
  if (cb && !*failed)
    r = cb(script, pid, fd, data, cb_err);
  else if (fd >= 0)
    close(fd);
  if (r < 0)
    *failed = true;
  CriuReq ack = CRIU_REQ__INIT;
  ack.type = CRIU_REQ_TYPE__NOTIFY;
  ack.has_notify_success = true;
  ack.notify_success = r == 0;
  return send_req(c->sock, &ack, err);
}

int oci_criu_call(struct oci_criu *c, CriuReq *req, oci_criu_notify_fn cb, void *data,
                  CriuResp **resp, oci_error *err) {
  oci_error cb_err = {0};
  bool failed = false;
  *resp = NULL;
  if (send_req(c->sock, req, err) < 0)
    return -1;
  for (;;) {
    CriuResp *m = NULL;
    int fd;
    if (recv_resp(c->sock, &m, &fd, err) < 0)
      return failed ? (*err = cb_err, -1) : -1;
    if (m->type != CRIU_REQ_TYPE__NOTIFY) {
      if (fd >= 0)
        close(fd);
      if (failed) {
        criu_resp__free_unpacked(m, NULL);
        *err = cb_err;
        return -1;
      }
      *resp = m;
      return 0;
    }
    int r = answer_notify(c, m, fd, cb, data, &cb_err, &failed, err);
    criu_resp__free_unpacked(m, NULL);
    if (r < 0)
      return failed ? (*err = cb_err, -1) : -1;
  }
}

char *oci_criu_version(const char *binary, oci_error *err) {
  struct oci_criu c;
  if (oci_criu_start(binary, NULL, &c, err) < 0)
    return NULL;
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__VERSION;
  CriuResp *resp = NULL;
  char *v = NULL;
  if (oci_criu_call(&c, &req, NULL, NULL, &resp, err) == 0) {
    if (resp->success && resp->version)
      v = resp->version->has_sublevel
              ? oci_xasprintf("%d.%d.%d", resp->version->major_number,
                              resp->version->minor_number, resp->version->sublevel)
              : oci_xasprintf("%d.%d", resp->version->major_number,
                              resp->version->minor_number);
    else
      oci_error_setx(err, ENOTSUP, "criu \"%s\" does not tell its version", binary);
    criu_resp__free_unpacked(resp, NULL);
  }
  oci_criu_stop(&c);
  return v;
}

/* The last error CRIU logged before giving up: the earlier ones are
 * often checks it goes on after, the final "... FAILED" says nothing. */
static char *last_log_error(const char *log_path) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  oci_error ignored;
  if (log_path == NULL || oci_read_file(log_path, &text, &len, &ignored) < 0)
    return NULL;
  const char *found = NULL;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    const char *e = strstr(line, "Error (");
    if (e && strstr(e, "FAILED") == NULL)
      found = e;
  }
  return found ? oci_xstrdup(found) : NULL;
}

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
    s[--n] = '\0';
}

int oci_criu_failure(const CriuResp *resp, const char *what, const char *log_path,
                     oci_error *err) {
  int errnum = resp && resp->has_cr_errno ? resp->cr_errno : 0;
  /* CRIU's message when it gives one, else the error of its log. */
  _cleanup_free_ char *cause = resp && resp->cr_errmsg ? oci_xstrdup(resp->cr_errmsg)
                               : errnum              ? oci_xstrdup(strerror(errnum))
                                                     : last_log_error(log_path);
  if (cause)
    chomp(cause);
  return oci_error_setx(err, errnum ? errnum : EIO, "criu %s failed%s%s%s%s%s", what,
                        cause ? ": " : "", cause ? cause : "",
                        log_path ? " (CRIU's log: \"" : "", log_path ? log_path : "",
                        log_path ? "\")" : "");
}
