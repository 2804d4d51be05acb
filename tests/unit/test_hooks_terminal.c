/* Unit tests for libcontainer/hooks.c and libcontainer/terminal.c.
 *
 * The hook used to observe what a hook receives is this very binary,
 * re-executed with "--hook-record DIR": a compiled hook sees its exact
 * argv[0] and environ, which a shell script could not report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ocirun/hooks.h"
#include "ocirun/terminal.h"
#include "ocirun/utils.h"

extern bool oci_hooks_test_no_pidfd;
extern char **environ;

static char tmpdir[] = "/tmp/ocirun-test-hooks-XXXXXX";
static char self_exe[4096];

/* ---- the hook side: record stdin, argv, env and open fds into DIR ---- */

static void record_list(const char *dir, const char *name, char **list, int n) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  for (int i = 0; list[i] != NULL && (n < 0 || i < n); i++)
    fprintf(f, "%s\n", list[i]);
  fclose(f);
}

static int hook_record_main(int argc, char **argv) {
  const char *dir = argv[2];
  char path[4200];
  /* fds first, before this process opens anything itself. */
  snprintf(path, sizeof(path), "%s/fds", dir);
  DIR *d = opendir("/proc/self/fd");
  FILE *f = fopen(path, "w");
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (de->d_name[0] != '.' && fd != dirfd(d) && fd != fileno(f))
      fprintf(f, "%d\n", fd);
  }
  closedir(d);
  fclose(f);
  record_list(dir, "argv", argv, argc);
  record_list(dir, "env", environ, -1);
  snprintf(path, sizeof(path), "%s/stdin", dir);
  f = fopen(path, "w");
  char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof(buf))) > 0)
    fwrite(buf, 1, (size_t)n, f);
  fclose(f);
  return 0;
}

/* ---- helpers ---- */

static char *slurp(const char *dir, const char *name) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  char *out = NULL;
  size_t len = 0;
  oci_error err = {0};
  if (oci_read_file(path, &out, &len, &err) < 0)
    return NULL;
  return out;
}

static bool exists(const char *dir, const char *name) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  return remove(p);
}

static int make_subdir(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", tmpdir, name);
  return mkdir(out, 0700);
}

static double elapsed_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static struct oci_hook sh_hook(char **args, size_t n, int64_t timeout) {
  struct oci_hook h = {.path = "/bin/sh", .args = args, .n_args = n};
  if (timeout > 0) {
    h.timeout.set = true;
    h.timeout.v = timeout;
  }
  return h;
}

static int group_setup(void **state) {
  if (mkdtemp(tmpdir) == NULL)
    return -1;
  ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
  if (n <= 0)
    return -1;
  self_exe[n] = '\0';
  return 0;
}

