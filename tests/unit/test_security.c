/* Unit tests for libcontainer/caps.c and libcontainer/seccomp.c.
 *
 * Capabilities and seccomp filters change the calling process for good, so
 * every test that applies one does it in a forked child and reports back
 * through its exit status (0 = all checks passed; the child prints what
 * failed on stderr). Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include <cmocka.h>

#include "ocirun/caps.h"
#include "ocirun/container.h"
#include "ocirun/seccomp.h"

/* A path where mkdir can never succeed, so a broken filter leaves nothing. */
#define NO_MKDIR "/proc/ocirun-test-mkdir"

#define CHILD_CHECK(cond, ...)                                                   \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "child check failed at line %d: ", __LINE__);              \
      fprintf(stderr, __VA_ARGS__);                                              \
      fputc('\n', stderr);                                                       \
      _exit(1);                                                                  \
    }                                                                            \
  } while (0)

static void skip_unless_root(void) {
  if (geteuid() != 0) {
    print_message("needs root\n");
    skip();
  }
}

/* Run fn(arg) in a child; returns the raw wait status. */
static int run_child(void (*fn)(void *), void *arg) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(20);  /* never hang the test run */
    fn(arg);
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

static void assert_child_ok(int status) {
  if (WIFSIGNALED(status))
    fail_msg("child killed by signal %d", WTERMSIG(status));
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* "CapEff:\t0000000000000003" -> 3; "Seccomp:\t2" -> 2. */
static uint64_t status_field(const char *name, int base) {
  FILE *f = fopen("/proc/self/status", "re");
  CHILD_CHECK(f != NULL, "open /proc/self/status: %s", strerror(errno));
  char line[256];
  size_t n = strlen(name);
  uint64_t v = UINT64_MAX;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, name, n) == 0 && line[n] == ':')
      v = strtoull(line + n + 1, NULL, base);
  fclose(f);
  CHILD_CHECK(v != UINT64_MAX, "no %s in /proc/self/status", name);
  return v;
}

#define BIT(c) (UINT64_C(1) << (c))

/* ===================================================================== */
/* capabilities                                                           */
/* ===================================================================== */

#define CAPSET(...)                                                              \
  ((struct oci_cap_set){.present = true,                                         \
                        .names = (char *[]){__VA_ARGS__},                        \
                        .n = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

static void check_caps(uint64_t eff, uint64_t prm, uint64_t inh, uint64_t bnd, uint64_t amb) {
  uint64_t v;
  CHILD_CHECK((v = status_field("CapEff", 16)) == eff, "CapEff %#llx != %#llx",
              (unsigned long long)v, (unsigned long long)eff);
  CHILD_CHECK((v = status_field("CapPrm", 16)) == prm, "CapPrm %#llx != %#llx",
              (unsigned long long)v, (unsigned long long)prm);
  CHILD_CHECK((v = status_field("CapInh", 16)) == inh, "CapInh %#llx != %#llx",
              (unsigned long long)v, (unsigned long long)inh);
  CHILD_CHECK((v = status_field("CapBnd", 16)) == bnd, "CapBnd %#llx != %#llx",
              (unsigned long long)v, (unsigned long long)bnd);
  CHILD_CHECK((v = status_field("CapAmb", 16)) == amb, "CapAmb %#llx != %#llx",
              (unsigned long long)v, (unsigned long long)amb);
}

/* prepare -> setresuid(1000) -> finish, like the container init does. */
static void apply_caps_as_user(const struct oci_capabilities *caps) {
  oci_error err = {0};
  CHILD_CHECK(oci_caps_prepare(caps, &err) == 0, "prepare: %s", err.msg);
  CHILD_CHECK(setresgid(1000, 1000, 1000) == 0, "setresgid: %s", strerror(errno));
  CHILD_CHECK(setresuid(1000, 1000, 1000) == 0, "setresuid: %s", strerror(errno));
  CHILD_CHECK(oci_caps_finish(caps, &err) == 0, "finish: %s", err.msg);
  CHILD_CHECK(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 0, "KEEPCAPS still set");
}

static void child_caps_user(void *arg) {
  struct oci_capabilities caps = {
      .bounding = CAPSET("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"),
      .effective = CAPSET("CAP_CHOWN", "CAP_NET_BIND_SERVICE"),
      .permitted = CAPSET("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
      .inheritable = CAPSET("CAP_KILL", "CAP_NET_BIND_SERVICE"),
      .ambient = CAPSET("CAP_NET_BIND_SERVICE"),
  };
  apply_caps_as_user(&caps);
  /* CAP_CHOWN=0 CAP_KILL=5 CAP_NET_BIND_SERVICE=10 CAP_SYS_ADMIN=21 */
  check_caps(BIT(0) | BIT(10), BIT(0) | BIT(5) | BIT(10), BIT(5) | BIT(10),
             BIT(0) | BIT(5) | BIT(10) | BIT(21), BIT(10));
}

static void test_caps_applied_after_user_switch(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_caps_user, NULL));
}

/* No process.capabilities: runc gives the process nothing at all. */
static void child_caps_null(void *arg) {
  oci_error err = {0};
  CHILD_CHECK(oci_caps_prepare(NULL, &err) == 0, "prepare: %s", err.msg);
  CHILD_CHECK(oci_caps_finish(NULL, &err) == 0, "finish: %s", err.msg);
  check_caps(0, 0, 0, 0, 0);
  /* And root really lost its powers. */
  CHILD_CHECK(chown("/proc/self/fd", 1, 1) < 0 && errno == EPERM, "chown still allowed");
}

static void test_caps_null_drops_everything(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_caps_null, NULL));
}

