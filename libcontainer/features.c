/* ocirun — `ocirun features`: what this runtime recognises (features.md,
 * features-linux.md).
 *
 * Lists come from the code that implements them where it can say so: mount
 * options from the mount option parser, capability names from libcap,
 * architectures from libseccomp, seccomp flags from the running kernel.
 */
#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>
#include <sys/capability.h>
#include <yajl/yajl_gen.h>

#include "config-json.h"
#include "sched.h"
#include "systemd-bus.h"
#include "ocirun/container.h"
#include "ocirun/rootfs.h"
#include "ocirun/seccomp.h"
#include "ocirun/utils.h"

#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* {"key": {"enabled": v}} */
static void gen_enabled(yajl_gen g, const char *key, bool v) {
  j_gen_str(g, key);
  yajl_gen_map_open(g);
  j_gen_kbool(g, "enabled", v);
  yajl_gen_map_close(g);
}

/* config.md "Linux mount options", plus ocirun's "ridmap". */
static const char *const mount_option_candidates[] = {
  "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap",
  "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
  "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
  "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount",
  "rexec", "ridmap", "rnoatime", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime",
  "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave",
  "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave",
  "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable", NULL};

/* An option is recognised when the mount code maps it to something of its
 * own; anything else it passes to the filesystem as data, unchecked. */
static bool mount_option_recognised(const char *name) {
  char *opts[] = {(char *)name, NULL};
  unsigned long flags = 0, propagation = 0;
  bool recursive = false;
  char *data = NULL;
  oci_error err = {0};
  if (oci_mount_parse_options(opts, 1, &flags, &propagation, &recursive, &data, &err) < 0)
    return false;
  bool own = data == NULL;
  free(data);
  return own;
}

static void gen_mount_options(yajl_gen g) {
  j_gen_str(g, "mountOptions");
  yajl_gen_array_open(g);
  for (const char *const *o = mount_option_candidates; *o != NULL; o++)
    if (mount_option_recognised(*o))
      j_gen_str(g, *o);
  yajl_gen_array_close(g);
}

/* Every name libcap knows, in its numbering; names past the library's table
 * come back as bare numbers and are not names anyone could write. */
static void gen_capabilities(yajl_gen g) {
  j_gen_str(g, "capabilities");
  yajl_gen_array_open(g);
  int max = cap_max_bits() > 64 ? cap_max_bits() : 64;
  for (int i = 0; i < max; i++) {
    char *name = cap_to_name(i);
    if (name == NULL)
      continue;
    if (strncmp(name, "cap_", 4) == 0) {
      char upper[64];
      size_t n = 0;
      for (; name[n] != '\0' && n < sizeof(upper) - 1; n++)
        upper[n] = (char)toupper((unsigned char)name[n]);
      upper[n] = '\0';
      j_gen_str(g, upper);
    }
    cap_free(name);
  }
  yajl_gen_array_close(g);
}