static int group_teardown(void **state) {
  return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- hooks ---- */

static void run_record_hook(const char *dir, const char *state_json) {
  char *args[] = {"custom-argv0", "--hook-record", (char *)dir, "two words", ""};
  char *env[] = {"FOO=bar", "EMPTY=", "WITH SPACE=a b"};
  struct oci_hook h = {.path = self_exe, .args = args, .n_args = 5,
                       .env = env, .n_env = 3};
  struct oci_hook_list list = {.items = &h, .n = 1};
  oci_error err = {0};
  int ret = oci_hooks_run(&list, "createRuntime", NULL, NULL, state_json, &err);
  if (ret < 0)
    fail_msg("oci_hooks_run: %s", err.msg);
}

static void check_record(const char *dir, const char *state_json) {
  char *in = slurp(dir, "stdin");
  char *argv = slurp(dir, "argv");
  char *env = slurp(dir, "env");
  assert_non_null(in);
  assert_non_null(argv);
  assert_non_null(env);
  assert_string_equal(in, state_json);
  char want_argv[4400];
  snprintf(want_argv, sizeof(want_argv), "custom-argv0\n--hook-record\n%s\ntwo words\n\n", dir);
  assert_string_equal(argv, want_argv);
  /* Exactly the configured env: nothing of ours (PATH, HOME) leaks in. */
  assert_string_equal(env, "FOO=bar\nEMPTY=\nWITH SPACE=a b\n");
  free(in);
  free(argv);
  free(env);
}

static void test_hook_gets_state_args_env(void **state) {
  char dir[4200];
  assert_int_equal(make_subdir(dir, sizeof(dir), "record"), 0);
  const char *json = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\"}";
  run_record_hook(dir, json);
  check_record(dir, json);
}

static void test_hook_large_state_through_pipe(void **state) {
  /* Larger than a pipe buffer: the parent must keep feeding as the hook
   * reads. */
  char dir[4200];
  assert_int_equal(make_subdir(dir, sizeof(dir), "large"), 0);
  size_t n = 1 << 20;
  char *json = malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    json[i] = (char)('a' + i % 26);
  json[n] = '\0';
  run_record_hook(dir, json);
  check_record(dir, json);
  free(json);
}

static void test_hook_no_runtime_fds_leak(void **state) {
  char dir[4200];
  assert_int_equal(make_subdir(dir, sizeof(dir), "fds"), 0);
  int extra[3];
  int p[2];
  extra[0] = open("/dev/null", O_RDONLY);           /* no CLOEXEC on purpose */
  extra[1] = open(tmpdir, O_RDONLY | O_DIRECTORY);
  assert_int_equal(pipe(p), 0);
  extra[2] = socket(AF_UNIX, SOCK_STREAM, 0);
  run_record_hook(dir, "{}");
  char *fds = slurp(dir, "fds");
  assert_non_null(fds);
  assert_string_equal(fds, "0\n1\n2\n");
  free(fds);
  for (int i = 0; i < 3; i++)
    close(extra[i]);
  close(p[0]);
  close(p[1]);
}

static void test_hook_does_not_read_stdin(void **state) {
  /* The hook exits without reading 1 MiB of state: EPIPE must be tolerated
   * and no SIGPIPE may kill us. */
  char *args[] = {"sh", "-c", "exit 0"};
  struct oci_hook h = sh_hook(args, 3, 0);
  struct oci_hook_list list = {.items = &h, .n = 1};
  size_t n = 1 << 20;
  char *json = malloc(n + 1);
  memset(json, 'x', n);
  json[n] = '\0';
  oci_error err = {0};
  assert_int_equal(oci_hooks_run(&list, "poststart", NULL, NULL, json, &err), 0);
  free(json);
}

static void test_hook_failure_names_stage_index_path(void **state) {
  char marker[4200];
  snprintf(marker, sizeof(marker), "touch %s/third-ran", tmpdir);
  char *ok[] = {"sh", "-c", "exit 0"};
  char *bad[] = {"sh", "-c", "exit 3"};
  char *third[] = {"sh", "-c", marker};
  struct oci_hook items[3] = {sh_hook(ok, 3, 0), sh_hook(bad, 3, 0), sh_hook(third, 3, 0)};
  struct oci_hook_list list = {.items = items, .n = 3};
  oci_error err = {0};
  assert_int_equal(oci_hooks_run(&list, "prestart", NULL, NULL, "{}", &err), -1);
  assert_string_equal(err.msg, "error running hook: prestart hook #1 \"/bin/sh\": exited with status 3");
  /* The list stops at the first failure. */
  assert_false(exists(tmpdir, "third-ran"));
}

static void test_hook_killed_by_signal(void **state) {
  char *args[] = {"sh", "-c", "kill -TERM $$"};
  struct oci_hook h = sh_hook(args, 3, 0);
  struct oci_hook_list list = {.items = &h, .n = 1};
  oci_error err = {0};
  assert_int_equal(oci_hooks_run(&list, "poststop", NULL, NULL, "{}", &err), -1);
  assert_string_equal(err.msg, "error running hook: poststop hook #0 \"/bin/sh\": "
                               "killed by signal SIGTERM (terminated)");
}

static void check_timeout(void) {
  char *args[] = {"sh", "-c", "exec sleep 10"};
  struct oci_hook h = sh_hook(args, 3, 1);
  struct oci_hook_list list = {.items = &h, .n = 1};
  oci_error err = {0};
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  assert_int_equal(oci_hooks_run(&list, "createContainer", NULL, NULL, "{}", &err), -1);
  double took = elapsed_since(&start);
  assert_string_equal(err.msg,
                      "error running hook: createContainer hook #0 \"/bin/sh\": timed out after 1 s");
  assert_true(took >= 0.9 && took < 3.0);
}

static void test_hook_timeout(void **state) {
  check_timeout();
}

static void test_hook_nonexistent_path(void **state) {
  struct oci_hook h = {.path = "/nonexistent/ocirun-hook"};
  struct oci_hook_list list = {.items = &h, .n = 1};
  oci_error err = {0};
  assert_int_equal(oci_hooks_run(&list, "startContainer", NULL, NULL, "{}", &err), -1);
  assert_int_equal(err.errnum, ENOENT);
  assert_string_equal(err.msg, "error running hook: startContainer hook #0 "
                               "\"/nonexistent/ocirun-hook\": "
                               "exec: No such file or directory");
}

static void test_hook_relative_path_refused(void **state) {
  struct oci_hook h = {.path = "sh"};
  struct oci_hook_list list = {.items = &h, .n = 1};
  oci_error err = {0};
  assert_int_equal(oci_hooks_run(&list, "prestart", NULL, NULL, "{}", &err), -1);
  assert_non_null(strstr(err.msg, "prestart hook #0 \"sh\": path must be absolute"));
}

static void test_hook_empty_list(void **state) {
  struct oci_hook_list list = {.items = NULL, .n = 0};
  oci_error err = {0};
  assert_int_equal(oci_hooks_run(&list, "prestart", NULL, NULL, "{}", &err), 0);
  assert_int_equal(oci_hooks_run(NULL, "prestart", NULL, NULL, "{}", &err), 0);
}

static void test_hook_wait_without_pidfd(void **state) {
  /* The signalfd path used on kernels without pidfd_open. */
  char dir[4200];
  assert_int_equal(make_subdir(dir, sizeof(dir), "nopidfd"), 0);
  oci_hooks_test_no_pidfd = true;
  run_record_hook(dir, "{\"id\":\"x\"}");
  check_record(dir, "{\"id\":\"x\"}");
  check_timeout();
  oci_hooks_test_no_pidfd = false;
  sigset_t mask;
  sigprocmask(SIG_SETMASK, NULL, &mask);
  assert_false(sigismember(&mask, SIGCHLD)); /* our mask is restored */
}

static void test_hook_with_stdin_closed(void **state) {
  /* A runtime started with fd 0 closed: the stdin pipe lands on fd 0 and
   * must still reach the hook. */
  char dir[4200];
  assert_int_equal(make_subdir(dir, sizeof(dir), "closed-stdin"), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(0);
    run_record_hook(dir, "{\"stdin\":\"closed\"}");
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  check_record(dir, "{\"stdin\":\"closed\"}");
}

static void test_hook_sigchld_ignored_fails_not_hangs(void **state) {
  /* With SIGCHLD ignored the kernel reaps the hook itself: report it
   * instead of waiting forever. */
  char *args[] = {"sh", "-c", "exit 0"};
  struct oci_hook h = sh_hook(args, 3, 5);
  struct oci_hook_list list = {.items = &h, .n = 1};
  oci_error err = {0};
  struct sigaction ign = {.sa_handler = SIG_IGN}, old;
  sigaction(SIGCHLD, &ign, &old);
  int ret = oci_hooks_run(&list, "poststop", NULL, NULL, "{}", &err);
  sigaction(SIGCHLD, &old, NULL);
  assert_int_equal(ret, -1);
  assert_non_null(strstr(err.msg, "poststop hook #0 \"/bin/sh\": wait"));
}

/* ---- fd passing and the console socket ---- */

static void assert_same_file(int a, int b) {
  struct stat sa, sb;
  assert_int_equal(fstat(a, &sa), 0);
  assert_int_equal(fstat(b, &sb), 0);
  assert_int_equal(sa.st_dev, sb.st_dev);
  assert_int_equal(sa.st_ino, sb.st_ino);
}

static void test_send_recv_fd(void **state) {
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int fd = open(self_exe, O_RDONLY | O_CLOEXEC);
  oci_error err = {0};
  assert_int_equal(oci_send_fd(sv[0], fd, "/dev/ptmx", &err), 0);
  int got = oci_recv_fd(sv[1], &err);
  assert_true(got >= 0);
  assert_int_not_equal(got, fd);
  assert_same_file(fd, got);
  assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
  close(got);
  /* No fd in the message: an error, not a bogus fd. */
  assert_int_equal(write(sv[0], "x", 1), 1);
  assert_int_equal(oci_recv_fd(sv[1], &err), -1);
  close(sv[0]);
  assert_int_equal(oci_recv_fd(sv[1], &err), -1);
  assert_non_null(strstr(err.msg, "connection closed"));
  close(sv[1]);
  close(fd);
}

/* Two fds in one SCM_RIGHTS message (what no peer of ours sends). */
static void send_two_fds(int sock, int a, int b) {
  union {
    char buf[CMSG_SPACE(2 * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof(ctl));
  struct iovec iov = {.iov_base = "x", .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                      .msg_controllen = sizeof(ctl.buf)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  int fds[2] = {a, b};
  memcpy(CMSG_DATA(c), fds, sizeof(fds));
  assert_int_equal(sendmsg(sock, &mh, 0), 1);
}

/* The lowest fd number free now: where a leaked fd would sit. */
static int lowest_free_fd(void) {
  int fd = dup(0);
  assert_true(fd >= 0);
  close(fd);
  return fd;
}

/* Every receiver (console fd, sync, CRIU) goes through one helper: more
 * than one fd is refused and none of them stays open in us. */
static void test_recv_refuses_and_closes_extra_fds(void **state) {
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int free_before = lowest_free_fd();
  send_two_fds(sv[0], 0, 1);
  oci_error err = {0};
  assert_int_equal(oci_recv_fd(sv[1], &err), -1);
  assert_int_equal(err.errnum, EBADMSG);
  assert_int_equal(lowest_free_fd(), free_before);
  send_two_fds(sv[0], 0, 1);
  char buf[8];
  int fd = 123;
  assert_int_equal(oci_recv_with_fd(sv[1], buf, sizeof(buf), 0, &fd), -1);
  assert_int_equal(errno, EBADMSG);
  assert_int_equal(fd, -1);
  assert_int_equal(lowest_free_fd(), free_before);
  /* One fd: kept, close-on-exec. */
  assert_int_equal(oci_send_with_fd(sv[0], &(struct iovec){.iov_base = "y", .iov_len = 1}, 1, 0), 0);
  assert_int_equal(oci_recv_with_fd(sv[1], buf, sizeof(buf), 0, &fd), 1);
  assert_true(fd >= 0);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  close(fd);
  close(sv[0]);
  close(sv[1]);
}

static int listen_at(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  /* bind through the directory so even a long path can be bound */
  char dir[4200], via[108];
  snprintf(dir, sizeof(dir), "%s", path);
  *strrchr(dir, '/') = '\0';
  int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  snprintf(via, sizeof(via), "/proc/self/fd/%d/%s", dfd, strrchr(path, '/') + 1);
  strcpy(addr.sun_path, via);
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
    fail_msg("bind %s: %s", path, strerror(errno));
  close(dfd);
  return fd;
}

static void check_console_socket(const char *path) {
  int l = listen_at(path);
  oci_error err = {0};
  int c = oci_console_socket_connect(path, &err);
  if (c < 0)
    fail_msg("connect %s: %s", path, err.msg);
  assert_true(fcntl(c, F_GETFD) & FD_CLOEXEC);
  int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  assert_true(a >= 0);
  assert_int_equal(oci_send_fd(c, 0, NULL, &err), 0);
  int got = oci_recv_fd(a, &err);
  assert_true(got >= 0);
  assert_same_file(0, got);
  close(got);
  close(a);
  close(c);
  close(l);
  unlink(path);
}

static void test_console_socket_short_path(void **state) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/console.sock", tmpdir);
  check_console_socket(path);
}

static void test_console_socket_long_path(void **state) {
  char dir[4200];
  snprintf(dir, sizeof(dir), "%s/%s", tmpdir,
           "a-directory-name-long-enough-to-push-the-socket-path-past-sun_path/"
           "and-another-level-of-it-for-good-measure");
  oci_error err = {0};
  assert_int_equal(oci_mkdir_p(dir, 0700, &err), 0);
  char path[4400];
  snprintf(path, sizeof(path), "%s/console.sock", dir);
  assert_true(strlen(path) > sizeof(((struct sockaddr_un *)0)->sun_path));
  check_console_socket(path);
  char cwd[4096];
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_null(strstr(cwd, "a-directory-name")); /* our cwd is untouched */
}

static void test_console_socket_missing(void **state) {
  oci_error err = {0};
  assert_int_equal(oci_console_socket_connect("/nonexistent/ocirun.sock", &err), -1);
  assert_non_null(strstr(err.msg, "/nonexistent/ocirun.sock"));
}

/* ---- the pty ---- */

/* In a child: set up the terminal, check what the process sees, send the
 * master back, say hello on stdout. Exit status = number of the failed
 * check (0: all good). */
static int terminal_child(int sock) {
  struct oci_process p = {0};
  p.terminal = true;
  p.console_height = (oci_opt_u32){.set = true, .v = 33};
  p.console_width = (oci_opt_u32){.set = true, .v = 111};
  p.user.uid = 1234;
  p.user.gid = 4321;
  oci_error err = {0};
  int master = oci_terminal_setup(&p, &err);
  if (master < 0) {
    dprintf(sock, "%s", err.msg);
    return 1;
  }
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_row != 33 || ws.ws_col != 111)
    return 2;
  for (int fd = 0; fd <= 2; fd++)
    if (!isatty(fd))
      return 3;
  if (getsid(0) != getpid() || tcgetsid(0) != getpid())
    return 4; /* session leader with the pty as controlling terminal */
  struct stat st;
  if (fstat(0, &st) < 0 || st.st_uid != 1234)
    return 5;
  if (oci_send_fd(sock, master, "/dev/ptmx", &err) < 0)
    return 6;
  close(master);
  if (write(1, "hello\n", 6) != 6)
    return 7;
  return 0;
}

static void read_until(int fd, const char *want, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  while (strstr(buf, want) == NULL && len < size - 1) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 10000) <= 0)
      fail_msg("timed out waiting for \"%s\", got \"%s\"", want, buf);
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n <= 0)
      break;
    len += (size_t)n;
    buf[len] = '\0';
  }
  if (strstr(buf, want) == NULL)
    fail_msg("wanted \"%s\", got \"%s\"", want, buf);
}

