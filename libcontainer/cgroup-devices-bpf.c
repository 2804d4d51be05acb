/* ocirun — cgroup v2 device control: cgroup v2 has no devices.allow file;
 * a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup decides
 * each open/mknod. We generate it from the rules with bpf(2) directly.
 *
 * Semantics (same as the v1 lists): default deny, rules in order, and the
 * last rule that matches decides. The kernel asks once per operation with
 * a set of access bits (read|write, or mknod); each requested bit must be
 * allowed on its own, so the program checks the bits one by one, walking
 * the rules from last to first. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "ocirun/utils.h"

/* Registers: r1 ctx, r2 device type, r3 access bits, r4 major, r5 minor,
 * r6 scratch, r0 verdict. */
enum { R0, R1, R2, R3, R4, R5, R6 };

struct prog {
  struct bpf_insn *v;
  size_t n, cap;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 64;
    p->v = oci_xrealloc(p->v, p->cap * sizeof(*p->v));
  }
  p->v[p->n] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return p->n++;
}

#define LDX_W(p, dst, off) emit(p, BPF_LDX | BPF_MEM | BPF_W, dst, R1, off, 0)
#define MOV64_REG(p, dst, src) emit(p, BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define ALU32_K(p, op, dst, k) emit(p, BPF_ALU | (op) | BPF_K, dst, 0, 0, k)
#define JNE_K(p, dst, k, off) emit(p, BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, k)
#define JEQ_K(p, dst, k, off) emit(p, BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, k)
#define JA(p, off) emit(p, BPF_JMP | BPF_JA, 0, 0, off, 0)
#define EXIT(p) emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int access_bits(const char *access) {
  if (access == NULL || access[0] == '\0')
    return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  int bits = 0;
  for (const char *c = access; *c; c++)
    bits |= *c == 'r' ? BPF_DEVCG_ACC_READ : *c == 'w' ? BPF_DEVCG_ACC_WRITE
                                                        : *c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  return bits;
}

static bool wildcard(const oci_opt_i64 *v) {
  return !v->set || v->v < 0;
}

static int rule_check(const struct oci_device_rule *r, oci_error *err) {
  if (r->type != 'a' && r->type != 'c' && r->type != 'b' && r->type != '\0')
    return oci_error_setx(err, EINVAL, "device rule type '%c' is not a, b or c", r->type);
  if (r->access && strspn(r->access, "rwm") != strlen(r->access))
    return oci_error_setx(err, EINVAL, "device rule access \"%s\" is not a subset of rwm",
                         r->access);
  return 0;
}

/* One rule for one access bit: jump over the block on any mismatch, then
 * either go to "bit allowed" (a jump to patch, returned in *fix: true) or
 * return deny. */
static bool emit_rule(struct prog *p, const struct oci_device_rule *r, size_t *fix) {
  bool typed = r->type == 'c' || r->type == 'b';
  size_t checks = typed + !wildcard(&r->major) + !wildcard(&r->minor);
  size_t tail = r->allow ? 1 : 2;
  size_t end = p->n + checks + tail;
  if (typed)
    JNE_K(p, R2, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, (int16_t)(end - p->n - 1));
  if (!wildcard(&r->major))
    JNE_K(p, R4, (int32_t)r->major.v, (int16_t)(end - p->n - 1));
  if (!wildcard(&r->minor))
    JNE_K(p, R5, (int32_t)r->minor.v, (int16_t)(end - p->n - 1));
  if (r->allow) {
    *fix = JA(p, 0);
    return true;
  }
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
  EXIT(p);
  return false;
}

