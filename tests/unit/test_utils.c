/* Unit tests for error.c, utils.c, sync.c and state.c. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../libcontainer/internal.h"

static char tmpdir[] = "/tmp/ocirun-test-utils-XXXXXX";

static int setup_tmp(void **state) {
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state) {
  oci_error e;
  return oci_state_dir_remove(tmpdir, &e);
}

static void test_error_set_appends_strerror(void **s) {
  oci_error e;
  assert_int_equal(oci_error_set(&e, ENOENT, "open \"%s\"", "/x"), -1);
  assert_string_equal(e.msg, "open \"/x\": No such file or directory");
  assert_int_equal(e.errnum, ENOENT);
  oci_error_set(&e, 0, "plain");
  assert_string_equal(e.msg, "plain");
}

static void test_error_wrap_prepends_context(void **s) {
  oci_error e;
  oci_error_set(&e, EPERM, "mount \"/proc\"");
  oci_error_wrap(&e, "create \"%s\"", "c1");
  assert_string_equal(e.msg, "create \"c1\": mount \"/proc\": Operation not permitted");
  assert_int_equal(e.errnum, EPERM);
}

static void test_error_wrap_truncates_safely(void **s) {
  oci_error e;
  char big[OCI_ERROR_MSG_MAX * 2];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  oci_error_set(&e, 0, "%s", big);
  oci_error_wrap(&e, "ctx");
  assert_int_equal(strlen(e.msg), OCI_ERROR_MSG_MAX - 1);
  assert_memory_equal(e.msg, "ctx: aaa", 8);
}

static void test_parse_long(void **s) {
  long v;
  assert_int_equal(oci_parse_long("42", &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(oci_parse_long("-7", &v), 0);
  assert_int_equal(v, -7);
  assert_int_equal(oci_parse_long("4x", &v), -1);
  assert_int_equal(oci_parse_long("", &v), -1);
  assert_int_equal(oci_parse_long("99999999999999999999999", &v), -1);
}

static void test_files_roundtrip_and_atomic(void **s) {
  oci_error e;
  char *path = oci_xasprintf("%s/a/b/c", tmpdir);
  assert_int_equal(oci_mkdir_p(path, 0700, &e), 0);
  assert_int_equal(oci_mkdir_p(path, 0700, &e), 0); /* existing is fine */
  char *file = oci_xasprintf("%s/f", path);
  assert_int_equal(oci_write_file_atomic(file, "hello", 5, &e), 0);
  char *tmp = oci_xasprintf("%s.tmp", file);
  assert_int_equal(access(tmp, F_OK), -1); /* no temp file left */
  char *data = NULL;
  size_t len = 0;
  assert_int_equal(oci_read_file(file, &data, &len, &e), 0);
  assert_int_equal(len, 5);
  assert_string_equal(data, "hello");
  free(data);
  assert_int_equal(oci_read_file("/nonexistent/x", &data, &len, &e), -1);
  assert_non_null(strstr(e.msg, "/nonexistent/x"));
  free(tmp);
  free(file);
  free(path);
}

static void test_close_fds_from_marks_cloexec(void **s) {
  oci_error e;
  int fd = open("/dev/null", O_RDONLY);
  assert_true(fd >= 3);
  int high = dup2(fd, 200);
  assert_int_equal(high, 200);
  assert_int_equal(oci_close_fds_from(100, true, &e), 0);
  assert_true(fcntl(200, F_GETFD) & FD_CLOEXEC);
  assert_false(fcntl(fd, F_GETFD) & FD_CLOEXEC); /* below the limit: untouched */
  assert_int_equal(oci_close_fds_from(100, false, &e), 0);
  assert_int_equal(fcntl(200, F_GETFD), -1);
  close(fd);
}

static void test_pid_start_time_and_alive(void **s) {
  assert_true(oci_pid_start_time(getpid()) > 0);
  assert_true(oci_pid_alive(getpid(), oci_pid_start_time(getpid())));
  assert_false(oci_pid_alive(getpid(), oci_pid_start_time(getpid()) + 1)); /* reused pid */
  pid_t child = fork();
  if (child == 0)
    _exit(0);
  /* A zombie is not alive. */
  siginfo_t si;
  waitid(P_PID, child, &si, WEXITED | WNOWAIT);
  assert_false(oci_pid_alive(child, 0));
  waitpid(child, NULL, 0);
  assert_int_equal(oci_pid_start_time(child), 0);
}

