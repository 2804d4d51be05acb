/* Unit tests for libcontainer/cgroup*.c: the pure parts (mode, paths,
 * conversions, save/load, the BPF generator) and, on this host, a real
 * cgroup: create, apply, enter, freeze, stats, OOM, mount, destroy.
 * Everything created is removed in the teardown, even when a check fails. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../libcontainer/cgroup-internal.h"
#include "ocirun/utils.h"

/* ---- pure functions ------------------------------------------------------ */

static void test_mode_from_magic(void **state) {
  (void)state;
  assert_int_equal(oci_cg_mode_from_magic(CGROUP2_SUPER_MAGIC, false), OCI_CGROUP_V2);
  assert_int_equal(oci_cg_mode_from_magic(TMPFS_MAGIC, true), OCI_CGROUP_HYBRID);
  assert_int_equal(oci_cg_mode_from_magic(TMPFS_MAGIC, false), OCI_CGROUP_V1);
  enum oci_cgroup_mode m;
  oci_error err = {0};
  assert_int_equal(oci_cgroup_mode(&m, &err), 0);
}

static const char *PROC_TEXT =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/bfa756e6\n"
    "2:cpu,cpuacct:/a:b\n"
    "0::/\n";

static void test_parse_proc_cgroup(void **state) {
  (void)state;
  struct cg_proc_entry *e = NULL;
  size_t n = 0;
  oci_error err = {0};
  assert_int_equal(oci_cg_parse_proc_cgroup(PROC_TEXT, &e, &n, &err), 0);
  assert_int_equal(n, 5);
  assert_int_equal(e[0].id, 9);
  assert_string_equal(e[0].controllers, "name=systemd");
  assert_string_equal(e[2].controllers, "memory");
  assert_string_equal(e[2].path, "/process_api/bfa756e6");
  assert_string_equal(e[3].controllers, "cpu,cpuacct");
  assert_string_equal(e[3].path, "/a:b"); /* ':' inside a path is kept */
  assert_int_equal(e[4].id, 0);
  assert_string_equal(e[4].controllers, "");
  assert_string_equal(e[4].path, "/");
  oci_cg_proc_entries_free(e, n);

  assert_int_equal(oci_cg_parse_proc_cgroup("4:memory\n", &e, &n, &err), -1);
  assert_non_null(strstr(err.msg, "cannot parse line \"4:memory\""));
}

static void check_resolve(const char *own, const char *path, const char *want) {
  char *got = oci_cg_resolve_path(own, path, "c1");
  assert_string_equal(got, want);
  free(got);
}

static void test_resolve_path(void **state) {
  (void)state;
  /* relative: below the caller's own cgroup in that hierarchy */
  check_resolve("/process_api/bfa7", "ocirun-test", "/process_api/bfa7/ocirun-test");
  check_resolve("/", "a/b", "/a/b");
  check_resolve("/x", "a/../../../b", "/x/b"); /* cannot climb above the caller */
  /* absolute: as given (cleaned) */
  check_resolve("/process_api/bfa7", "/machine/c1", "/machine/c1");
  check_resolve("/x", "//m/./c1/", "/m/c1");
  check_resolve("/x", "/../../c", "/c");
  /* unset: <caller>/<id>, runc's name */
  check_resolve("/process_api/bfa7", NULL, "/process_api/bfa7/c1");
  check_resolve("/", "", "/c1");
  char *c = oci_cg_clean_path("/");
  assert_string_equal(c, "/");
  free(c);
}

static void test_conversions(void **state) {
  (void)state;
  assert_int_equal(oci_cg_shares_to_weight(2), 1);
  assert_int_equal(oci_cg_shares_to_weight(1024), 39);
  assert_int_equal(oci_cg_shares_to_weight(262144), 10000);
  assert_int_equal(oci_cg_shares_to_weight(0), 0);
  assert_int_equal(oci_cg_blkio_to_io_weight(10), 1);
  assert_int_equal(oci_cg_blkio_to_io_weight(500), 4950);
  assert_int_equal(oci_cg_blkio_to_io_weight(1000), 10000);
  int64_t v;
  oci_error err = {0};
  assert_int_equal(oci_cg_swap_to_v2(200, 100, &v, &err), 0);
  assert_int_equal(v, 100);
  assert_int_equal(oci_cg_swap_to_v2(-1, 100, &v, &err), 0);
  assert_int_equal(v, -1);
  assert_int_equal(oci_cg_swap_to_v2(50, 100, &v, &err), -1);
  assert_non_null(strstr(err.msg, "linux.resources.memory.swap"));
  assert_int_equal(oci_cg_swap_to_v2(100, -1, &v, &err), -1);
}