static void emit_bit(struct prog *p, int bit, const struct oci_device_rule *rules, size_t n) {
  size_t *fixes = oci_xmalloc0((n + 2) * sizeof(size_t));
  size_t nf = 0;
  MOV64_REG(p, R6, R3);
  ALU32_K(p, BPF_AND, R6, bit);
  fixes[nf++] = JEQ_K(p, R6, 0, 0); /* bit not requested */
  bool always = false;
  for (size_t i = n; i-- > 0 && !always;) {
    const struct oci_device_rule *r = &rules[i];
    if (!(access_bits(r->access) & bit))
      continue;
    if (emit_rule(p, r, &fixes[nf]))
      nf++;
    /* A rule that matches everything hides the earlier ones: the verifier
     * rejects unreachable instructions, so stop here. */
    always = r->type != 'c' && r->type != 'b' && wildcard(&r->major) && wildcard(&r->minor);
  }
  if (!always) {
    emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0); /* no rule matched: deny */
    EXIT(p);
  }
  for (size_t i = 0; i < nf; i++)
    p->v[fixes[i]].off = (int16_t)(p->n - fixes[i] - 1);
  free(fixes);
}

int oci_cg_bpf_build(const struct oci_device_rule *rules, size_t n_rules, void **insns,
                     size_t *n, oci_error *err) {
  for (size_t i = 0; i < n_rules; i++)
    if (rule_check(&rules[i], err) < 0)
      return oci_error_wrap(err, "linux.resources.devices[%zu]", i);
  if (n_rules > 1000)
    return oci_error_setx(err, E2BIG, "linux.resources.devices: %zu rules is too many", n_rules);
  struct prog p = {0};
  LDX_W(&p, R2, offsetof(struct bpf_cgroup_dev_ctx, access_type));
  MOV64_REG(&p, R3, R2);
  ALU32_K(&p, BPF_AND, R2, 0xffff);
  ALU32_K(&p, BPF_RSH, R3, 16);
  LDX_W(&p, R4, offsetof(struct bpf_cgroup_dev_ctx, major));
  LDX_W(&p, R5, offsetof(struct bpf_cgroup_dev_ctx, minor));
  emit_bit(&p, BPF_DEVCG_ACC_MKNOD, rules, n_rules);
  emit_bit(&p, BPF_DEVCG_ACC_READ, rules, n_rules);
  emit_bit(&p, BPF_DEVCG_ACC_WRITE, rules, n_rules);
  emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1);
  EXIT(&p);
  *insns = p.v;
  *n = p.n;
  return 0;
}

/* ---- bpf(2) ------------------------------------------------------------ */

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, oci_error *err) {
  static char log[16384];
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = (uint32_t)n;
  a.license = (uint64_t)(uintptr_t) "GPL";
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  int e = errno;
  /* Load again with the verifier's log, to say why. */
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = sizeof(log);
  a.log_level = 1;
  log[0] = '\0';
  fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  size_t l = strlen(log);
  const char *tail = l > 300 ? log + l - 300 : log;
  return oci_error_set(err, e, "load device program (%zu insns)%s%s", n, l ? ": " : "", tail);
}

/* Ids of the device programs attached to the cgroup right now. */
static size_t query_attached(int dirfd, uint32_t *ids, size_t max) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.query.target_fd = (uint32_t)dirfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = (uint32_t)max;
  if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
    return 0;
  return a.query.prog_cnt < max ? a.query.prog_cnt : max;
}

static void detach_id(int dirfd, uint32_t id) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_id = id;
  _cleanup_close_ int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0)
    return;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)dirfd;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  sys_bpf(BPF_PROG_DETACH, &a);
}

int oci_cg_bpf_install(const char *dir, const struct oci_device_rule *rules, size_t n_rules,
                       oci_error *err) {
  _cleanup_free_ struct bpf_insn *insns = NULL;
  size_t n = 0;
  if (oci_cg_bpf_build(rules, n_rules, (void **)&insns, &n, err) < 0)
    return -1;
  _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return oci_error_errno(err, "open \"%s\"", dir);
  _cleanup_close_ int prog = prog_load(insns, n, err);
  if (prog < 0)
    return -1;
  uint32_t old[64];
  size_t n_old = query_attached(dirfd, old, OCI_ARRAY_SIZE(old));
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)dirfd;
  a.attach_bpf_fd = (uint32_t)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
    return oci_error_errno(err, "attach device program to \"%s\"", dir);
  /* Only now drop the old ones: there is never a moment with no filter. */
  for (size_t i = 0; i < n_old; i++)
    detach_id(dirfd, old[i]);
  return 0;
}