/* As root with no user switch, absent sets are empty and the rest exact. */
static void child_caps_root(void *arg) {
  struct oci_capabilities caps = {
      .bounding = CAPSET("CAP_AUDIT_WRITE", "CAP_KILL"),
      .effective = CAPSET("CAP_KILL"),
      .permitted = CAPSET("CAP_AUDIT_WRITE", "CAP_KILL"),
  };
  oci_error err = {0};
  CHILD_CHECK(oci_caps_prepare(&caps, &err) == 0, "prepare: %s", err.msg);
  CHILD_CHECK(oci_caps_finish(&caps, &err) == 0, "finish: %s", err.msg);
  /* CAP_KILL=5 CAP_AUDIT_WRITE=29 */
  check_caps(BIT(5), BIT(5) | BIT(29), 0, BIT(5) | BIT(29), 0);
}

static void test_caps_root_absent_sets_empty(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_caps_root, NULL));
}

/* An ambient cap that is not inheritable cannot be raised: runc warns and
 * goes on, so do we; the ambient set stays empty. */
static void child_caps_ambient_not_inheritable(void *arg) {
  struct oci_capabilities caps = {
      .bounding = CAPSET("CAP_NET_RAW"),
      .effective = CAPSET("CAP_NET_RAW"),
      .permitted = CAPSET("CAP_NET_RAW"),
      .ambient = CAPSET("CAP_NET_RAW"),
  };
  apply_caps_as_user(&caps);
  check_caps(BIT(13), BIT(13), 0, BIT(13), 0);
}

static void test_caps_ambient_needs_inheritable(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_caps_ambient_not_inheritable, NULL));
}

/* Effective beyond permitted is a config error the kernel refuses. */
static void child_caps_effective_not_permitted(void *arg) {
  struct oci_capabilities caps = {
      .bounding = CAPSET("CAP_CHOWN"),
      .effective = CAPSET("CAP_CHOWN"),
  };
  oci_error err = {0};
  CHILD_CHECK(oci_caps_prepare(&caps, &err) == 0, "prepare: %s", err.msg);
  CHILD_CHECK(setresuid(1000, 1000, 1000) == 0, "setresuid");
  CHILD_CHECK(oci_caps_finish(&caps, &err) < 0, "finish succeeded");
  CHILD_CHECK(strstr(err.msg, "set effective/permitted/inheritable capabilities") != NULL,
              "message: %s", err.msg);
}

static void test_caps_effective_needs_permitted(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_caps_effective_not_permitted, NULL));
}

static void test_caps_validate(void **state) {
  oci_error err = {0};
  struct oci_capabilities ok = {
      .bounding = CAPSET("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE"),
      .ambient = CAPSET("CAP_NET_BIND_SERVICE"),
  };
  assert_int_equal(oci_caps_validate(&ok, "process.capabilities", &err), 0);
  assert_int_equal(oci_caps_validate(NULL, "process.capabilities", &err), 0);

  struct oci_capabilities bad = {
      .bounding = CAPSET("CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_FOO"),
  };
  assert_int_equal(oci_caps_validate(&bad, "process.capabilities", &err), -1);
  assert_string_equal(err.msg,
                      "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\"");

  /* libcap alone would take these; runc wants the canonical spelling. */
  struct oci_capabilities lower = {.effective = CAPSET("cap_chown")};
  assert_int_equal(oci_caps_validate(&lower, "process.capabilities", &err), -1);
  assert_non_null(strstr(err.msg, "process.capabilities.effective[0]: unknown capability "
                                  "\"cap_chown\""));
  struct oci_capabilities noprefix = {.ambient = CAPSET("CAP_KILL", "NET_ADMIN")};
  assert_int_equal(oci_caps_validate(&noprefix, "exec", &err), -1);
  assert_non_null(strstr(err.msg, "exec.ambient[1]: unknown capability \"NET_ADMIN\""));
  struct oci_capabilities number = {.permitted = CAPSET("12")};
  assert_int_equal(oci_caps_validate(&number, "p", &err), -1);
  assert_non_null(strstr(err.msg, "p.permitted[0]: unknown capability \"12\""));

  /* A set that is absent is not looked at. */
  struct oci_capabilities absent = {.inheritable = {.present = false}};
  assert_int_equal(oci_caps_validate(&absent, "p", &err), 0);
}