static void test_save_load_roundtrip(void **state) {
  (void)state;
  const char *saved =
      "{\"mode\":\"hybrid\",\"v1\":[{\"controllers\":\"cpu,cpuacct\",\"mount\":"
      "\"/sys/fs/cgroup/cpu,cpuacct\",\"path\":\"/a\",\"dir\":\"/sys/fs/cgroup/cpu,cpuacct/a\"}],"
      "\"v2\":{\"controllers\":\"\",\"mount\":\"/sys/fs/cgroup/unified\",\"path\":\"/a\","
      "\"dir\":\"/sys/fs/cgroup/unified/a\"}}";
  struct oci_cgroup *cg = NULL;
  oci_error err = {0};
  assert_int_equal(oci_cgroup_load(saved, &cg, &err), 0);
  assert_int_equal(cg->mode, OCI_CGROUP_HYBRID);
  assert_int_equal(cg->n_v1, 1);
  assert_string_equal(cg->v1[0].dir, "/sys/fs/cgroup/cpu,cpuacct/a");
  assert_string_equal(cg->v2->dir, "/sys/fs/cgroup/unified/a");
  char *again = oci_cgroup_save(cg);
  assert_string_equal(again, saved);
  free(again);
  oci_cgroup_free(cg);

  assert_int_equal(oci_cgroup_load("{\"mode\":\"v3\"}", &cg, &err), -1);
  assert_non_null(strstr(err.msg, "bad mode \"v3\""));
  assert_int_equal(oci_cgroup_load("not json", &cg, &err), -1);
}

/* Run a device program on one request, as the kernel would: only the few
 * instructions the generator emits are known; any other fails the test. */
static int64_t bpf_run(const struct bpf_insn *insns, size_t n, const struct bpf_cgroup_dev_ctx *ctx) {
  uint64_t r[11] = {0};
  for (size_t pc = 0; pc < n; pc++) {
    const struct bpf_insn *i = &insns[pc];
    uint64_t *dst = &r[i->dst_reg];
    switch (i->code) {
    case BPF_LDX | BPF_MEM | BPF_W:
      assert_int_equal(i->src_reg, 1); /* r1 holds the context */
      assert_true(i->off >= 0 && (size_t)i->off + 4 <= sizeof(*ctx));
      uint32_t w;
      memcpy(&w, (const char *)ctx + i->off, sizeof(w));
      *dst = w;
      break;
    case BPF_ALU64 | BPF_MOV | BPF_X: *dst = r[i->src_reg]; break;
    case BPF_ALU64 | BPF_MOV | BPF_K: *dst = (uint64_t)(int64_t)i->imm; break;
    case BPF_ALU | BPF_AND | BPF_K: *dst = (uint32_t)(*dst & (uint32_t)i->imm); break;
    case BPF_ALU | BPF_RSH | BPF_K: *dst = (uint32_t)*dst >> i->imm; break;
    case BPF_JMP | BPF_JNE | BPF_K: pc += *dst != (uint64_t)(int64_t)i->imm ? i->off : 0; break;
    case BPF_JMP | BPF_JEQ | BPF_K: pc += *dst == (uint64_t)(int64_t)i->imm ? i->off : 0; break;
    case BPF_JMP | BPF_JA: pc += i->off; break;
    case BPF_JMP | BPF_EXIT: return (int64_t)r[0];
    default: fail_msg("instruction %zu: unexpected opcode 0x%x", pc, i->code);
    }
  }
  fail_msg("the program ran off its end");
  return -1;
}

static int64_t bpf_verdict(const struct bpf_insn *insns, size_t n, int type, int access,
                           uint32_t major, uint32_t minor) {
  struct bpf_cgroup_dev_ctx ctx = {.access_type = (uint32_t)(access << 16 | type),
                                   .major = major, .minor = minor};
  return bpf_run(insns, n, &ctx);
}

