/* ocirun — NOTIFY_SOCKET passthrough (sd_notify), as runc does it.
 *
 * When the caller of create/run has NOTIFY_SOCKET set (systemd runs us as a
 * Type=notify service), the container gets a socket of its own:
 * <state dir>/notify/ is bind-mounted read-only at /run/notify and the
 * process is told NOTIFY_SOCKET=/run/notify/notify.sock. `start` (and run)
 * binds that socket, lets the container go, waits for READY=1 on it and
 * passes the message on to the host's socket with MAINPID= the init, so the
 * service manager tracks the container's process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include <stddef.h>
#include "ocirun/log.h"
#include "ocirun/socket.h"

#define NOTIFY_DIR_IN_CONTAINER "/run/notify"
#define NOTIFY_SOCK_NAME "notify.sock"

static char *notify_dir(const struct oci_state *st) {
  return oci_xasprintf("%s/notify", st->dir);
}

static char **strv_of(const char *const *items, size_t n) {
  char **v = oci_xmalloc0((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    v[i] = oci_xstrdup(items[i]);
  return v;
}

int oci_notify_prepare(struct oci_state *st, oci_error *err) {
  const char *host = getenv("NOTIFY_SOCKET");
  if (host == NULL || *host == '\0')
    return 0;
  _cleanup_free_ char *dir = notify_dir(st);
  if (mkdir(dir, 0755) < 0)
    return oci_error_errno(err, "NOTIFY_SOCKET: mkdir \"%s\"", dir);
  struct oci_config *cfg = st->config;
  cfg->mounts = oci_xrealloc(cfg->mounts, (cfg->n_mounts + 1) * sizeof(*cfg->mounts));
  static const char *const opts[] = {"bind", "nosuid", "noexec", "nodev", "ro"};
  cfg->mounts[cfg->n_mounts++] = (struct oci_mount){
      .destination = oci_xstrdup(NOTIFY_DIR_IN_CONTAINER), .source = oci_xstrdup(dir),
      .type = oci_xstrdup("bind"), .options = strv_of(opts, OCI_ARRAY_SIZE(opts)),
      .n_options = OCI_ARRAY_SIZE(opts)};
  struct oci_process *p = cfg->process;
  p->env = oci_xrealloc(p->env, (p->n_env + 2) * sizeof(char *));
  p->env[p->n_env++] = oci_xstrdup("NOTIFY_SOCKET=" NOTIFY_DIR_IN_CONTAINER "/" NOTIFY_SOCK_NAME);
  p->env[p->n_env] = NULL;
  return 0;
}

/* sockaddr for a path, or an abstract name written "@name". */
static int unix_addr(const char *path, struct sockaddr_un *a, socklen_t *len) {
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof(a->sun_path))
    return -1;
  memcpy(a->sun_path, path, n);
  if (path[0] == '@')
    a->sun_path[0] = '\0';
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
  return 0;
}

int oci_notify_listen(const struct oci_state *st, oci_error *err) {
  err->errnum = 0;
  const char *host = getenv("NOTIFY_SOCKET");
  _cleanup_free_ char *dir = notify_dir(st);
  struct stat sb;
  if (host == NULL || *host == '\0' || stat(dir, &sb) < 0)
    return -1; /* not asked: no error */
  _cleanup_free_ char *path = oci_xasprintf("%s/" NOTIFY_SOCK_NAME, dir);
  struct sockaddr_un a;
  socklen_t len;
  if (unix_addr(path, &a, &len) < 0)
    return oci_error_set(err, ENAMETOOLONG, "NOTIFY_SOCKET: path \"%s\" too long", path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return oci_error_errno(err, "NOTIFY_SOCKET: socket");
  unlink(path);
  if (bind(fd, (struct sockaddr *)&a, len) < 0)
    return oci_error_errno(err, "NOTIFY_SOCKET: bind \"%s\"", path);
  /* The container's user may be anyone. */
  if (chmod(path, 0777) < 0)
    return oci_error_errno(err, "NOTIFY_SOCKET: chmod \"%s\"", path);
  return OCI_STEAL_FD(fd);
}

static int forward_ready(const char *msg, size_t n, pid_t pid, oci_error *err) {
  const char *host = getenv("NOTIFY_SOCKET");
  struct sockaddr_un a;
  socklen_t len;
  if (unix_addr(host, &a, &len) < 0)
    return oci_error_setx(err, EINVAL, "NOTIFY_SOCKET \"%s\": not a socket path", host);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return oci_error_errno(err, "NOTIFY_SOCKET: socket");
  /* A service manager that reads nothing fills its queue: then sendto
   * would wait for room forever. */
  struct timeval tv = {.tv_sec = OCI_PEER_TIMEOUT_S};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
    return oci_error_errno(err, "NOTIFY_SOCKET: set a send timeout");
  _cleanup_free_ char *out = oci_xasprintf("%.*s\nMAINPID=%d\n", (int)n, msg, (int)pid);
  if (sendto(fd, out, strlen(out), MSG_NOSIGNAL, (struct sockaddr *)&a, len) < 0) {
    if (errno == EAGAIN)
      return oci_error_setx(err, ETIMEDOUT, "NOTIFY_SOCKET: send to \"%s\": its queue stayed "
                            "full for %d s", host, OCI_PEER_TIMEOUT_S);
    return oci_error_errno(err, "NOTIFY_SOCKET: send to \"%s\"", host);
  }
  return 0;
}

static bool has_ready(const char *msg) {
  for (const char *l = msg; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, "READY=1", 7) == 0 && (l[7] == '\n' || l[7] == '\0'))
      return true;
  return false;
}

int oci_notify_wait_ready(int sock, pid_t init, oci_error *err) {
  _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  for (;;) {
    struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return oci_error_errno(err, "NOTIFY_SOCKET: poll");
    }
    if (fds[0].revents & POLLIN) {
      char buf[4096];
      ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);
      if (n < 0 && errno != EINTR && errno != EAGAIN)
        return oci_error_errno(err, "NOTIFY_SOCKET: receive");
      if (n > 0) {
        buf[n] = '\0';
        if (has_ready(buf))
          return forward_ready(buf, (size_t)n, init, err);
      }
      continue;
    }
    if (fds[1].revents) {
      oci_warn("NOTIFY_SOCKET: the container exited without READY=1");
      return 0;
    }
  }
}