/* ===================================================================== */
/* seccomp                                                                */
/* ===================================================================== */

#define NAMES(...) .names = (char *[]){__VA_ARGS__}, .n_names = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)

static void load_or_die(const struct oci_seccomp *sc, int *notify_fd) {
  oci_error err = {0};
  struct oci_seccomp_filter *f = NULL;
  int fd = -1;
  CHILD_CHECK(oci_seccomp_prepare(sc, &f, &err) == 0, "prepare: %s", err.msg);
  CHILD_CHECK(oci_seccomp_load(f, &fd, &err) == 0, "load: %s", err.msg);
  oci_seccomp_filter_free(f);
  if (notify_fd != NULL)
    *notify_fd = fd;
  else
    CHILD_CHECK(fd == -1, "unexpected listener fd %d", fd);
}

static int prepare_error(const struct oci_seccomp *sc, oci_error *err) {
  struct oci_seccomp_filter *f = NULL;
  int ret = oci_seccomp_prepare(sc, &f, err);
  if (ret == 0)
    oci_seccomp_filter_free(f);
  return ret;
}

/* ---- ERRNO --------------------------------------------------------------- */

static void child_errno_default_eperm(void *arg) {
  struct oci_seccomp_syscall sys[] = {{NAMES("mkdir", "mkdirat"), .action = "SCMP_ACT_ERRNO"}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  CHILD_CHECK(status_field("Seccomp", 10) == 0, "already filtered");
  load_or_die(&sc, NULL);
  CHILD_CHECK(status_field("Seccomp", 10) == 2, "Seccomp is not 2 after load");
  /* libseccomp must not have turned no_new_privs on behind our back. */
  CHILD_CHECK(status_field("NoNewPrivs", 10) == 0, "NoNewPrivs was set");
  errno = 0;
  CHILD_CHECK(mkdir(NO_MKDIR, 0700) < 0 && errno == EPERM, "mkdir: %s", strerror(errno));
  CHILD_CHECK(mkdirat(AT_FDCWD, NO_MKDIR, 0700) < 0 && errno == EPERM, "mkdirat: %s",
              strerror(errno));
  /* Everything else still works. */
  CHILD_CHECK(getpid() > 0, "getpid");
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  CHILD_CHECK(fd >= 0, "open: %s", strerror(errno));
  close(fd);
}

static void test_seccomp_errno_default_eperm(void **state) {
  skip_unless_root();
  /* Without the filter the same mkdir fails with another errno, so the
   * EPERM check in the child really tells the filter worked. */
  assert_int_equal(mkdir(NO_MKDIR, 0700), -1);
  assert_int_not_equal(errno, EPERM);
  assert_child_ok(run_child(child_errno_default_eperm, NULL));
}

static void child_errno_custom(void *arg) {
  struct oci_seccomp_syscall sys[] = {
      {NAMES("mkdir", "mkdirat"), .action = "SCMP_ACT_ERRNO", .errno_ret = {true, EXDEV}},
      {NAMES("getppid"), .action = "SCMP_ACT_ERRNO", .errno_ret = {true, 0}},
  };
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 2};
  load_or_die(&sc, NULL);
  CHILD_CHECK(mkdir(NO_MKDIR, 0700) < 0 && errno == EXDEV, "mkdir: %s", strerror(errno));
  /* errnoRet 0: the syscall "succeeds" with 0 and never runs. */
  CHILD_CHECK(syscall(SYS_getppid) == 0, "getppid was not faked to 0");
}

static void test_seccomp_errno_custom(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_errno_custom, NULL));
}

/* What a forked test child needs between loading an allow list and
 * exiting (sigaltstack: the ASan runtime's, before _exit, in check-asan);
 * newfstatat (262 on x86_64) is its highest system call. */
#define ALLOW_LIST_NAMES                                                             \
  NAMES("exit_group", "exit", "write", "read", "close", "brk", "mmap", "munmap",        \
        "rt_sigreturn", "rt_sigprocmask", "futex", "fstat", "newfstatat", "openat",     \
        "lseek", "getpid", "fcntl", "sigaltstack")

/* An allow list with defaultAction ERRNO and defaultErrnoRet. */
static void child_default_errno_ret(void *arg) {
  struct oci_seccomp_syscall sys[] = {{
      ALLOW_LIST_NAMES,
      .action = "SCMP_ACT_ALLOW",
  }};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ERRNO",
                           .default_errno_ret = {true, ENOMEDIUM},
                           .syscalls = sys,
                           .n_syscalls = 1};
  load_or_die(&sc, NULL);
  errno = 0;
  CHILD_CHECK(syscall(SYS_getppid) == -1 && errno == ENOMEDIUM, "getppid: %s", strerror(errno));
  CHILD_CHECK(syscall(SYS_getpid) == getpid(), "getpid");
}

static void test_seccomp_default_errno_ret(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_default_errno_ret, NULL));
}

/* ---- ENOSYS for system calls newer than the profile ---------------------- */