static void test_bpf_build(void **state) {
  (void)state;
  struct oci_device_rule rules[] = {
      {.allow = false, .type = 'a', .access = (char *)"rwm"},
      {.allow = true, .type = 'c', .major = {true, 1}, .minor = {true, 3}, .access = (char *)"rw"},
      {.allow = true, .type = 'c', .major = {true, 1}, .minor = {false, 0}, .access = (char *)"r"},
      {.allow = false, .type = 'c', .major = {true, 1}, .minor = {true, 5}, .access = (char *)"rwm"},
      {.allow = true, .type = 'b', .major = {true, 8}, .minor = {false, 0}, .access = (char *)"m"},
  };
  struct bpf_insn *insns = NULL;
  size_t n = 0;
  oci_error err = {0};
  assert_int_equal(oci_cg_bpf_build(rules, 5, (void **)&insns, &n, &err), 0);
  const int C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
  const int R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
  assert_int_equal(bpf_verdict(insns, n, C, R | W, 1, 3), 1);
  assert_int_equal(bpf_verdict(insns, n, C, M, 1, 3), 0);     /* rw only */
  assert_int_equal(bpf_verdict(insns, n, C, R | M, 1, 3), 0); /* every bit must pass */
  assert_int_equal(bpf_verdict(insns, n, C, R, 1, 7), 1);     /* c 1:* r */
  assert_int_equal(bpf_verdict(insns, n, C, W, 1, 7), 0);
  assert_int_equal(bpf_verdict(insns, n, C, R, 1, 5), 0);     /* the last match wins */
  assert_int_equal(bpf_verdict(insns, n, C, R, 2, 3), 0);     /* another major */
  assert_int_equal(bpf_verdict(insns, n, B, R, 1, 3), 0);     /* another type */
  assert_int_equal(bpf_verdict(insns, n, B, M, 8, 0), 1);
  assert_int_equal(bpf_verdict(insns, n, B, R, 8, 0), 0);
  free(insns);
  /* A later "a" rule hides everything before it. */
  struct oci_device_rule allow_all[] = {rules[3], {.allow = true, .type = 'a'}};
  assert_int_equal(oci_cg_bpf_build(allow_all, 2, (void **)&insns, &n, &err), 0);
  assert_int_equal(bpf_verdict(insns, n, C, R | W | M, 1, 5), 1);
  free(insns);
  /* No rules: deny. */
  assert_int_equal(oci_cg_bpf_build(NULL, 0, (void **)&insns, &n, &err), 0);
  assert_int_equal(bpf_verdict(insns, n, C, R, 1, 3), 0);
  free(insns);
  rules[1].type = 'x';
  assert_int_equal(oci_cg_bpf_build(rules, 2, (void **)&insns, &n, &err), -1);
  assert_non_null(strstr(err.msg, "linux.resources.devices[1]"));
}

/* Without systemd the driver says so before anything is made; with it,
 * the unset path is the scope ocirun-ID.scope in system.slice. */
static void test_systemd_prepare(void **state) {
  (void)state;
  struct oci_cgroup *cg = NULL;
  oci_error err = {0};
  if (access("/run/systemd/system", F_OK) == 0 && geteuid() == 0) {
    assert_int_equal(oci_cgroup_prepare(NULL, "x", true, &cg, &err), 0);
    assert_string_equal(cg->sd->unit, "ocirun-x.scope");
    assert_string_equal(cg->sd->slice, "system.slice");
    const char *dir = cg->v2 ? cg->v2->dir : cg->v1[0].dir;
    assert_non_null(strstr(dir, "/system.slice/ocirun-x.scope"));
    oci_cgroup_free(cg);
    return;
  }
  assert_int_equal(oci_cgroup_prepare(NULL, "x", true, &cg, &err), -1);
  assert_null(cg);
  if (geteuid() != 0) { /* the user's systemd is looked for first */
    assert_non_null(strstr(err.msg, "systemd cgroup driver requested by a non-root user"));
    return;
  }
  assert_string_equal(err.msg, "systemd cgroup driver requested but systemd is not running "
                               "(no /run/systemd/system)");
}