/* The command name may hold spaces and ')': the fields after it still
 * read the same. */
static void test_proc_stat_with_odd_comm(void **s) {
  int go[2], named[2];
  assert_int_equal(pipe(go), 0);
  assert_int_equal(pipe(named), 0);
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(go[1]);
    close(named[0]);
    prctl(PR_SET_NAME, "a) b ) c", 0, 0, 0);
    (void)write(named[1], "x", 1);
    (void)read(go[0], &c, 1);
    _exit(0);
  }
  char c;
  assert_int_equal(read(named[0], &c, 1), 1);
  char path[64], state = 0;
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
  unsigned long long f[23] = {0};
  assert_int_equal(oci_proc_stat_read(AT_FDCWD, path, &state, f, 23), 22);
  assert_true(state == 'S' || state == 'R');
  assert_int_equal(f[4], (unsigned long long)getpid()); /* ppid */
  assert_true(f[22] > 0);
  assert_int_equal(oci_pid_start_time(child), f[22]);
  assert_true(oci_pid_alive(child, f[22]));
  close(go[1]);
  waitpid(child, NULL, 0);
  close(go[0]);
  close(named[0]);
  close(named[1]);
}

/* A /proc/PID directory fd stays tied to its process: once that is reaped
 * nothing opens through it, whatever the pid number is used for next. */
static void test_proc_dir_outlives_its_process(void **s) {
  int self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(self >= 0);
  assert_int_equal(oci_proc_start_time_at(self), oci_pid_start_time(getpid()));
  close(self);
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(go[1]);
    (void)read(go[0], &c, 1);
    _exit(0);
  }
  close(go[0]);
  char path[32];
  snprintf(path, sizeof(path), "/proc/%d", (int)child);
  int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(dir >= 0);
  assert_int_equal(oci_proc_start_time_at(dir), oci_pid_start_time(child));
  int ns = openat(dir, "ns/net", O_RDONLY | O_CLOEXEC);
  assert_true(ns >= 0);
  close(ns);
  close(go[1]);
  waitpid(child, NULL, 0);
  assert_int_equal(oci_proc_start_time_at(dir), 0);
  assert_int_equal(openat(dir, "ns/net", O_RDONLY | O_CLOEXEC), -1);
  close(dir);
}

static void test_sync_roundtrip_with_fd(void **s) {
  int sv[2];
  oci_error e;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char big[100000];
  memset(big, 'x', sizeof(big));
  pid_t child = fork();
  if (child == 0) {
    close(sv[0]);
    oci_sync_send(sv[1], OCI_SYNC_TTY_FD, "abc", 4, fd, &e);
    oci_sync_send(sv[1], OCI_SYNC_HOOKS_DONE, big, sizeof(big), -1, &e);
    oci_error_set(&e, EACCES, "mount \"/x\"");
    oci_sync_send_error(sv[1], &e);
    _exit(0);
  }
  close(sv[1]);
  struct oci_sync_msg m;
  assert_int_equal(oci_sync_recv(sv[0], &m, &e), 0);
  assert_int_equal(m.type, OCI_SYNC_TTY_FD);
  assert_string_equal(m.data, "abc");
  struct stat a, b;
  fstat(fd, &a);
  fstat(m.fd, &b);
  assert_int_equal(a.st_ino, b.st_ino);
  oci_sync_msg_clear(&m);
  assert_int_equal(oci_sync_recv(sv[0], &m, &e), 0);
  assert_int_equal(m.len, sizeof(big));
  assert_memory_equal(m.data, big, sizeof(big));
  oci_sync_msg_clear(&m);
  /* The peer's error becomes ours, errno included. */
  assert_int_equal(oci_sync_expect(sv[0], OCI_SYNC_READY, &m, &e), -1);
  assert_string_equal(e.msg, "mount \"/x\": Permission denied");
  assert_int_equal(e.errnum, EACCES);
  /* EOF reads as the init having died. */
  waitpid(child, NULL, 0);
  assert_int_equal(oci_sync_recv(sv[0], &m, &e), -1);
  assert_non_null(strstr(e.msg, "exited unexpectedly"));
  close(sv[0]);
  close(fd);
}