/* An allow list whose highest system call is newfstatat (262 on x86_64):
 * one it does not name below that gets the default action, any above it
 * ENOSYS, so that libc falls back to the older call (clone3 -> clone). */
static void child_enosys_above_last(void *arg) {
  struct oci_seccomp_syscall sys[] = {{
      ALLOW_LIST_NAMES,
      .action = "SCMP_ACT_ALLOW",
  }};
  struct oci_seccomp sc = {.default_action = arg, .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  errno = 0;
  CHILD_CHECK(syscall(SYS_getppid) == -1 && errno == EPERM, "getppid: %s", strerror(errno));
  errno = 0;
  CHILD_CHECK(syscall(SYS_close_range, 100, 200, 0) == -1 && errno == ENOSYS,
              "close_range: %s", strerror(errno));
  errno = 0;
  CHILD_CHECK(syscall(1000) == -1 && errno == ENOSYS, "syscall 1000: %s", strerror(errno));
  CHILD_CHECK(syscall(SYS_getpid) == getpid(), "getpid");
}

static void test_seccomp_enosys_above_last(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_enosys_above_last, "SCMP_ACT_ERRNO"));
}

/* Not for a default that lets calls through: close_range really runs. */
static void child_no_enosys_when_allowed(void *arg) {
  struct oci_seccomp_syscall sys[] = {{NAMES("mkdir"), .action = "SCMP_ACT_ERRNO"}};
  struct oci_seccomp sc = {.default_action = arg, .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  CHILD_CHECK(syscall(SYS_close_range, 100, 200, 0) == 0, "close_range: %s", strerror(errno));
  CHILD_CHECK(mkdir(NO_MKDIR, 0700) < 0 && errno == EPERM, "mkdir: %s", strerror(errno));
}

static void test_seccomp_no_enosys_when_allowed(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_no_enosys_when_allowed, "SCMP_ACT_ALLOW"));
  assert_child_ok(run_child(child_no_enosys_when_allowed, "SCMP_ACT_LOG"));
}

/* ---- KILL, TRAP, LOG ----------------------------------------------------- */

