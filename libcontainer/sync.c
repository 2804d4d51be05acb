/* ocirun — the parent <-> init protocol.
 *
 * Typed, length-prefixed messages over a SOCK_STREAM socketpair, with an
 * optional fd attached through SCM_RIGHTS. Both sides block in recv(): no
 * polling, no sleeps. A peer that dies closes its end, which the other side
 * reads as EOF, so a crashed init can never hang `create`. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "ocirun/socket.h"

struct sync_header {
  uint32_t type;
  uint32_t len;
};

/* Far above any real message (state JSON, an error): a peer that claims
 * more is broken, and its length must not size our allocation. */
#define SYNC_MAX_LEN (16u << 20)

int oci_sync_send(int sock, enum oci_sync_type type, const void *data, size_t len, int fd,
                  oci_error *err) {
  if (len > SYNC_MAX_LEN)
    return oci_error_setx(err, EMSGSIZE, "sync: a message of %zu bytes is over the limit (%u)",
                         len, SYNC_MAX_LEN);
  struct sync_header h = {.type = type, .len = (uint32_t)len};
  struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof(h)},
                         {.iov_base = (void *)data, .iov_len = len}};
  if (oci_send_with_fd(sock, iov, len ? 2 : 1, fd) < 0)
    return oci_error_errno(err, "sync: send");
  return 0;
}

void oci_sync_msg_clear(struct oci_sync_msg *msg) {
  free(msg->data);
  msg->data = NULL;
  if (msg->fd >= 0)
    close(msg->fd);
  msg->fd = -1;
}

int oci_sync_recv(int sock, struct oci_sync_msg *msg, oci_error *err) {
  struct sync_header h;
  memset(msg, 0, sizeof(*msg));
  ssize_t n = oci_recv_with_fd(sock, &h, sizeof(h), MSG_WAITALL, &msg->fd);
  /* A peer that died without reading what we sent resets the connection
   * (ECONNRESET) rather than closing it: the same death. */
  if (n == 0 || (n < 0 && errno == ECONNRESET)) {
    oci_sync_msg_clear(msg);
    return oci_error_setx(err, EPIPE, "the container's init exited unexpectedly");
  }
  if (n < 0)
    return oci_error_errno(err, "sync: receive");
  if ((size_t)n < sizeof(h)) {
    oci_sync_msg_clear(msg);
    return oci_error_setx(err, EIO, "sync: short message");
  }
  msg->type = h.type;
  msg->len = h.len;
  if (h.len > SYNC_MAX_LEN) {
    oci_sync_msg_clear(msg);
    return oci_error_setx(err, EMSGSIZE, "sync: the peer announced %u bytes, over the limit (%u)",
                         h.len, SYNC_MAX_LEN);
  }
  msg->data = oci_xmalloc0((size_t)h.len + 1);
  if (h.len > 0 && oci_read_all(sock, msg->data, h.len) != (ssize_t)h.len) {
    oci_sync_msg_clear(msg);
    return oci_error_setx(err, EIO, "sync: truncated message");
  }
  return 0;
}

int oci_sync_decode_pid(const struct oci_sync_msg *msg, pid_t *pid, oci_error *err) {
  pid_t p = 0;
  if (msg->len == sizeof(p))
    memcpy(&p, msg->data, sizeof(p));
  if (p <= 0)
    return oci_error_setx(err, EPROTO, "sync: a pid message of %zu bytes holds no pid", msg->len);
  *pid = p;
  return 0;
}

int oci_sync_decode_error(const struct oci_sync_msg *msg, oci_error *err) {
  int errnum = 0;
  const char *text = "the container's init failed";
  if (msg->len > sizeof(int)) {
    memcpy(&errnum, msg->data, sizeof(int));
    text = msg->data + sizeof(int);
  }
  err->errnum = errnum;
  snprintf(err->msg, sizeof(err->msg), "%s", text);
  return -1;
}

int oci_sync_expect(int sock, enum oci_sync_type type, struct oci_sync_msg *msg, oci_error *err) {
  if (oci_sync_recv(sock, msg, err) < 0)
    return -1;
  if (msg->type == OCI_SYNC_ERROR) {
    oci_sync_decode_error(msg, err);
    oci_sync_msg_clear(msg);
    return -1;
  }
  if (msg->type != type) {
    int got = msg->type;
    oci_sync_msg_clear(msg);
    return oci_error_setx(err, EPROTO, "sync: expected message %d, got %d", type, got);
  }
  return 0;
}

int oci_sync_serve(int sock, oci_sync_handler handle, void *data, oci_error *err) {
  for (;;) {
    struct oci_sync_msg m;
    if (oci_sync_recv(sock, &m, err) < 0)
      return -1;
    int r = m.type == OCI_SYNC_READY   ? 1
            : m.type == OCI_SYNC_ERROR ? oci_sync_decode_error(&m, err)
                                       : handle(data, &m, err);
    oci_sync_msg_clear(&m);
    if (r != 0)
      return r > 0 ? 0 : -1;
  }
}

void oci_sync_send_error(int sock, const oci_error *err) {
  size_t mlen = strnlen(err->msg, sizeof(err->msg));
  char buf[sizeof(int) + OCI_ERROR_MSG_MAX + 1];
  memcpy(buf, &err->errnum, sizeof(int));
  memcpy(buf + sizeof(int), err->msg, mlen);
  buf[sizeof(int) + mlen] = '\0';
  oci_error ignored;
  oci_sync_send(sock, OCI_SYNC_ERROR, buf, sizeof(int) + mlen + 1, -1, &ignored);
}