/* Receive after a raw header (and payload), as a broken or hostile peer
 * could write it, followed by EOF. */
static int recv_raw(uint32_t type, uint32_t len, const char *payload, struct oci_sync_msg *m,
                    oci_error *e) {
  int sv[2];
  uint32_t h[2] = {type, len};
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(write(sv[1], h, sizeof(h)), (ssize_t)sizeof(h));
  if (payload != NULL)
    assert_int_equal(write(sv[1], payload, strlen(payload)), (ssize_t)strlen(payload));
  close(sv[1]);
  int r = oci_sync_recv(sv[0], m, e);
  close(sv[0]);
  return r;
}

static void test_sync_refuses_oversized_lengths(void **s) {
  oci_error e = {0};
  struct oci_sync_msg m;
  /* len + 1 would wrap to 0: a zero-sized buffer for 4 GiB of data. */
  assert_int_equal(recv_raw(OCI_SYNC_HOOKS_DONE, UINT32_MAX, "0123456789abcdef", &m, &e), -1);
  assert_int_equal(e.errnum, EMSGSIZE);
  assert_string_equal(e.msg, "sync: the peer announced 4294967295 bytes, over the limit (16777216)");
  assert_null(m.data);
  /* Nor is 1 GiB allocated because the peer says so. */
  assert_int_equal(recv_raw(OCI_SYNC_GO, 1u << 30, NULL, &m, &e), -1);
  assert_int_equal(e.errnum, EMSGSIZE);
  /* And we never send what the other side would refuse. */
  static char big[(16u << 20) + 1];
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  close(sv[0]);
  assert_int_equal(oci_sync_send(sv[1], OCI_SYNC_GO, big, sizeof(big), -1, &e), -1);
  assert_int_equal(e.errnum, EMSGSIZE);
  close(sv[1]);
}

static void test_sync_pid_needs_a_whole_pid(void **s) {
  oci_error e = {0};
  struct oci_sync_msg m;
  pid_t pid = 1234, got = -1;
  assert_int_equal(recv_raw(OCI_SYNC_PID, 1, "7", &m, &e), 0);
  assert_int_equal(oci_sync_decode_pid(&m, &got, &e), -1);
  assert_int_equal(e.errnum, EPROTO);
  assert_string_equal(e.msg, "sync: a pid message of 1 bytes holds no pid");
  assert_int_equal(got, -1);
  oci_sync_msg_clear(&m);
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(oci_sync_send(sv[1], OCI_SYNC_PID, &pid, sizeof(pid), -1, &e), 0);
  assert_int_equal(oci_sync_expect(sv[0], OCI_SYNC_PID, &m, &e), 0);
  assert_int_equal(oci_sync_decode_pid(&m, &got, &e), 0);
  assert_int_equal(got, 1234);
  oci_sync_msg_clear(&m);
  close(sv[0]);
  close(sv[1]);
}

static void test_parse_signal(void **s) {
  assert_int_equal(oci_parse_signal("9"), SIGKILL);
  assert_int_equal(oci_parse_signal("0"), 0);
  assert_int_equal(oci_parse_signal("KILL"), SIGKILL);
  assert_int_equal(oci_parse_signal("sigterm"), SIGTERM);
  assert_int_equal(oci_parse_signal("SIGRTMIN"), SIGRTMIN);
  assert_int_equal(oci_parse_signal("RTMIN+3"), SIGRTMIN + 3);
  assert_int_equal(oci_parse_signal("sigrtmax-1"), SIGRTMAX - 1);
  assert_int_equal(oci_parse_signal("RTMAX-0"), SIGRTMAX);
  assert_int_equal(oci_parse_signal("RTMIN+30"), SIGRTMIN + 30);
  /* Offsets that wrap around an int must not land back in range. */
  assert_int_equal(oci_parse_signal("RTMIN+4294967296"), -1);
  assert_int_equal(oci_parse_signal("RTMIN+4294967299"), -1);
  assert_int_equal(oci_parse_signal("RTMAX-4294967296"), -1);
  assert_int_equal(oci_parse_signal("RTMIN+18446744073709551616"), -1);
  assert_int_equal(oci_parse_signal("RTMIN+31"), -1);
  assert_int_equal(oci_parse_signal("RTMIN++3"), -1);
  assert_int_equal(oci_parse_signal("RTMIN+ 3"), -1);
  assert_int_equal(oci_parse_signal("RTMIN-1"), -1);
  assert_int_equal(oci_parse_signal("65"), -1);
  assert_int_equal(oci_parse_signal("-1"), -1);
  assert_int_equal(oci_parse_signal("FOO"), -1);
  assert_int_equal(oci_parse_signal(""), -1);
}