static void child_getppid_action(void *arg) {
  struct oci_seccomp_syscall sys[] = {{NAMES("getppid"), .action = arg}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  syscall(SYS_getppid);
}

static void test_seccomp_kill_actions(void **state) {
  skip_unless_root();
  const char *kills[] = {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL"};
  for (size_t i = 0; i < 3; i++) {
    int status = run_child(child_getppid_action, (void *)kills[i]);
    if (!WIFSIGNALED(status))
      fail_msg("%s: child was not killed (exit %d)", kills[i], WEXITSTATUS(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
  }
}

static volatile sig_atomic_t trapped_nr = -1;

static void on_sigsys(int sig, siginfo_t *si, void *ctx) { trapped_nr = si->si_syscall; }

static void child_trap(void *arg) {
  struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
  CHILD_CHECK(sigaction(SIGSYS, &sa, NULL) == 0, "sigaction");
  struct oci_seccomp_syscall sys[] = {{NAMES("getppid"), .action = "SCMP_ACT_TRAP"}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  syscall(SYS_getppid);
  CHILD_CHECK(trapped_nr == SYS_getppid, "SIGSYS not delivered for getppid (%d)",
              (int)trapped_nr);
}

static void test_seccomp_trap(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_trap, NULL));
}

static void child_log(void *arg) {
  pid_t ppid = getppid();
  struct oci_seccomp_syscall sys[] = {{NAMES("getppid"), .action = "SCMP_ACT_LOG"}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  CHILD_CHECK(syscall(SYS_getppid) == ppid, "getppid not allowed under LOG");
  CHILD_CHECK(status_field("Seccomp", 10) == 2, "no filter");
}

static void test_seccomp_log(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_log, NULL));
}

/* ---- args ---------------------------------------------------------------- */

static int try_dup2(int oldfd, int newfd) {
  int r = (int)syscall(SYS_dup2, oldfd, newfd);
  int e = errno;
  if (r >= 0)
    close(r);
  return r < 0 ? e : 0;
}

/* One entry, two different indexes: both must match (AND). */
static void child_args_and(void *arg) {
  struct oci_seccomp_arg args[] = {
      {.index = 0, .value = 0, .op = "SCMP_CMP_EQ"},
      {.index = 1, .value = 100, .op = "SCMP_CMP_EQ"},
  };
  struct oci_seccomp_syscall sys[] = {{NAMES("dup2"), .action = "SCMP_ACT_ERRNO",
                                       .errno_ret = {true, EXDEV}, .args = args, .n_args = 2}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  CHILD_CHECK(try_dup2(0, 100) == EXDEV, "dup2(0, 100) not denied");
  CHILD_CHECK(try_dup2(1, 100) == 0, "dup2(1, 100) denied");
  CHILD_CHECK(try_dup2(0, 101) == 0, "dup2(0, 101) denied");
}

/* The same index twice: runc adds one rule per arg, any one matches (OR). */
static void child_args_same_index(void *arg) {
  struct oci_seccomp_arg args[] = {
      {.index = 1, .value = 100, .op = "SCMP_CMP_EQ"},
      {.index = 1, .value = 101, .op = "SCMP_CMP_EQ"},
  };
  struct oci_seccomp_syscall sys[] = {{NAMES("dup2"), .action = "SCMP_ACT_ERRNO",
                                       .errno_ret = {true, EXDEV}, .args = args, .n_args = 2}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  load_or_die(&sc, NULL);
  CHILD_CHECK(try_dup2(0, 100) == EXDEV, "dup2(0, 100) not denied");
  CHILD_CHECK(try_dup2(0, 101) == EXDEV, "dup2(0, 101) not denied");
  CHILD_CHECK(try_dup2(0, 102) == 0, "dup2(0, 102) denied");
}

/* MASKED_EQ: (arg & value) == valueTwo; plus the ordering operators. */
static void child_args_ops(void *arg) {
  struct oci_seccomp_arg masked[] = {
      {.index = 0, .value = 0077, .value_two = {true, 0077}, .op = "SCMP_CMP_MASKED_EQ"}};
  struct oci_seccomp_arg gt[] = {{.index = 1, .value = 200, .op = "SCMP_CMP_GT"}};
  struct oci_seccomp_arg ne[] = {{.index = 1, .value = SIGCONT, .op = "SCMP_CMP_NE"},
                                 {.index = 0, .value = 0, .op = "SCMP_CMP_LE"}};
  struct oci_seccomp_syscall sys[] = {
      {NAMES("umask"), .action = "SCMP_ACT_ERRNO", .errno_ret = {true, EXDEV},
       .args = masked, .n_args = 1},
      {NAMES("dup2"), .action = "SCMP_ACT_ERRNO", .errno_ret = {true, ENOTTY},
       .args = gt, .n_args = 1},
      /* kill(pid <= 0, sig != SIGCONT) refused */
      {NAMES("kill"), .action = "SCMP_ACT_ERRNO", .errno_ret = {true, ENOSTR},
       .args = ne, .n_args = 2},
  };
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 3};
  load_or_die(&sc, NULL);
  CHILD_CHECK(syscall(SYS_umask, 0077) == -1 && errno == EXDEV, "umask(077) not denied");
  CHILD_CHECK(syscall(SYS_umask, 0777) == -1 && errno == EXDEV, "umask(777) not denied");
  CHILD_CHECK(syscall(SYS_umask, 0022) >= 0, "umask(022) denied");
  CHILD_CHECK(try_dup2(0, 201) == ENOTTY, "dup2(0, 201) not denied");
  CHILD_CHECK(try_dup2(0, 200) == 0, "dup2(0, 200) denied");
  CHILD_CHECK(syscall(SYS_kill, 0, 0) == -1 && errno == ENOSTR, "kill(0, 0) not denied");
  CHILD_CHECK(syscall(SYS_kill, 0, SIGCONT) == 0, "kill(0, SIGCONT) denied");
  CHILD_CHECK(syscall(SYS_kill, getpid(), 0) == 0, "kill(self, 0) denied");
}

static void test_seccomp_args(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_args_and, NULL));
  assert_child_ok(run_child(child_args_same_index, NULL));
  assert_child_ok(run_child(child_args_ops, NULL));
}

/* ---- profile details ------------------------------------------------------ */

/* Unknown names skipped, rules equal to the default skipped, every flag
 * libseccomp takes, and the usual Docker architecture triple plus one
 * libseccomp 2.5 does not know. */
static void child_profile_tolerance(void *arg) {
  struct oci_seccomp_syscall sys[] = {
      {NAMES("no_such_syscall_xyz", "mkdir", "mkdirat"), .action = "SCMP_ACT_ERRNO"},
      {NAMES("getpid", "getppid"), .action = "SCMP_ACT_ALLOW"},
      {NAMES("dup2"), .action = "SCMP_ACT_ERRNO", .errno_ret = {true, EPERM}},
  };
  struct oci_seccomp sc = {
      .default_action = "SCMP_ACT_ALLOW",
      .architectures = (char *[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                  "SCMP_ARCH_LOONGARCH64"},
      .n_architectures = 4,
      .flags = (char *[]){"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                          "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
      .n_flags = 3,
      .syscalls = sys,
      .n_syscalls = 3,
  };
  load_or_die(&sc, NULL);
  CHILD_CHECK(mkdir(NO_MKDIR, 0700) < 0 && errno == EPERM, "mkdir: %s", strerror(errno));
  CHILD_CHECK(try_dup2(0, 100) == EPERM, "dup2 not denied");
  CHILD_CHECK(getppid() > 0, "getppid");
}

static void test_seccomp_profile_tolerance(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_profile_tolerance, NULL));
}

/* Non-root needs no_new_privs to load a filter; with it, it works. */
static void child_nnp_user(void *arg) {
  bool nnp = arg != NULL;
  struct oci_seccomp_syscall sys[] = {{NAMES("mkdir", "mkdirat"), .action = "SCMP_ACT_ERRNO"}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 1};
  if (nnp)
    CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "set nnp");
  CHILD_CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0,
              "drop to nobody");
  if (nnp) {
    load_or_die(&sc, NULL);
    CHILD_CHECK(mkdir(NO_MKDIR, 0700) < 0 && errno == EPERM, "mkdir: %s", strerror(errno));
    return;
  }
  oci_error err = {0};
  struct oci_seccomp_filter *f = NULL;
  int fd;
  CHILD_CHECK(oci_seccomp_prepare(&sc, &f, &err) == 0, "prepare: %s", err.msg);
  CHILD_CHECK(oci_seccomp_load(f, &fd, &err) < 0, "load without nnp/CAP_SYS_ADMIN worked");
  CHILD_CHECK(err.errnum == EACCES && strstr(err.msg, "seccomp: load the filter"),
              "message: %s", err.msg);
  oci_seccomp_filter_free(f);
}