static void test_terminal_setup(void **state) {
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(sv[0]);
    _exit(terminal_child(sv[1]));
  }
  close(sv[1]);
  oci_error err = {0};
  int master = oci_recv_fd(sv[0], &err);
  int status;
  if (master < 0) {
    waitpid(pid, &status, 0);
    fail_msg("no master (child status %d): %s", WEXITSTATUS(status), err.msg);
  }
  char buf[256];
  read_until(master, "hello", buf, sizeof(buf));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  close(master);
  close(sv[0]);
}

/* The relay between our stdio (pipes here) and a pty whose slave runs a
 * shell that answers one line. */
static void test_terminal_relay(void **state) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(master >= 0);
  assert_int_equal(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(slave >= 0);
  int in[2], out[2];
  assert_int_equal(pipe2(in, O_CLOEXEC), 0);
  assert_int_equal(pipe2(out, O_CLOEXEC), 0);

  pid_t shell = fork();
  assert_true(shell >= 0);
  if (shell == 0) {
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    execl("/bin/sh", "sh", "-c", "read x; echo \"got:$x\"", (char *)NULL);
    _exit(127);
  }
  close(slave);
  pid_t relay = fork();
  assert_true(relay >= 0);
  if (relay == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    oci_error err = {0};
    _exit(oci_terminal_relay(master, &err) < 0 ? 1 : 0);
  }
  close(master);
  close(in[0]);
  close(out[1]);
  assert_int_equal(write(in[1], "ping\n", 5), 5);
  close(in[1]); /* EOF on the relay's stdin: it must keep relaying output */
  char buf[512];
  read_until(out[0], "got:ping", buf, sizeof(buf));
  int status;
  assert_int_equal(waitpid(shell, &status, 0), shell);
  /* The relay returns once the slave side is gone. */
  struct pollfd pfd = {.fd = out[0], .events = POLLIN};
  char rest[512];
  while (poll(&pfd, 1, 10000) > 0 && read(out[0], rest, sizeof(rest)) > 0)
    ;
  assert_int_equal(waitpid(relay, &status, 0), relay);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  close(out[0]);
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "--hook-record") == 0)
    return hook_record_main(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hook_gets_state_args_env),
      cmocka_unit_test(test_hook_large_state_through_pipe),
      cmocka_unit_test(test_hook_no_runtime_fds_leak),
      cmocka_unit_test(test_hook_does_not_read_stdin),
      cmocka_unit_test(test_hook_failure_names_stage_index_path),
      cmocka_unit_test(test_hook_killed_by_signal),
      cmocka_unit_test(test_hook_timeout),
      cmocka_unit_test(test_hook_nonexistent_path),
      cmocka_unit_test(test_hook_relative_path_refused),
      cmocka_unit_test(test_hook_empty_list),
      cmocka_unit_test(test_hook_wait_without_pidfd),
      cmocka_unit_test(test_hook_with_stdin_closed),
      cmocka_unit_test(test_hook_sigchld_ignored_fails_not_hangs),
      cmocka_unit_test(test_send_recv_fd),
      cmocka_unit_test(test_recv_refuses_and_closes_extra_fds),
      cmocka_unit_test(test_console_socket_short_path),
      cmocka_unit_test(test_console_socket_long_path),
      cmocka_unit_test(test_console_socket_missing),
      cmocka_unit_test(test_terminal_setup),
      cmocka_unit_test(test_terminal_relay),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