/* ---- a real cgroup on this host ------------------------------------------ */

struct live {
  struct oci_config cfg;
  struct oci_linux linux_;
  char path[64];
  struct oci_cgroup *cg;
  pid_t child;
  int release;           /* write end: the child exits when it closes */
  char **dirs;           /* every directory create made, to check removal */
  size_t n_dirs;
};

static int live_setup(void **state) {
  struct live *l = oci_xmalloc0(sizeof(*l));
  enum oci_cgroup_mode mode;
  oci_error err = {0};
  if (oci_cgroup_mode(&mode, &err) < 0)
    return -1;
  /* v2 refuses controllers below a group that holds processes (ours), so
   * there the test group hangs from the root. */
  snprintf(l->path, sizeof(l->path), "%socirun-test-%d", mode == OCI_CGROUP_V2 ? "/" : "",
           (int)getpid());
  l->linux_.cgroups_path = l->path;
  l->cfg.linux_ = &l->linux_;
  l->child = -1;
  l->release = -1;
  if (oci_cgroup_prepare(&l->cfg, "t", false, &l->cg, &err) < 0 ||
      oci_cgroup_make(l->cg, "t", 0, &err) < 0) {
    fprintf(stderr, "create: %s\n", err.msg);
    oci_cgroup_free(l->cg);
    free(l);
    return -1;
  }
  for (size_t i = 0; i < l->cg->n_v1 + 1; i++) {
    const struct cg_hier *h = i < l->cg->n_v1 ? &l->cg->v1[i] : l->cg->v2;
    if (h == NULL)
      continue;
    l->dirs = oci_xrealloc(l->dirs, (l->n_dirs + 1) * sizeof(char *));
    l->dirs[l->n_dirs++] = oci_xstrdup(h->dir);
  }
  *state = l;
  return 0;
}

static void stop_child(struct live *l) {
  if (l->release >= 0)
    close(l->release);
  l->release = -1;
  if (l->child > 0) {
    kill(l->child, SIGKILL);
    waitpid(l->child, NULL, 0);
  }
  l->child = -1;
}

static int live_teardown(void **state) {
  struct live *l = *state;
  stop_child(l);
  oci_error err = {0};
  if (l->cg && oci_cgroup_destroy(l->cg, &err) < 0)
    fprintf(stderr, "teardown destroy: %s\n", err.msg);
  oci_cgroup_free(l->cg);
  for (size_t i = 0; i < l->n_dirs; i++) {
    rmdir(l->dirs[i]); /* last resort; normally already gone */
    free(l->dirs[i]);
  }
  free(l->dirs);
  free(l);
  return 0;
}

/* A child that waits until the pipe closes, placed in the cgroup. */
static void start_child(struct live *l) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) > 0)
      ;
    _exit(0);
  }
  close(p[0]);
  l->child = pid;
  l->release = p[1];
  oci_error err = {0};
  int r = oci_cgroup_enter(l->cg, pid, &err);
  if (r < 0)
    fail_msg("enter: %s", err.msg);
}

static const char *dir_with(struct live *l, const char *ctrl) {
  if (l->cg->mode == OCI_CGROUP_V2)
    return l->cg->v2->dir;
  for (size_t i = 0; i < l->cg->n_v1; i++)
    if (strcmp(l->cg->v1[i].controllers, ctrl) == 0)
      return l->cg->v1[i].dir;
  fail_msg("no %s hierarchy", ctrl);
  return NULL;
}

static void assert_file(const char *dir, const char *file, const char *want) {
  char *got = NULL;
  oci_error err = {0};
  if (oci_cg_read(dir, file, &got, &err) < 0)
    fail_msg("%s", err.msg);
  if (strcmp(got, want) != 0)
    fail_msg("%s/%s: got \"%s\", want \"%s\"", dir, file, got, want);
  free(got);
}