static void test_seccomp_no_new_privs_user(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_nnp_user, (void *)1));
  assert_child_ok(run_child(child_nnp_user, NULL));
}

static void expect_prepare_error(const struct oci_seccomp *sc, const char *msg) {
  oci_error err = {0};
  assert_int_equal(prepare_error(sc, &err), -1);
  if (strstr(err.msg, msg) == NULL)
    fail_msg("error \"%s\" does not contain \"%s\"", err.msg, msg);
}

static void test_seccomp_errors(void **state) {
  struct oci_seccomp_syscall sys[] = {
      {NAMES("getpid"), .action = "SCMP_ACT_ERRNO"},
      {NAMES("getppid"), .action = "SCMP_ACT_LOG"},
      {NAMES("mkdir"), .action = "SCMP_ACT_FOO"},
  };
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW", .syscalls = sys, .n_syscalls = 3};
  expect_prepare_error(&sc, "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");

  struct oci_seccomp bad_default = {.default_action = "SCMP_ACT_NOPE"};
  expect_prepare_error(&bad_default,
                       "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");

  struct oci_seccomp bad_arch = {.default_action = "SCMP_ACT_ALLOW",
                                 .architectures = (char *[]){"SCMP_ARCH_FOO"},
                                 .n_architectures = 1};
  expect_prepare_error(&bad_arch,
                       "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_FOO\"");
  bad_arch.architectures = (char *[]){"SCMP_ARCH_X86_64", "x86"};
  bad_arch.n_architectures = 2;
  expect_prepare_error(&bad_arch, "linux.seccomp.architectures[1]: unknown architecture \"x86\"");

  struct oci_seccomp bad_flag = {.default_action = "SCMP_ACT_ALLOW",
                                 .flags = (char *[]){"SECCOMP_FILTER_FLAG_LOG", "FLAG_BAR"},
                                 .n_flags = 2};
  expect_prepare_error(&bad_flag, "linux.seccomp.flags[1]: unknown flag \"FLAG_BAR\"");

  struct oci_seccomp_arg bad_op_args[] = {{.index = 0, .value = 1, .op = "SCMP_CMP_EQ"},
                                          {.index = 1, .value = 1, .op = "SCMP_CMP_FOO"}};
  struct oci_seccomp_syscall bad_op_sys[] = {
      {NAMES("kill"), .action = "SCMP_ACT_ERRNO", .args = bad_op_args, .n_args = 2}};
  struct oci_seccomp bad_op = {.default_action = "SCMP_ACT_ALLOW", .syscalls = bad_op_sys,
                               .n_syscalls = 1};
  expect_prepare_error(&bad_op,
                       "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_FOO\"");
  bad_op_args[1] = (struct oci_seccomp_arg){.index = 6, .value = 1, .op = "SCMP_CMP_EQ"};
  expect_prepare_error(&bad_op, "linux.seccomp.syscalls[0].args[1].index: 6 is out of range");

  /* The spec: an errno for an action that takes none is an error. */
  struct oci_seccomp_syscall errno_allow[] = {
      {NAMES("getpid"), .action = "SCMP_ACT_ALLOW", .errno_ret = {true, 1}}};
  struct oci_seccomp e1 = {.default_action = "SCMP_ACT_ERRNO", .syscalls = errno_allow,
                           .n_syscalls = 1};
  expect_prepare_error(&e1, "linux.seccomp.syscalls[0].errnoRet: not supported with action "
                            "\"SCMP_ACT_ALLOW\"");
  struct oci_seccomp e2 = {.default_action = "SCMP_ACT_KILL", .default_errno_ret = {true, 1}};
  expect_prepare_error(&e2, "linux.seccomp.defaultErrnoRet: not supported with action "
                            "\"SCMP_ACT_KILL\"");

  struct oci_seccomp_syscall notify[] = {{NAMES("mkdir"), .action = "SCMP_ACT_NOTIFY"}};
  struct oci_seccomp no_listener = {.default_action = "SCMP_ACT_ALLOW", .syscalls = notify,
                                    .n_syscalls = 1};
  expect_prepare_error(&no_listener, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs "
                                     "linux.seccomp.listenerPath");
  struct oci_seccomp meta = {.default_action = "SCMP_ACT_ALLOW", .listener_metadata = "x"};
  expect_prepare_error(&meta, "linux.seccomp.listenerMetadata: set without listenerPath");
  struct oci_seccomp notify_default = {.default_action = "SCMP_ACT_NOTIFY"};
  expect_prepare_error(&notify_default, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY");
}

/* ---- NOTIFY and the seccomp agent ---------------------------------------- */

struct notify_test {
  char dir[64];
  char sock_path[128];
  bool wait_killable;
};

static const char state_json[] =
    "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":1,"
    "\"bundle\":\"/b\"}";

/* The container side: load, hand the fd to the agent, then make the
 * notified syscall and see the agent's answer. */
static void child_notify(void *arg) {
  struct notify_test *t = arg;
  struct oci_seccomp_syscall sys[] = {{NAMES("mkdir", "mkdirat"), .action = "SCMP_ACT_NOTIFY"}};
  char *flags[] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW",
                           .listener_path = t->sock_path,
                           .listener_metadata = "MKNOD=/dev/null",
                           .flags = flags,
                           .n_flags = t->wait_killable ? 1 : 0,
                           .syscalls = sys,
                           .n_syscalls = 1};
  int fd = -1;
  oci_error err = {0};
  load_or_die(&sc, &fd);
  CHILD_CHECK(fd >= 0, "no listener fd");
  CHILD_CHECK(oci_seccomp_send_listener(&sc, fd, getpid(), state_json, &err) == 0,
              "send_listener: %s", err.msg);
  close(fd);
  errno = 0;
  CHILD_CHECK(mkdir(NO_MKDIR, 0700) == -1 && errno == ENOMEDIUM,
              "mkdir did not get the agent's answer: %s", strerror(errno));
}

