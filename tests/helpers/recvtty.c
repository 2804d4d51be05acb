/* recvtty — the receiving end of --console-socket, for the tests.
 *
 *   recvtty [--mode single|null|print] [--pid-file FILE] SOCKET_PATH
 *
 * Listens on SOCKET_PATH, accepts one connection, receives the pty master
 * sent with SCM_RIGHTS, then:
 *   single  relays the master to our stdin/stdout until it hangs up
 *   null    reads and discards the container's output until it hangs up
 *   print   copies the container's output to stdout until it hangs up
 * The pid file is written once the socket listens, so a test can wait for
 * it before starting the container. The socket is removed on exit. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ocirun/terminal.h"
#include "ocirun/utils.h"

enum mode { MODE_SINGLE, MODE_NULL, MODE_PRINT };

static void usage(FILE *f) {
  fprintf(f, "usage: recvtty [--mode single|null|print] [--pid-file FILE] SOCKET_PATH\n");
}

static int listen_on(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path)) {
    fprintf(stderr, "recvtty: socket path too long: %s\n", path);
    return -1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
    fprintf(stderr, "recvtty: listen on %s: %s\n", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

static int write_pid_file(const char *path) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
  oci_error err = {0};
  if (oci_write_file_atomic(path, buf, (size_t)n, &err) < 0) {
    fprintf(stderr, "recvtty: %s\n", err.msg);
    return -1;
  }
  return 0;
}

/* Copy the master's output to out (-1: discard) until it hangs up (EIO
 * once every slave fd in the container is closed). */
static int drain(int master, int out) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(master, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0 || (n < 0 && errno == EIO))
      return 0;
    if (n < 0) {
      fprintf(stderr, "recvtty: read: %s\n", strerror(errno));
      return -1;
    }
    if (out >= 0 && oci_write_all(out, buf, (size_t)n) < 0) {
      fprintf(stderr, "recvtty: write: %s\n", strerror(errno));
      return -1;
    }
  }
}

static int receive_and_serve(int listener, enum mode mode) {
  int conn;
  do
    conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) {
    fprintf(stderr, "recvtty: accept: %s\n", strerror(errno));
    return -1;
  }
  oci_error err = {0};
  int master = oci_recv_fd(conn, &err);
  close(conn);
  if (master < 0) {
    fprintf(stderr, "recvtty: %s\n", err.msg);
    return -1;
  }
  int ret;
  if (mode == MODE_SINGLE) {
    ret = oci_terminal_relay(master, &err);
    if (ret < 0)
      fprintf(stderr, "recvtty: %s\n", err.msg);
  } else {
    ret = drain(master, mode == MODE_PRINT ? STDOUT_FILENO : -1);
  }
  close(master);
  return ret;
}

static int parse_mode(const char *s, enum mode *out) {
  if (strcmp(s, "single") == 0)
    *out = MODE_SINGLE;
  else if (strcmp(s, "null") == 0)
    *out = MODE_NULL;
  else if (strcmp(s, "print") == 0)
    *out = MODE_PRINT;
  else
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"mode", required_argument, NULL, 'm'},
      {"pid-file", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  enum mode mode = MODE_SINGLE;
  const char *pid_file = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "m:p:h", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      if (parse_mode(optarg, &mode) < 0) {
        fprintf(stderr, "recvtty: unknown mode \"%s\"\n", optarg);
        return 2;
      }
      break;
    case 'p':
      pid_file = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    return 2;
  }
  const char *path = argv[optind];
  /* A reader that went away must not kill us mid-copy. */
  signal(SIGPIPE, SIG_IGN);
  int listener = listen_on(path);
  if (listener < 0)
    return 1;
  int ret = pid_file ? write_pid_file(pid_file) : 0;
  if (ret == 0)
    ret = receive_and_serve(listener, mode);
  close(listener);
  unlink(path);
  return ret < 0 ? 1 : 0;
}