static void test_live_apply(void **state) {
  struct live *l = *state;
  struct oci_memory mem = {.limit = {true, 64 << 20}, .swap = {true, 64 << 20}};
  struct oci_cpu cpu = {.shares = {true, 512}, .quota = {true, 50000}, .period = {true, 100000}};
  struct oci_resources res = {.memory = &mem, .cpu = &cpu, .pids_limit = {true, 20}};
  oci_error err = {0};
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("apply: %s", err.msg);
  if (l->cg->mode == OCI_CGROUP_V2) {
    const char *d = l->cg->v2->dir;
    assert_file(d, "memory.max", "67108864");
    if (oci_cg_file_exists(d, "memory.swap.max"))
      assert_file(d, "memory.swap.max", "0"); /* swap is memory+swap in the spec */
    assert_file(d, "pids.max", "20");
    assert_file(d, "cpu.weight", "20");
    assert_file(d, "cpu.max", "50000 100000");
  } else {
    assert_file(dir_with(l, "memory"), "memory.limit_in_bytes", "67108864");
    assert_file(dir_with(l, "memory"), "memory.memsw.limit_in_bytes", "67108864");
    assert_file(dir_with(l, "pids"), "pids.max", "20");
    assert_file(dir_with(l, "cpu"), "cpu.shares", "512");
    assert_file(dir_with(l, "cpu"), "cpu.cfs_quota_us", "50000");
  }
  /* Raise both, then lower both: the memsw ordering must hold either way. */
  mem.limit.v = mem.swap.v = 128 << 20;
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("raise: %s", err.msg);
  mem.limit.v = mem.swap.v = 32 << 20;
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("lower: %s", err.msg);
  assert_file(dir_with(l, "memory"), l->cg->mode == OCI_CGROUP_V2 ? "memory.max" :
                                     "memory.limit_in_bytes", "33554432");

  /* A refused value names the resource and the file. */
  struct oci_cpu bad = {.cpus = (char *)"999999"};
  struct oci_resources res2 = {.cpu = &bad};
  assert_int_equal(oci_cgroup_apply(l->cg, &res2, &err), -1);
  assert_non_null(strstr(err.msg, "linux.resources.cpu.cpus: write \"999999\" to cpuset.cpus"));
  struct oci_kv kv = {(char *)"pids.max", (char *)"7"};
  struct oci_resources res3 = {.unified = &kv, .n_unified = 1};
  int r = oci_cgroup_apply(l->cg, &res3, &err);
  if (l->cg->mode == OCI_CGROUP_V2) {
    assert_int_equal(r, 0);
    assert_file(l->cg->v2->dir, "pids.max", "7");
  } else {
    assert_int_equal(r, -1);
    assert_string_equal(err.msg, "invalid configuration: linux.resources.unified requires cgroup v2");
  }
}

/* The line of /proc/PID/cgroup for a hierarchy, e.g. "memory" or "" (v2). */
static char *proc_cgroup_of(pid_t pid, const char *controllers) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
  char *text = NULL;
  oci_error err = {0};
  assert_int_equal(oci_read_file(path, &text, NULL, &err), 0);
  struct cg_proc_entry *e = NULL;
  size_t n = 0;
  assert_int_equal(oci_cg_parse_proc_cgroup(text, &e, &n, &err), 0);
  free(text);
  char *found = NULL;
  for (size_t i = 0; i < n && !found; i++)
    if (strcmp(e[i].controllers, controllers) == 0)
      found = oci_xstrdup(e[i].path);
  oci_cg_proc_entries_free(e, n);
  return found;
}