/* Receive the JSON and the fd the way a seccomp agent does. */
static int agent_receive(int lsock, char *buf, size_t size, int *fd) {
  struct pollfd p = {.fd = lsock, .events = POLLIN};
  if (poll(&p, 1, 10000) != 1)
    return -1;
  int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -1;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof(control.buf)};
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
  *fd = -1;
  if (c != NULL && c->cmsg_type == SCM_RIGHTS)
    memcpy(fd, CMSG_DATA(c), sizeof(int));
  size_t total = n > 0 ? (size_t)n : 0;
  while (n > 0 && total < size - 1 && (n = read(conn, buf + total, size - 1 - total)) > 0)
    total += (size_t)n;
  buf[total] = '\0';
  close(conn);
  return *fd >= 0 ? 0 : -1;
}

static const char *json_str(yajl_val root, const char **path) {
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : "(missing)";
}

static void check_process_state(const char *json, pid_t child) {
  char errbuf[256];
  yajl_val root = yajl_tree_parse(json, errbuf, sizeof(errbuf));
  if (root == NULL)
    fail_msg("agent got bad JSON (%s): %s", errbuf, json);
  assert_string_equal(json_str(root, (const char *[]){"ociVersion", NULL}), OCI_SPEC_VERSION);
  assert_string_equal(json_str(root, (const char *[]){"metadata", NULL}), "MKNOD=/dev/null");
  assert_string_equal(json_str(root, (const char *[]){"state", "id", NULL}), "c1");
  assert_string_equal(json_str(root, (const char *[]){"state", "status", NULL}), "creating");
  yajl_val pid = yajl_tree_get(root, (const char *[]){"pid", NULL}, yajl_t_number);
  assert_non_null(pid);
  assert_int_equal(YAJL_GET_INTEGER(pid), child);
  yajl_val fds = yajl_tree_get(root, (const char *[]){"fds", NULL}, yajl_t_array);
  assert_non_null(fds);
  assert_int_equal(YAJL_GET_ARRAY(fds)->len, 1);
  assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(fds)->values[0]), "seccompFd");
  yajl_tree_free(root);
}

/* Answer one notification: the notified mkdir returns ENOMEDIUM. */
static int agent_answer(int fd, int *nr) {
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  if (seccomp_notify_alloc(&req, &resp) < 0)
    return -1;
  int ret = seccomp_notify_receive(fd, req);
  if (ret == 0) {
    *nr = req->data.nr;
    resp->id = req->id;
    resp->error = -ENOMEDIUM;
    resp->val = 0;
    resp->flags = 0;
    ret = seccomp_notify_respond(fd, resp);
  }
  seccomp_notify_free(req, resp);
  return ret;
}