/* An init that dies before reading what the parent sent (an OOM kill
 * right after GO) resets the connection instead of closing it: that too
 * is the init having died, which create then explains (OOM killer). */
static void test_sync_peer_died_unread(void **s) {
  int sv[2];
  oci_error e;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(oci_sync_send(sv[0], OCI_SYNC_GO, "state", 6, -1, &e), 0);
  close(sv[1]);
  struct oci_sync_msg m;
  assert_int_equal(oci_sync_recv(sv[0], &m, &e), -1);
  assert_int_equal(e.errnum, EPIPE);
  assert_non_null(strstr(e.msg, "exited unexpectedly"));
  close(sv[0]);
}

static void test_container_id_validate(void **s) {
  oci_error e;
  assert_int_equal(oci_container_id_validate("abc-1_2.x", &e), 0);
  assert_int_equal(oci_container_id_validate("", &e), -1);
  assert_non_null(strstr(e.msg, "empty"));
  assert_int_equal(oci_container_id_validate("a/b", &e), -1);
  assert_non_null(strstr(e.msg, "\"a/b\""));
  assert_int_equal(oci_container_id_validate("..", &e), -1);
  assert_int_equal(oci_container_id_validate("a\nb", &e), -1);
  char *long_id = oci_xmalloc0(OCI_CONTAINER_ID_MAX + 2);
  memset(long_id, 'a', OCI_CONTAINER_ID_MAX + 1);
  assert_int_equal(oci_container_id_validate(long_id, &e), -1);
  free(long_id);
}

static const char *minimal_config =
    "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
    "\"annotations\":{\"k\":\"v\"},"
    "\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"],\"user\":{\"uid\":0,\"gid\":0}}}";