static void test_live_enter_pids_freeze(void **state) {
  struct live *l = *state;
  start_child(l);
  oci_error err = {0};
  for (size_t i = 0; i < l->cg->n_v1; i++) {
    char *p = proc_cgroup_of(l->child, l->cg->v1[i].controllers);
    assert_non_null(p);
    assert_string_equal(p, l->cg->v1[i].rel);
    free(p);
  }
  if (l->cg->v2) { /* v2, and the unified side of hybrid */
    char *p = proc_cgroup_of(l->child, "");
    assert_string_equal(p, l->cg->v2->rel);
    free(p);
  }
  pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal(oci_cgroup_pids(l->cg, &pids, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(pids[0], l->child);
  free(pids);

  bool frozen = true;
  assert_int_equal(oci_cgroup_is_frozen(l->cg, &frozen, &err), 0);
  assert_false(frozen);
  if (oci_cgroup_freeze(l->cg, true, &err) < 0)
    fail_msg("freeze: %s", err.msg);
  assert_int_equal(oci_cgroup_is_frozen(l->cg, &frozen, &err), 0);
  assert_true(frozen);
  assert_int_equal(oci_cgroup_freeze(l->cg, false, &err), 0);
  assert_int_equal(oci_cgroup_is_frozen(l->cg, &frozen, &err), 0);
  assert_false(frozen);

  char *json = NULL;
  assert_int_equal(oci_cgroup_stats_json(l->cg, &json, &err), 0);
  assert_non_null(strstr(json, "\"pids\":{\"current\":1,"));
  assert_non_null(strstr(json, "\"memory\":{"));
  free(json);

  /* SIGTERM through kill --all reaches the child. */
  assert_int_equal(oci_cgroup_kill(l->cg, SIGTERM, &err), 0);
  int st;
  assert_int_equal(waitpid(l->child, &st, 0), l->child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  l->child = -1;
}

/* Fork a child, let join() place it, then let it run fn(arg); return its
 * exit status (128+N when killed by N), or -1 when join failed. */
static int run_placed(int (*join)(pid_t, void *, oci_error *), void *jarg, int (*fn)(void *),
                      void *arg, oci_error *err) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(p[1]);
    if (read(p[0], &c, 1) != 1)
      _exit(99);
    _exit(fn(arg));
  }
  close(p[0]);
  int r = join(pid, jarg, err);
  assert_int_equal(write(p[1], "x", 1), 1);
  close(p[1]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (r < 0)
    return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int join_cgroup(pid_t pid, void *cg, oci_error *err) {
  return oci_cgroup_enter(cg, pid, err);
}

static int join_dir(pid_t pid, void *dir, oci_error *err) {
  return oci_cg_write_fmt(dir, "cgroup.procs", "join", err, "%d", (int)pid);
}

static int run_in_cgroup(struct live *l, int (*fn)(void *), void *arg) {
  oci_error err = {0};
  int st = run_placed(join_cgroup, l->cg, fn, arg, &err);
  if (st < 0)
    fail_msg("enter: %s", err.msg);
  return st;
}

static int open_devices(void *arg) {
  (void)arg;
  int fd = open("/dev/null", O_RDWR);
  if (fd < 0)
    return 1; /* allowed by the defaults */
  close(fd);
  fd = open("/dev/kmsg", O_RDONLY);
  if (fd >= 0)
    return 2; /* should be denied */
  return errno == EPERM ? 0 : 3;
}

static void test_live_devices(void **state) {
  struct live *l = *state;
  struct oci_device_rule deny_all = {.allow = false, .type = 'a', .access = (char *)"rwm"};
  struct oci_resources res = {.devices = &deny_all, .n_devices = 1};
  oci_error err = {0};
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("apply devices: %s", err.msg);
  assert_int_equal(run_in_cgroup(l, open_devices, NULL), 0);
  /* Applying again replaces the rules (v2: one program stays attached). */
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("re-apply devices: %s", err.msg);
  assert_int_equal(run_in_cgroup(l, open_devices, NULL), 0);
}

static int eat_memory(void *arg) {
  (void)arg;
  for (size_t i = 0; i < 512; i++) {
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return 1;
    memset(p, 1, 1 << 20);
  }
  return 0; /* survived 512 MB: no limit */
}

static void test_live_oom(void **state) {
  struct live *l = *state;
  struct oci_memory mem = {.limit = {true, 16 << 20}, .swap = {true, 16 << 20}};
  struct oci_resources res = {.memory = &mem};
  oci_error err = {0};
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("apply: %s", err.msg);
  int fd = -1;
  if (oci_cgroup_oom_fd(l->cg, &fd, &err) < 0)
    fail_msg("oom fd: %s", err.msg);
  bool oom = true;
  assert_int_equal(oci_cgroup_oom_happened(l->cg, fd, &oom, &err), 0);
  assert_false(oom);
  int st = run_in_cgroup(l, eat_memory, NULL);
  assert_int_equal(st, 128 + SIGKILL);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 10000), 1);
  assert_int_equal(oci_cgroup_oom_happened(l->cg, fd, &oom, &err), 0);
  assert_true(oom);
  close(fd);
}

/* What a "cgroup" mount is made of (rootfs.c mounts it; cgroups.bats
 * checks it from inside): one view per directory create made, each the
 * container's own, the memory one holding the limit just applied. */
static void test_live_views(void **state) {
  struct live *l = *state;
  struct oci_memory mem = {.limit = {true, 8 << 20}};
  struct oci_resources res = {.memory = &mem};
  oci_error err = {0};
  if (oci_cgroup_apply(l->cg, &res, &err) < 0)
    fail_msg("apply: %s", err.msg);
  struct oci_cgroup_view v[32];
  bool tmpfs;
  size_t n = oci_cgroup_views(l->cg, v, 32, &tmpfs);
  assert_int_equal(n, l->n_dirs);
  assert_int_equal(tmpfs, l->cg->mode != OCI_CGROUP_V2);
  bool limit_seen = false;
  for (size_t i = 0; i < n; i++) {
    bool made = false;
    for (size_t k = 0; k < l->n_dirs; k++)
      made |= strcmp(v[i].host_dir, l->dirs[k]) == 0;
    if (!made)
      fail_msg("view %zu: %s is not one of the container's directories", i, v[i].host_dir);
    assert_true(tmpfs ? v[i].name != NULL : v[i].name == NULL);
    /* v1 hierarchies are mounted by their controllers, cgroup2 by none. */
    bool v2 = strcmp(v[i].fstype, "cgroup2") == 0;
    assert_true(v2 ? v[i].options == NULL : strcmp(v[i].fstype, "cgroup") == 0 && v[i].options);
    const char *file = v2 ? "memory.max" : "memory.limit_in_bytes";
    char *text = NULL;
    if (oci_cg_file_exists(v[i].host_dir, file) &&
        oci_cg_read(v[i].host_dir, file, &text, &err) == 0) {
      assert_string_equal(text, "8388608");
      limit_seen = true;
    }
    free(text);
  }
  assert_true(limit_seen);
}

static void test_live_destroy(void **state) {
  struct live *l = *state;
  start_child(l);
  /* Move it one level down, as a nested container manager would. */
  oci_error err = {0};
  for (size_t i = 0; i < l->n_dirs; i++) {
    char *nested = oci_xasprintf("%s/nested", l->dirs[i]);
    assert_int_equal(mkdir(nested, 0755), 0);
    if (oci_cg_file_exists(nested, "cpuset.cpus") && strstr(l->dirs[i], "/cpuset")) {
      char *cpus = NULL, *mems = NULL; /* v1 cpuset starts empty */
      assert_int_equal(oci_cg_read(l->dirs[i], "cpuset.cpus", &cpus, &err), 0);
      assert_int_equal(oci_cg_read(l->dirs[i], "cpuset.mems", &mems, &err), 0);
      assert_int_equal(oci_cg_write(nested, "cpuset.cpus", "cpus", cpus, &err), 0);
      assert_int_equal(oci_cg_write(nested, "cpuset.mems", "mems", mems, &err), 0);
      free(cpus);
      free(mems);
    }
    int r = oci_cg_write_fmt(nested, "cgroup.procs", "join", &err, "%d", (int)l->child);
    free(nested);
    if (r < 0)
      fail_msg("%s", err.msg);
  }
  pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal(oci_cgroup_pids(l->cg, &pids, &n, &err), 0);
  assert_int_equal(n, 1); /* found below the top directory */
  assert_int_equal(pids[0], l->child);
  free(pids);
  /* Save and load: destroy works from the state's copy. */
  char *saved = oci_cgroup_save(l->cg);
  struct oci_cgroup *copy = NULL;
  assert_int_equal(oci_cgroup_load(saved, &copy, &err), 0);
  free(saved);
  kill(l->child, SIGSTOP); /* still inside, must be killed by destroy */
  int r = oci_cgroup_destroy(copy, &err);
  close(l->release);
  l->release = -1;
  oci_cgroup_free(copy);
  if (r < 0)
    fail_msg("destroy: %s", err.msg);
  int st;
  assert_int_equal(waitpid(l->child, &st, 0), l->child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  l->child = -1;
  for (size_t i = 0; i < l->n_dirs; i++) {
    struct stat sb;
    if (stat(l->dirs[i], &sb) == 0)
      fail_msg("%s still exists", l->dirs[i]);
  }
  /* Destroying what is already gone is fine. */
  assert_int_equal(oci_cgroup_destroy(l->cg, &err), 0);
}

/* ---- the eBPF device filter on any cgroup2 dir (hybrid: the unified one) */

static int probe_bpf_rules(void *arg) {
  (void)arg;
  int fd;
  if ((fd = open("/dev/null", O_RDWR)) < 0)
    return 1;
  close(fd);
  if ((fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK)) < 0)
    return 2;
  close(fd);
  if (open("/dev/kmsg", O_WRONLY) >= 0 || errno != EPERM)
    return 3; /* only "r" was allowed */
  if (open("/dev/zero", O_RDONLY) >= 0 || errno != EPERM)
    return 4; /* never allowed */
  char node[64];
  snprintf(node, sizeof(node), "/tmp/ocirun-bpf-null-%d", (int)getpid());
  int r = mknod(node, S_IFCHR | 0600, makedev(1, 3));
  int e = errno;
  unlink(node);
  errno = e;
  if (r == 0 || errno != EPERM)
    return 5; /* no "m" for 1:3 */
  return 0;
}

static int probe_all_allowed(void *arg) {
  (void)arg;
  int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0)
    return 1;
  close(fd);
  return 0;
}