/* The schema's SCMP_ARCH_* names that this libseccomp can resolve. */
static void gen_seccomp_archs(yajl_gen g) {
  static const char *const archs[] = {
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", NULL};
  j_gen_str(g, "archs");
  yajl_gen_array_open(g);
  for (const char *const *a = archs; *a != NULL; a++) {
    char lower[32];
    const char *s = *a + strlen("SCMP_ARCH_");
    size_t n = 0;
    for (; s[n] != '\0' && n < sizeof(lower) - 1; n++)
      lower[n] = (char)tolower((unsigned char)s[n]);
    lower[n] = '\0';
    if (seccomp_arch_resolve_name(lower) != 0)
      j_gen_str(g, *a);
  }
  yajl_gen_array_close(g);
}

static const struct {
  const char *name;
  unsigned long flag;
} seccomp_flags[] = {
  {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
  {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
  {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
  {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/* The kernel checks the flags before it reads the filter: with a NULL
 * filter a known flag fails with EFAULT, an unknown one with EINVAL, and
 * nothing is installed either way. */
static bool seccomp_flag_supported(unsigned long flag) {
  /* WAIT_KILLABLE_RECV is only valid together with a listener. */
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static void gen_seccomp(yajl_gen g) {
  static const char *const actions[] = {
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
    "SCMP_ACT_TRAP", NULL};
  static const char *const operators[] = {
    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL};
  j_gen_str(g, "seccomp");
  yajl_gen_map_open(g);
  j_gen_kbool(g, "enabled", true);
  j_gen_kstrv(g, "actions", actions);
  j_gen_kstrv(g, "operators", operators);
  gen_seccomp_archs(g);
  j_gen_str(g, "knownFlags");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(seccomp_flags); i++)
    j_gen_str(g, seccomp_flags[i].name);
  yajl_gen_array_close(g);
  j_gen_str(g, "supportedFlags");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(seccomp_flags); i++)
    if (seccomp_flag_supported(seccomp_flags[i].flag))
      j_gen_str(g, seccomp_flags[i].name);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

static void gen_linux(yajl_gen g) {
  static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network",
                                           "pid",    "time", "user", "uts", NULL};
  j_gen_str(g, "linux");
  yajl_gen_map_open(g);
  j_gen_kstrv(g, "namespaces", namespaces);
  gen_capabilities(g);
  j_gen_str(g, "cgroup");
  yajl_gen_map_open(g);
  j_gen_kbool(g, "v1", true);
  j_gen_kbool(g, "v2", true);
  /* The systemd driver works wherever libsystemd can be loaded; whether
   * a manager runs is a matter of the host, told by create. */
  bool sd = oci_sdbus_available();
  j_gen_kbool(g, "systemd", sd);
  j_gen_kbool(g, "systemdUser", sd);
  yajl_gen_map_close(g);
  gen_seccomp(g);
  gen_enabled(g, "apparmor", false);
  gen_enabled(g, "selinux", false);
  /* create refuses linux.intelRdt (config-check.c). */
  gen_enabled(g, "intelRdt", false);
  j_gen_str(g, "memoryPolicy");
  yajl_gen_map_open(g);
  j_gen_kstrv(g, "modes", oci_mempolicy_mode_names);
  j_gen_kstrv(g, "flags", oci_mempolicy_flag_names);
  yajl_gen_map_close(g);
  gen_enabled(g, "netDevices", true);
  j_gen_str(g, "mountExtensions");
  yajl_gen_map_open(g);
  gen_enabled(g, "idmap", true);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
}

/* checkpoint/restore: CRIU's version when it is there, else why not. */
static void gen_checkpoint(yajl_gen g, const struct oci_context *ctx) {
  oci_error err = {0};
  _cleanup_free_ char *version = oci_criu_available(ctx, &err);
  _cleanup_free_ char *text = version ? oci_xasprintf("available: CRIU %s", version)
                                      : oci_xasprintf("unavailable: %s", err.msg);
  j_gen_kstr(g, "io.github.ocirun.checkpoint", text);
  if (version)
    j_gen_kstr(g, "org.criu.version", version);
}

/* The config annotations ocirun acts on (ocirun(8), ANNOTATIONS), each
 * with the value it takes: an engine can look before it sets one. */
static const char *const config_annotations[][2] = {
    {OCI_ANNOTATION_KEEP_ORIGINAL_GROUPS,
     "supported: \"1\" keeps the caller's supplementary groups"},
    {OCI_ANNOTATION_HOOKS_STDOUT, "supported: the file every hook's stdout is appended to"},
    {OCI_ANNOTATION_HOOKS_STDERR, "supported: the file every hook's stderr is appended to"},
    {OCI_ANNOTATION_SECCOMP_FAIL_UNKNOWN,
     "supported: \"1\" makes an unknown syscall name in linux.seccomp an error"},
};

static void gen_annotations(yajl_gen g, const struct oci_context *ctx) {
  j_gen_str(g, "annotations");
  yajl_gen_map_open(g);
  j_gen_kstr(g, "io.github.ocirun.version", OCIRUN_VERSION);
  j_gen_kstr(g, "io.github.seccomp.libseccomp.version", oci_seccomp_library_version());
  gen_checkpoint(g, ctx);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(config_annotations); i++)
    j_gen_kstr(g, config_annotations[i][0], config_annotations[i][1]);
  yajl_gen_map_close(g);
}

char *oci_features_json(const struct oci_context *ctx) {
  static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
                                      "startContainer", "poststart",     "poststop", NULL};
  yajl_gen g = j_gen_new("    ");
  yajl_gen_map_open(g);
  j_gen_kstr(g, "ociVersionMin", "1.0.0");
  j_gen_kstr(g, "ociVersionMax", OCI_SPEC_VERSION);
  j_gen_kstrv(g, "hooks", hooks);
  gen_mount_options(g);
  gen_linux(g);
  gen_annotations(g, ctx);
  yajl_gen_map_close(g);
  return j_gen_finish(g);
}
