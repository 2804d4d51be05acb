/* ocirun — ENOSYS for the system calls a seccomp profile is too old to know.
 *
 * A profile written before a system call existed cannot name it, so that
 * call gets the profile's default action, typically EPERM. libc takes EPERM
 * as the answer, where on an older kernel it would have got ENOSYS and
 * fallen back to the older call (clone3 -> clone, faccessat2 -> faccessat,
 * close_range -> a loop of close): an image with a newer libc breaks under
 * an older profile. runc answers ENOSYS for every system call numbered
 * above the highest one the profile names, per architecture, unless the
 * default action lets calls through anyway; profiles are written against
 * that, so ocirun does the same.
 *
 * The check is a few BPF instructions put in front of libseccomp's program:
 * per architecture of the filter, "nr > last: return ENOSYS"; anything else
 * falls through to the profile's own filter. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ocirun/utils.h"
#include "seccomp-internal.h"

/* x86_64's x32 system calls: same audit arch, numbers with this bit set;
 * they go to the profile's filter unchanged. */
#define X32_SYSCALL_BIT 0x40000000u

/* Architectures that may be in a filter, as libseccomp's tokens (which are
 * the kernel's AUDIT_ARCH_* values). x32 shares x86_64's audit arch. */
static const uint32_t known_archs[] = {
    SCMP_ARCH_X86_64, SCMP_ARCH_X86,     SCMP_ARCH_ARM,     SCMP_ARCH_AARCH64,
    SCMP_ARCH_MIPS,   SCMP_ARCH_MIPS64,  SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL,
    SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64,
    SCMP_ARCH_PPC64LE, SCMP_ARCH_S390,   SCMP_ARCH_S390X,   SCMP_ARCH_PARISC,
    SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64,
};

bool oci_seccomp_wants_enosys(uint32_t default_action) {
  /* A default that lets the call run already gives the kernel's own
   * ENOSYS, and LOG/TRACE defaults mean "watch", not "refuse". */
  uint32_t kind = default_action & SECCOMP_RET_ACTION_FULL;
  return kind != SECCOMP_RET_ALLOW && kind != SECCOMP_RET_LOG && kind != SECCOMP_RET_TRACE;
}

/* The highest number any name of the profile has on arch, or -1. */
static int last_syscall(const struct oci_seccomp *sc, uint32_t arch) {
  int last = -1;
  for (size_t i = 0; i < sc->n_syscalls; i++)
    for (size_t j = 0; j < sc->syscalls[i].n_names; j++) {
      const char *name = sc->syscalls[i].names[j];
      /* Negative: libseccomp's pseudo numbers for calls arch lacks. */
      int nr = name ? seccomp_syscall_resolve_name_arch(arch, name) : __NR_SCMP_ERROR;
      if (nr >= 0 && nr > last)
        last = nr;
    }
  return last;
}

static void emit(struct sock_filter *v, size_t *n, uint16_t code, uint8_t jt, uint8_t jf,
                 uint32_t k) {
  v[(*n)++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

size_t oci_seccomp_enosys_stub(const struct oci_seccomp *sc, scmp_filter_ctx ctx,
                               struct sock_filter **out) {
  /* Per arch: ld arch; jeq; ld nr; [jset x32]; jgt -> at most 5, then the
   * final "ja over", "ret ENOSYS". */
  struct sock_filter *v = oci_xmalloc0((OCI_ARRAY_SIZE(known_archs) * 5 + 2) * sizeof(*v));
  size_t n = 0;
  /* Each block's jumps are resolved once the block's place is known:
   * jgt's "true" goes to the ENOSYS return, its "false" and every
   * other exit to the profile's filter right after it. They are patched
   * at the end, when both targets are. */
  size_t jgt_at[OCI_ARRAY_SIZE(known_archs)], x32_at[OCI_ARRAY_SIZE(known_archs)];
  size_t blocks = 0;
  for (size_t a = 0; a < OCI_ARRAY_SIZE(known_archs); a++) {
    uint32_t arch = known_archs[a];
    if (seccomp_arch_exist(ctx, arch) != 0)
      continue;
    int last = last_syscall(sc, arch);
    if (last < 0)
      continue;
    bool x86_64 = arch == SCMP_ARCH_X86_64;
    emit(v, &n, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
    /* Not this arch: skip the rest of the block. */
    emit(v, &n, BPF_JMP | BPF_JEQ | BPF_K, 0, x86_64 ? 3 : 2, arch);
    emit(v, &n, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
    x32_at[blocks] = SIZE_MAX;
    if (x86_64) {
      x32_at[blocks] = n;
      emit(v, &n, BPF_JMP | BPF_JSET | BPF_K, 0, 0, X32_SYSCALL_BIT);
    }
    jgt_at[blocks++] = n;
    emit(v, &n, BPF_JMP | BPF_JGT | BPF_K, 0, 0, (uint32_t)last);
  }
  if (blocks == 0) {
    free(v);
    *out = NULL;
    return 0;
  }
  emit(v, &n, BPF_JMP | BPF_JA, 0, 0, 1); /* the last block's "not this arch" */
  size_t enosys = n;
  emit(v, &n, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  size_t filter = n;
  for (size_t b = 0; b < blocks; b++) {
    size_t j = jgt_at[b];
    v[j].jt = (uint8_t)(enosys - j - 1);
    v[j].jf = (uint8_t)(filter - j - 1);
    if (x32_at[b] != SIZE_MAX)
      v[x32_at[b]].jt = (uint8_t)(filter - x32_at[b] - 1);
  }
  *out = v;
  return n;
}