static int run_in_dir(const char *dir, int (*fn)(void *)) {
  oci_error err = {0};
  return run_placed(join_dir, (void *)dir, fn, NULL, &err);
}

static void test_bpf_semantics(void **state) {
  (void)state;
  enum oci_cgroup_mode mode;
  oci_error err = {0};
  assert_int_equal(oci_cgroup_mode(&mode, &err), 0);
  if (mode == OCI_CGROUP_V1)
    skip();
  char dir[96];
  snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%socirun-bpf-%d", mode == OCI_CGROUP_V2 ? "" : "unified/",
           (int)getpid());
  assert_int_equal(mkdir(dir, 0755), 0);
  struct oci_device_rule rules[] = {
      {.allow = false, .type = 'a'},
      {.allow = true, .type = 'c', .major = {true, 1}, .minor = {true, 3}, .access = (char *)"rw"},
      {.allow = true, .type = 'c', .major = {true, 1}, .minor = {false, 0}, .access = (char *)"r"},
      {.allow = false, .type = 'c', .major = {true, 1}, .minor = {true, 5}, .access = (char *)"rwm"},
  };
  int st1 = -1, st2 = -1, r2 = -1;
  int r1 = oci_cg_bpf_install(dir, rules, 4, &err);
  if (r1 == 0)
    st1 = run_in_dir(dir, probe_bpf_rules);
  struct oci_device_rule all = {.allow = true, .type = 'a'};
  if (r1 == 0 && (r2 = oci_cg_bpf_install(dir, &all, 1, &err)) == 0)
    st2 = run_in_dir(dir, probe_all_allowed);
  rmdir(dir);
  if (r1 < 0 || r2 < 0)
    fail_msg("install: %s", err.msg);
  assert_int_equal(st1, 0);
  assert_int_equal(st2, 0); /* the first program was detached on replace */
}

int main(void) {
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(test_mode_from_magic),
      cmocka_unit_test(test_parse_proc_cgroup),
      cmocka_unit_test(test_resolve_path),
      cmocka_unit_test(test_conversions),
      cmocka_unit_test(test_save_load_roundtrip),
      cmocka_unit_test(test_bpf_build),
      cmocka_unit_test(test_systemd_prepare),
  };
  const struct CMUnitTest live[] = {
      cmocka_unit_test_setup_teardown(test_live_apply, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_enter_pids_freeze, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_devices, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_oom, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_views, live_setup, live_teardown),
      cmocka_unit_test_setup_teardown(test_live_destroy, live_setup, live_teardown),
      cmocka_unit_test(test_bpf_semantics),
  };
  int failed = cmocka_run_group_tests_name("cgroup-pure", pure, NULL, NULL);
  if (geteuid() != 0) {
    /* 77: the test driver reports SKIP, not a PASS that ran half the tests. */
    fprintf(stderr, "not root: skipping the tests on a real cgroup\n");
    return failed ? failed : 77;
  }
  return failed + cmocka_run_group_tests_name("cgroup-live", live, NULL, NULL);
}