static void test_state_save_load_and_status(void **s) {
  oci_error e;
  /* A root of its own: the other tests leave directories in tmpdir, and
   * list shows a directory without state.json whose lock is free (a dead
   * create's) as a container. */
  char *root = oci_xasprintf("%s/states", tmpdir);
  assert_int_equal(mkdir(root, 0700), 0);
  struct oci_context ctx = {.state_root = root};
  char *dir = NULL;
  assert_int_equal(oci_state_dir_create(&ctx, "c1", &dir, &e), 0);
  assert_int_equal(oci_state_dir_create(&ctx, "c1", &dir, &e), -1);
  assert_string_equal(e.msg, "container \"c1\" already exists");
  struct oci_state st = {.dir = dir, .id = "c1", .bundle = "/b", .rootfs = "/b/rootfs",
                         .pid = getpid(), .pid_start = oci_pid_start_time(getpid()),
                         .created = "2026-01-01T00:00:00Z", .owner = "root",
                         .config_json = (char *)minimal_config};
  assert_int_equal(oci_state_save(&st, &e), 0);
  struct oci_state *got = NULL;
  assert_int_equal(oci_state_load(&ctx, "c1", &got, &e), 0);
  assert_string_equal(got->bundle, "/b");
  assert_int_equal(got->pid, getpid());
  assert_string_equal(oci_config_annotation(got->config, "k"), "v");
  assert_string_equal(got->config_json, minimal_config);
  assert_string_equal(oci_state_status(got), "running");
  /* One file holds it all; the lock is the directory's. */
  char *cfile = oci_xasprintf("%s/config.json", dir);
  assert_int_equal(access(cfile, F_OK), -1);
  int lock = oci_state_lock(&ctx, "c1", &e);
  assert_true(lock >= 0);
  char *lfile = oci_xasprintf("%s/lock", dir);
  assert_int_equal(access(lfile, F_OK), -1);
  free(lfile);
  close(lock);
  assert_int_equal(oci_state_lock(&ctx, "nope", &e), -1);
  assert_int_equal(e.errnum, ENOENT);
  free(cfile);
  char *fifo = oci_xasprintf("%s/exec.fifo", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_string_equal(oci_state_status(got), "created");
  unlink(fifo);
  got->pid_start++; /* the pid now belongs to someone else */
  assert_string_equal(oci_state_status(got), "stopped");
  char *json = oci_state_spec_json(got, "stopped", false);
  assert_non_null(strstr(json, "\"pid\":0"));
  assert_non_null(strstr(json, "\"annotations\":{\"k\":\"v\"}"));
  free(json);
  oci_state_free(got);
  char **ids = NULL;
  size_t n = 0;
  assert_int_equal(oci_state_list_ids(&ctx, &ids, &n, &e), 0);
  assert_int_equal(n, 1);
  assert_string_equal(ids[0], "c1");
  oci_strv_free(ids);
  assert_int_equal(oci_state_load(&ctx, "nope", &got, &e), -1);
  assert_string_equal(e.msg, "container \"nope\" does not exist");
  assert_int_equal(oci_state_dir_remove(dir, &e), 0);
  assert_int_equal(access(dir, F_OK), -1);
  free(fifo);
  free(dir);
  free(root);
}

static void test_mountinfo_parse_and_mountpoint(void **s) {
  char text[] =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "30 22 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid master:9 shared:10 - cgroup cgroup rw,cpu,cpuacct\n"
      "31 22 0:27 /sub /mnt/a\\040b rw - tmpfs my\\011src rw,size=4k\n"
      "32 22 0:28 / /mnt/a\\040b rw - tmpfs over rw\n";
  struct oci_mountinfo_entry *m = NULL;
  size_t n = 0;
  oci_error e;
  assert_int_equal(oci_mountinfo_parse(text, &m, &n, &e), 0);
  assert_int_equal(n, 4);
  assert_string_equal(m[1].target, "/sys/fs/cgroup/cpu,cpuacct");
  assert_string_equal(m[1].fstype, "cgroup");
  assert_string_equal(m[1].super_opts, "rw,cpu,cpuacct");
  assert_string_equal(m[2].root, "/sub");
  assert_string_equal(m[2].target, "/mnt/a b");
  assert_string_equal(m[2].source, "my\tsrc");
  /* The last of two stacked mounts wins; a path falls back to its parents. */
  assert_ptr_equal(oci_mountinfo_mountpoint(m, n, "/mnt/a b/x/y"), &m[3]);
  assert_ptr_equal(oci_mountinfo_mountpoint(m, n, "/etc/passwd"), &m[0]);
  assert_ptr_equal(oci_mountinfo_mountpoint(m, n, "/"), &m[0]);
  assert_null(oci_mountinfo_mountpoint(m + 1, 1, "/etc"));
  free(m);
  char bad[] = "22 1 8:1 / / rw shared:1 ext4\n";
  assert_int_equal(oci_mountinfo_parse(bad, &m, &n, &e), -1);
  assert_string_equal(e.msg, "mountinfo: malformed line 1");
  assert_null(m);
}

static void test_owner_name_matches_getpwuid(void **s) {
  struct passwd *pw = getpwuid(geteuid());
  char *name = oci_state_owner_name();
  assert_string_equal(name, pw ? pw->pw_name : "#0");
  free(name);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_owner_name_matches_getpwuid),
      cmocka_unit_test(test_mountinfo_parse_and_mountpoint),
      cmocka_unit_test(test_error_set_appends_strerror),
      cmocka_unit_test(test_error_wrap_prepends_context),
      cmocka_unit_test(test_error_wrap_truncates_safely),
      cmocka_unit_test(test_parse_long),
      cmocka_unit_test(test_files_roundtrip_and_atomic),
      cmocka_unit_test(test_close_fds_from_marks_cloexec),
      cmocka_unit_test(test_pid_start_time_and_alive),
      cmocka_unit_test(test_proc_dir_outlives_its_process),
      cmocka_unit_test(test_proc_stat_with_odd_comm),
      cmocka_unit_test(test_sync_roundtrip_with_fd),
      cmocka_unit_test(test_sync_refuses_oversized_lengths),
      cmocka_unit_test(test_sync_pid_needs_a_whole_pid),
      cmocka_unit_test(test_parse_signal),
      cmocka_unit_test(test_sync_peer_died_unread),
      cmocka_unit_test(test_container_id_validate),
      cmocka_unit_test(test_state_save_load_and_status),
  };
  return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
