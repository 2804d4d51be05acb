/* ocirun — unix socket helpers shared by the console socket, the sync
 * socket, the seccomp agent and NOTIFY_SOCKET: connecting to a path of any
 * length with bounded waits, and passing fds with SCM_RIGHTS. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ocirun/socket.h"
#include "ocirun/utils.h"

/* ---- connecting ---- */

static int connect_unix(int sock, const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int r;
  do
    r = connect(sock, (struct sockaddr *)&addr, sizeof(addr));
  while (r < 0 && errno == EINTR);
  return r;
}

/* A path too long for sun_path: open its directory and connect through
 * /proc/self/fd/N/<name>, which resolves to the same socket inode without
 * changing our cwd (other threads may depend on it). */
static int connect_unix_long(int sock, const char *path) {
  _cleanup_free_ char *dir_copy = oci_xstrdup(path);
  _cleanup_free_ char *base_copy = oci_xstrdup(path);
  const char *dir = dirname(dir_copy);
  const char *base = basename(base_copy);
  _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return -1;
  char via[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  int n = snprintf(via, sizeof(via), "/proc/self/fd/%d/%s", dfd, base);
  if (n < 0 || (size_t)n >= sizeof(via) - 1) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return connect_unix(sock, via);
}

int oci_unix_connect(const char *path, const char *what, oci_error *err) {
  _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return oci_error_errno(err, "%s \"%s\": socket", what, path);
  /* The peer may accept nothing (its backlog full) or read nothing: the
   * connect and every send on the socket give up then, rather than block
   * create forever. */
  struct timeval tv = {.tv_sec = OCI_PEER_TIMEOUT_S};
  if (setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
    return oci_error_errno(err, "%s \"%s\": set a send timeout", what, path);
  struct sockaddr_un addr;
  int r = strlen(path) < sizeof(addr.sun_path) ? connect_unix(sock, path)
                                               : connect_unix_long(sock, path);
  if (r < 0 && errno == EAGAIN)
    return oci_error_setx(err, ETIMEDOUT, "%s \"%s\": connect: no connection accepted in %d s",
                          what, path, OCI_PEER_TIMEOUT_S);
  if (r < 0)
    return oci_error_errno(err, "%s \"%s\": connect", what, path);
  return OCI_STEAL_FD(sock);
}

/* ---- fd passing (SCM_RIGHTS) ---- */

int oci_send_with_fd(int sock, const struct iovec *iov, size_t n_iov, int fd) {
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n_iov};
  if (fd >= 0) {
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do
    n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  /* The fd went with the first chunk; what sendmsg did not take follows. */
  size_t sent = (size_t)n;
  for (size_t i = 0; i < n_iov; i++) {
    size_t done = sent < iov[i].iov_len ? sent : iov[i].iov_len;
    sent -= done;
    if (done < iov[i].iov_len &&
        oci_write_all(sock, (const char *)iov[i].iov_base + done, iov[i].iov_len - done) < 0)
      return -1;
  }
  return 0;
}

#define OCI_FD_NAME_MAX 4096

int oci_send_fd(int sock, int fd, const char *name, oci_error *err) {
  /* The payload is the file's name, as runc sends it; a stream socket
   * needs at least one data byte to carry the control message. */
  const char *payload = name != NULL && name[0] != '\0' ? name : "";
  struct iovec iov = {.iov_base = (void *)payload, .iov_len = payload[0] ? strlen(payload) : 1};
  if (oci_send_with_fd(sock, &iov, 1, fd) < 0)
    return oci_error_errno(err, "send fd \"%s\"", payload);
  return 0;
}

/* Close every fd carried by msg but keep (when keep is true) the first:
 * whatever a peer attaches beyond what we take must not leak into us. */
static int take_passed_fds(struct msghdr *msg, bool keep) {
  int kept = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (keep && kept < 0)
        kept = fd;
      else
        close(fd);
    }
  }
  return kept;
}

ssize_t oci_recv_with_fd(int sock, void *buf, size_t len, int flags, int *fd) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  /* Room for a few fds, so that a peer sending more than one is seen (and
   * its extra fds closed) rather than truncated into MSG_CTRUNC. */
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } ctl;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                      .msg_controllen = sizeof(ctl.buf)};
  *fd = -1;
  ssize_t n;
  do
    n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  size_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      count += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  bool ok = count <= 1 && !(mh.msg_flags & MSG_CTRUNC);
  *fd = take_passed_fds(&mh, ok);
  if (!ok) {
    errno = EBADMSG;
    return -1;
  }
  return n;
}

int oci_recv_fd(int sock, oci_error *err) {
  char name[OCI_FD_NAME_MAX];
  int fd;
  ssize_t n = oci_recv_with_fd(sock, name, sizeof(name), 0, &fd);
  if (n < 0 && errno == EBADMSG)
    return oci_error_set(err, EBADMSG, "receive fd: expected exactly one fd");
  if (n < 0)
    return oci_error_errno(err, "receive fd");
  if (fd < 0 && n == 0)
    return oci_error_set(err, 0, "receive fd: connection closed before an fd was sent");
  if (fd < 0)
    return oci_error_set(err, EBADMSG, "receive fd: expected exactly one fd");
  return fd;
}