static void run_notify_test(bool wait_killable) {
  struct notify_test t = {.wait_killable = wait_killable};
  strcpy(t.dir, "/tmp/ocirun-test-seccomp-XXXXXX");
  assert_non_null(mkdtemp(t.dir));
  snprintf(t.sock_path, sizeof(t.sock_path), "%s/agent.sock", t.dir);
  int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, t.sock_path);
  int bound = bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(lsock, 1) == 0;

  pid_t pid = bound ? fork() : -1;
  if (pid == 0) {
    close(lsock);
    alarm(20);
    child_notify(&t);
    _exit(0);
  }
  char json[4096] = "";
  int fd = -1, nr = -1, received = -1, answered = -1, status = 0;
  if (pid > 0) {
    received = agent_receive(lsock, json, sizeof(json), &fd);
    answered = received == 0 ? agent_answer(fd, &nr) : -1;
    if (answered != 0)
      kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  /* Clean up before asserting, so a failure leaves nothing behind. */
  if (fd >= 0)
    close(fd);
  close(lsock);
  unlink(t.sock_path);
  rmdir(t.dir);

  assert_true(bound);
  assert_true(pid > 0);
  assert_int_equal(received, 0);
  check_process_state(json, pid);
  assert_int_equal(answered, 0);
  assert_true(nr == SYS_mkdir || nr == SYS_mkdirat);
  assert_child_ok(status);
}

static void test_seccomp_notify(void **state) {
  skip_unless_root();
  run_notify_test(false);
}

/* WAIT_KILLABLE_RECV goes through our own seccomp(2) call. */
static void test_seccomp_notify_wait_killable(void **state) {
  skip_unless_root();
  run_notify_test(true);
}

/* Without a NOTIFY rule WAIT_KILLABLE_RECV is ignored (the kernel would
 * refuse it without a listener) and no fd is returned. */
static void child_wait_killable_without_notify(void *arg) {
  struct oci_seccomp_syscall sys[] = {{NAMES("mkdir", "mkdirat"), .action = "SCMP_ACT_ERRNO"}};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW",
                           .flags = (char *[]){"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
                           .n_flags = 1,
                           .syscalls = sys,
                           .n_syscalls = 1};
  load_or_die(&sc, NULL);
  CHILD_CHECK(mkdir(NO_MKDIR, 0700) < 0 && errno == EPERM, "mkdir: %s", strerror(errno));
}

static void test_seccomp_wait_killable_without_notify(void **state) {
  skip_unless_root();
  assert_child_ok(run_child(child_wait_killable_without_notify, NULL));
}

static void test_seccomp_send_listener_errors(void **state) {
  oci_error err = {0};
  struct oci_seccomp sc = {.default_action = "SCMP_ACT_ALLOW",
                           .listener_path = "/nonexistent/ocirun-agent.sock"};
  assert_int_equal(oci_seccomp_send_listener(&sc, 0, 1, state_json, &err), -1);
  assert_non_null(
      strstr(err.msg, "linux.seccomp.listenerPath \"/nonexistent/ocirun-agent.sock\": connect"));
  assert_int_equal(err.errnum, ENOENT);
  /* longer than sun_path: still connected through its directory */
  char longp[200];
  snprintf(longp, sizeof(longp), "/nonexistent/%0150d/agent.sock", 0);
  sc.listener_path = longp;
  assert_int_equal(oci_seccomp_send_listener(&sc, 0, 1, state_json, &err), -1);
  assert_int_equal(err.errnum, ENOENT); /* not ENAMETOOLONG */
  sc.listener_path = "/nonexistent/ocirun-agent.sock";
  assert_int_equal(oci_seccomp_send_listener(&sc, 0, 1, "not json", &err), -1);
  sc.listener_path = NULL;
  assert_int_equal(oci_seccomp_send_listener(&sc, 0, 1, state_json, &err), -1);
  assert_non_null(strstr(err.msg, "linux.seccomp.listenerPath"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_caps_validate),
      cmocka_unit_test(test_caps_applied_after_user_switch),
      cmocka_unit_test(test_caps_null_drops_everything),
      cmocka_unit_test(test_caps_root_absent_sets_empty),
      cmocka_unit_test(test_caps_ambient_needs_inheritable),
      cmocka_unit_test(test_caps_effective_needs_permitted),
      cmocka_unit_test(test_seccomp_errno_default_eperm),
      cmocka_unit_test(test_seccomp_errno_custom),
      cmocka_unit_test(test_seccomp_default_errno_ret),
      cmocka_unit_test(test_seccomp_kill_actions),
      cmocka_unit_test(test_seccomp_trap),
      cmocka_unit_test(test_seccomp_log),
      cmocka_unit_test(test_seccomp_args),
      cmocka_unit_test(test_seccomp_profile_tolerance),
      cmocka_unit_test(test_seccomp_no_new_privs_user),
      cmocka_unit_test(test_seccomp_enosys_above_last),
      cmocka_unit_test(test_seccomp_no_enosys_when_allowed),
      cmocka_unit_test(test_seccomp_errors),
      cmocka_unit_test(test_seccomp_notify),
      cmocka_unit_test(test_seccomp_notify_wait_killable),
      cmocka_unit_test(test_seccomp_wait_killable_without_notify),
      cmocka_unit_test(test_seccomp_send_listener_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
