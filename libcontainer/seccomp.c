/* ocirun — linux.seccomp through libseccomp.
 *
 * oci_seccomp_prepare() turns the profile into a libseccomp context early,
 * while errors can still be reported cleanly and name the field, and
 * compiles it to BPF right away; the init loads that with one seccomp(2)
 * as late as it can (oci_seccomp_load()). With SCMP_ACT_NOTIFY or a
 * listenerPath, the listener fd goes to linux.seccomp.listenerPath through
 * oci_seccomp_send_listener(). */
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "config-json.h"
#include "ocirun/container.h"
#include "ocirun/log.h"
#include "ocirun/seccomp.h"
#include "ocirun/socket.h"
#include "ocirun/utils.h"
#include "seccomp-internal.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define MAX_SYSCALL_ARGS 6

struct oci_seccomp_filter {
  scmp_filter_ctx ctx;   /* NULL once compiled */
  bool notify_used;      /* a SCMP_ACT_NOTIFY rule made it into the filter */
  /* A listener is created and handed to linux.seccomp.listenerPath: with a
   * NOTIFY rule, and also whenever listenerPath is set. The agent then
   * learns of every container whose profile names it, notified or not,
   * as crun does it (its tests wait for that message); the kernel gives a
   * listener to any filter, one without NOTIFY rules just never has a
   * notification on it. */
  bool listener;
  /* seccomp(2) flags; we load the program ourselves: libseccomp's
   * seccomp_load() makes system calls after the filter is in place (it
   * frees its copy of the program), which a strict profile may deny, and
   * 2.5 cannot pass WAIT_KILLABLE_RECV. */
  unsigned int raw_flags;
  struct sock_fprog prog;
};

/* ---- names -> libseccomp values --------------------------------------- */

struct action_name {
  const char *name;
  uint32_t action;
  bool takes_errno;     /* ERRNO and TRACE carry a 16-bit value */
};

static const struct action_name actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},  /* the historical name of KILL_THREAD */
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

struct op_name {
  const char *name;
  enum scmp_compare op;
};

static const struct op_name ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* Architectures the spec lists that libseccomp 2.5 does not know. They can
 * never be the native one here, so a profile naming them still works. */
static const char *const later_archs[] = {
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

/* Resolve `name` (+ errnoRet) to a libseccomp action. `field` names the
 * action ("linux.seccomp.syscalls[2].action"), `errno_field` its errno. */
static int parse_action(const char *name, const oci_opt_u32 *errno_ret, const char *field,
                        const char *errno_field, uint32_t *out, oci_error *err) {
  if (name == NULL)
    return oci_error_setx(err, EINVAL, "%s: missing", field);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(actions); i++) {
    if (strcmp(actions[i].name, name) != 0)
      continue;
    if (!actions[i].takes_errno) {
      /* The spec: when the action takes no errno, fail rather than ignore. */
      if (errno_ret->set)
        return oci_error_setx(err, EINVAL, "%s: not supported with action \"%s\"",
                             errno_field, name);
      *out = actions[i].action;
      return 0;
    }
    uint32_t value = errno_ret->set ? errno_ret->v : EPERM;
    if (value > 0xffff)
      return oci_error_set(err, ERANGE, "%s: %u does not fit in 16 bits", errno_field, value);
    *out = actions[i].action | value;
    return 0;
  }
  return oci_error_setx(err, EINVAL, "%s: unknown action \"%s\"", field, name);
}

static int parse_op(const char *name, const char *field, enum scmp_compare *out,
                    oci_error *err) {
  for (size_t i = 0; name != NULL && i < OCI_ARRAY_SIZE(ops); i++) {
    if (strcmp(ops[i].name, name) == 0) {
      *out = ops[i].op;
      return 0;
    }
  }
  return oci_error_setx(err, EINVAL, "%s: unknown operator \"%s\"", field,
                       name ? name : "(null)");
}

/* "SCMP_ARCH_X86_64" -> libseccomp's own name table ("x86_64"), so every
 * architecture libseccomp knows works without a second list here.
 * Returns 0 and *token = 0 for an architecture to skip. */
static int parse_arch(const char *name, const char *field, uint32_t *token, oci_error *err) {
  const char *prefix = "SCMP_ARCH_";
  *token = 0;
  if (name != NULL && strncmp(name, prefix, strlen(prefix)) == 0) {
    char lower[32];
    const char *rest = name + strlen(prefix);
    size_t n = strlen(rest);
    if (n > 0 && n < sizeof(lower)) {
      for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)rest[i]);
      *token = seccomp_arch_resolve_name(lower);
      if (*token != 0)
        return 0;
    }
    for (size_t i = 0; i < OCI_ARRAY_SIZE(later_archs); i++) {
      if (strcmp(later_archs[i], name) == 0) {
        oci_debug("%s: %s is unknown to this libseccomp, skipped", field, name);
        return 0;
      }
    }
  }
  return oci_error_setx(err, EINVAL, "%s: unknown architecture \"%s\"", field,
                       name ? name : "(null)");
}

/* ---- building the filter ---------------------------------------------- */

static int set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value,
                    const char *what, oci_error *err) {
  int ret = seccomp_attr_set(ctx, attr, value);
  if (ret < 0)
    return oci_error_set(err, -ret, "%s", what);
  return 0;
}

static int add_flags(struct oci_seccomp_filter *f, const struct oci_seccomp *sc,
                     oci_error *err) {
  for (size_t i = 0; i < sc->n_flags; i++) {
    const char *flag = sc->flags[i] ? sc->flags[i] : "(null)";
    char field[64];
    snprintf(field, sizeof(field), "linux.seccomp.flags[%zu]", i);
    int ret = 0;
    if (strcmp(flag, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
      ret = set_attr(f->ctx, SCMP_FLTATR_CTL_TSYNC, 1, field, err);
      f->raw_flags |= SECCOMP_FILTER_FLAG_TSYNC;
    } else if (strcmp(flag, "SECCOMP_FILTER_FLAG_LOG") == 0) {
      ret = set_attr(f->ctx, SCMP_FLTATR_CTL_LOG, 1, field, err);
      f->raw_flags |= SECCOMP_FILTER_FLAG_LOG;
    } else if (strcmp(flag, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
      ret = set_attr(f->ctx, SCMP_FLTATR_CTL_SSB, 1, field, err);
      f->raw_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    } else if (strcmp(flag, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) {
      f->raw_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    } else {
      return oci_error_setx(err, EINVAL, "%s: unknown flag \"%s\"", field, flag);
    }
    if (ret < 0)
      return -1;
  }
  return 0;
}

static int add_architectures(scmp_filter_ctx ctx, const struct oci_seccomp *sc,
                             oci_error *err) {
  for (size_t i = 0; i < sc->n_architectures; i++) {
    char field[64];
    uint32_t token;
    snprintf(field, sizeof(field), "linux.seccomp.architectures[%zu]", i);
    if (parse_arch(sc->architectures[i], field, &token, err) < 0)
      return -1;
    if (token == 0)
      continue;
    int ret = seccomp_arch_add(ctx, token);
    if (ret < 0 && ret != -EEXIST)  /* the native one is there already */
      return oci_error_set(err, -ret, "%s: add \"%s\"", field, sc->architectures[i]);
  }
  return 0;
}

/* Convert args[] to libseccomp conditions; *one_rule_per_arg tells whether
 * an index repeats (see add_syscall_rules). */
static int build_conditions(const struct oci_seccomp_syscall *s, const char *field,
                            struct scmp_arg_cmp *conds, bool *one_rule_per_arg,
                            oci_error *err) {
  unsigned uses[MAX_SYSCALL_ARGS] = {0};
  *one_rule_per_arg = false;
  for (size_t j = 0; j < s->n_args; j++) {
    const struct oci_seccomp_arg *a = &s->args[j];
    char afield[128];
    enum scmp_compare op = SCMP_CMP_EQ;
    snprintf(afield, sizeof(afield), "%s.args[%zu]", field, j);
    if (a->index >= MAX_SYSCALL_ARGS)
      return oci_error_setx(err, EINVAL, "%s.index: %u is out of range (0-%d)", afield,
                           a->index, MAX_SYSCALL_ARGS - 1);
    snprintf(afield, sizeof(afield), "%s.args[%zu].op", field, j);
    if (parse_op(a->op, afield, &op, err) < 0)
      return -1;
    /* MASKED_EQ: value is the mask, valueTwo what the masked arg must equal. */
    conds[j] = (struct scmp_arg_cmp){.arg = a->index, .op = op, .datum_a = a->value,
                                     .datum_b = op == SCMP_CMP_MASKED_EQ ? a->value_two.v : 0};
    if (++uses[a->index] > 1)
      *one_rule_per_arg = true;
  }
  return 0;
}

/* runc's documented semantics: all args of an entry must match together
 * (one rule, AND), except when an index repeats — libseccomp refuses two
 * comparisons of one argument in a rule, so each arg becomes its own rule
 * and any of them matching triggers the action (OR). */
static int add_syscall_rules(scmp_filter_ctx ctx, int nr, uint32_t action,
                             const struct scmp_arg_cmp *conds, size_t n_conds,
                             bool one_rule_per_arg) {
  if (!one_rule_per_arg)
    return seccomp_rule_add_array(ctx, action, nr, n_conds, conds);
  for (size_t j = 0; j < n_conds; j++) {
    int ret = seccomp_rule_add_array(ctx, action, nr, 1, &conds[j]);
    if (ret < 0)
      return ret;
  }
  return 0;
}

/* run.oci.seccomp_fail_unknown_syscall: a name libseccomp cannot resolve
 * is a mistake in the profile, not a syscall of a newer kernel. */
static int check_names_known(const struct oci_seccomp_syscall *s, const char *field,
                             oci_error *err) {
  for (size_t j = 0; j < s->n_names; j++) {
    const char *name = s->names[j] ? s->names[j] : "";
    if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
      return oci_error_setx(err, EINVAL, "%s.names[%zu]: unknown syscall \"%s\" (%s)", field,
                           j, name, OCI_ANNOTATION_SECCOMP_FAIL_UNKNOWN);
  }
  return 0;
}

static int add_syscall_entry(struct oci_seccomp_filter *f, const struct oci_seccomp_syscall *s,
                             size_t i, uint32_t default_action, bool fail_unknown,
                             oci_error *err) {
  char field[64], afield[96], efield[96];
  snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu]", i);
  snprintf(afield, sizeof(afield), "%s.action", field);
  snprintf(efield, sizeof(efield), "%s.errnoRet", field);

  uint32_t action = 0;
  if (parse_action(s->action, &s->errno_ret, afield, efield, &action, err) < 0)
    return -1;
  if (s->n_args > MAX_SYSCALL_ARGS * 8)
    return oci_error_set(err, E2BIG, "%s.args: too many (%zu)", field, s->n_args);
  struct scmp_arg_cmp conds[MAX_SYSCALL_ARGS * 8];
  bool one_rule_per_arg;
  if (build_conditions(s, field, conds, &one_rule_per_arg, err) < 0)
    return -1;
  if (fail_unknown && check_names_known(s, field, err) < 0)
    return -1;
  /* libseccomp rejects rules that repeat the default action (they would be
   * no-ops anyway), so leave them out as runc does. */
  if (action == default_action) {
    oci_debug("%s: same action as the default, skipped", field);
    return 0;
  }
  for (size_t j = 0; j < s->n_names; j++) {
    const char *name = s->names[j];
    int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
    if (nr == __NR_SCMP_ERROR) {
      /* Profiles list syscalls of newer kernels and other arches. */
      oci_debug("%s.names[%zu]: unknown syscall \"%s\" skipped", field, j, name ? name : "");
      continue;
    }
    int ret = add_syscall_rules(f->ctx, nr, action, conds, s->n_args, one_rule_per_arg);
    if (ret < 0)
      return oci_error_set(err, -ret, "%s.names[%zu]: add rule for \"%s\"", field, j, name);
    if (action == SCMP_ACT_NOTIFY)
      f->notify_used = true;
  }
  return 0;
}

/* The listener leaves the process that loaded the filter by sendmsg, its
 * one system call between the load and the hand-over: notified, it would
 * wait for an agent that can only get the listener through that very call,
 * and create with it. Refused, as runc refuses write (what its init uses
 * there). socketcall: sendmsg on 32-bit x86. */
static int check_notify_names(const struct oci_seccomp_syscall *s, size_t i, oci_error *err) {
  for (size_t j = 0; j < s->n_names; j++)
    if (strcmp(s->names[j], "sendmsg") == 0 || strcmp(s->names[j], "socketcall") == 0)
      return oci_error_setx(err, EINVAL,
                           "linux.seccomp.syscalls[%zu].names[%zu]: SCMP_ACT_NOTIFY cannot be "
                           "used for \"%s\": the runtime hands the listener to the agent "
                           "with it",
                           i, j, s->names[j]);
  return 0;
}

static int check_listener_fields(const struct oci_seccomp *sc, oci_error *err) {
  if (sc->listener_metadata != NULL && sc->listener_path == NULL)
    return oci_error_setx(err, EINVAL,
                         "linux.seccomp.listenerMetadata: set without listenerPath");
  if (sc->listener_path != NULL && sc->listener_path[0] != '/')
    return oci_error_setx(err, EINVAL, "linux.seccomp.listenerPath: \"%s\" is not absolute",
                         sc->listener_path);
  for (size_t i = 0; i < sc->n_syscalls; i++) {
    const char *a = sc->syscalls[i].action;
    if (a == NULL || strcmp(a, "SCMP_ACT_NOTIFY") != 0)
      continue;
    if (sc->listener_path == NULL)
      return oci_error_setx(err, EINVAL,
                           "linux.seccomp.syscalls[%zu].action: SCMP_ACT_NOTIFY needs "
                           "linux.seccomp.listenerPath",
                           i);
    if (check_notify_names(&sc->syscalls[i], i, err) < 0)
      return -1;
  }
  return 0;
}

/* The BPF program libseccomp generates (2.5 can only write it to an fd),
 * after the ENOSYS stub when the default action wants one
 * (seccomp-enosys.c), kept in memory for oci_seccomp_load(). The context is
 * no longer needed. */
static int compile(struct oci_seccomp_filter *f, const struct oci_seccomp *sc,
                   uint32_t default_action, oci_error *err) {
  _cleanup_close_ int memfd = memfd_create("ocirun-seccomp", MFD_CLOEXEC);
  if (memfd < 0)
    return oci_error_errno(err, "linux.seccomp: memfd_create");
  int ret = seccomp_export_bpf(f->ctx, memfd);
  if (ret < 0)
    return oci_error_set(err, -ret, "linux.seccomp: compile the filter");
  if (lseek(memfd, 0, SEEK_SET) < 0)
    return oci_error_errno(err, "linux.seccomp: rewind the compiled filter");
  char *bpf = NULL;
  size_t len = 0;
  if (oci_read_fd(memfd, &bpf, &len, err) < 0)
    return oci_error_wrap(err, "linux.seccomp: read the compiled filter");
  size_t n = len / sizeof(struct sock_filter);
  struct sock_filter *stub = NULL;
  size_t n_stub = oci_seccomp_wants_enosys(default_action)
                      ? oci_seccomp_enosys_stub(sc, f->ctx, &stub) : 0;
  if (n == 0 || n + n_stub > BPF_MAXINSNS) {
    free(bpf);
    free(stub);
    return oci_error_set(err, E2BIG, "linux.seccomp: the filter has %zu instructions, the "
                         "kernel takes at most %d", n + n_stub, BPF_MAXINSNS);
  }
  struct sock_filter *insns = oci_xmalloc0((n_stub + n) * sizeof(*insns));
  if (n_stub)
    memcpy(insns, stub, n_stub * sizeof(*insns));
  memcpy(insns + n_stub, bpf, n * sizeof(*insns));
  free(stub);
  free(bpf);
  f->prog = (struct sock_fprog){.len = (unsigned short)(n_stub + n), .filter = insns};
  seccomp_release(f->ctx);
  f->ctx = NULL;
  return 0;
}

static int prepare(const struct oci_seccomp *sc, bool fail_unknown,
                   struct oci_seccomp_filter **out, oci_error *err) {
  uint32_t default_action = 0;
  *out = NULL;
  if (parse_action(sc->default_action, &sc->default_errno_ret, "linux.seccomp.defaultAction",
                   "linux.seccomp.defaultErrnoRet", &default_action, err) < 0)
    return -1;
  if (default_action == SCMP_ACT_NOTIFY)
    return oci_error_setx(err, EINVAL,
                         "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  if (check_listener_fields(sc, err) < 0)
    return -1;

  struct oci_seccomp_filter *f = oci_xmalloc0(sizeof(*f));
  f->ctx = seccomp_init(default_action);
  if (f->ctx == NULL) {
    free(f);
    return oci_error_setx(err, EINVAL, "linux.seccomp.defaultAction: libseccomp refused \"%s\"",
                         sc->default_action);
  }
  /* process.noNewPrivileges decides about no_new_privs, not libseccomp;
   * and we want the kernel's errno on failure, not a blanket ECANCELED. */
  if (set_attr(f->ctx, SCMP_FLTATR_CTL_NNP, 0, "linux.seccomp", err) < 0 ||
      set_attr(f->ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "linux.seccomp", err) < 0 ||
      add_flags(f, sc, err) < 0 || add_architectures(f->ctx, sc, err) < 0)
    goto fail;
  for (size_t i = 0; i < sc->n_syscalls; i++)
    if (add_syscall_entry(f, &sc->syscalls[i], i, default_action, fail_unknown, err) < 0)
      goto fail;
  f->listener = f->notify_used || sc->listener_path != NULL;
  if ((f->raw_flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !f->listener) {
    /* The kernel refuses WAIT_KILLABLE_RECV without a listener; it only
     * changes how notifications wait, so without any there is nothing to do. */
    oci_debug("linux.seccomp.flags: WAIT_KILLABLE_RECV ignored, no listener");
    f->raw_flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }
  if (compile(f, sc, default_action, err) < 0)
    goto fail;
  *out = f;
  return 0;
fail:
  oci_seccomp_filter_free(f);
  return -1;
}

int oci_seccomp_prepare(const struct oci_seccomp *sc, struct oci_seccomp_filter **out,
                        oci_error *err) {
  return prepare(sc, false, out, err);
}

int oci_seccomp_prepare_config(const struct oci_config *cfg, struct oci_seccomp_filter **out,
                               oci_error *err) {
  *out = NULL;
  if (cfg->linux_ == NULL || cfg->linux_->seccomp == NULL)
    return 0;
  bool fail_unknown = oci_config_annotation_on(cfg, OCI_ANNOTATION_SECCOMP_FAIL_UNKNOWN);
  return prepare(cfg->linux_->seccomp, fail_unknown, out, err);
}

const char *oci_seccomp_library_version(void) {
  static char buf[48];
  const struct scmp_version *v = seccomp_version();
  if (v == NULL)
    return "unknown";
  snprintf(buf, sizeof(buf), "%u.%u.%u", v->major, v->minor, v->micro);
  return buf;
}

void oci_seccomp_filter_free(struct oci_seccomp_filter *f) {
  if (f == NULL)
    return;
  if (f->ctx)
    seccomp_release(f->ctx);
  free(f->prog.filter);
  free(f);
}

/* ---- loading ----------------------------------------------------------- */

int oci_seccomp_load(struct oci_seccomp_filter *f, int *notify_fd, oci_error *err) {
  /* Nothing but this one system call once the filter is in place: the
   * profile only has to allow what the container's process needs. */
  unsigned int flags = f->raw_flags;
  if (f->listener) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (flags & SECCOMP_FILTER_FLAG_TSYNC)  /* TSYNC + listener needs TSYNC_ESRCH */
      flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &f->prog);
  if (fd < 0) {
    *notify_fd = -1;
    return oci_error_errno(err, "seccomp: load the filter (flags %#x)", flags);
  }
  *notify_fd = f->listener ? fd : -1;
  return 0;
}

bool oci_seccomp_has_listener(const struct oci_seccomp_filter *f) {
  return f->listener;
}

/* ---- the seccomp agent ------------------------------------------------- */

/* The container process state (config-linux.md). `state` is already JSON,
 * and yajl_gen cannot insert raw text, so the object is generated without
 * it and the state is spliced in before the closing brace. */
static char *process_state_json(const struct oci_seccomp *sc, pid_t pid,
                                const char *state_json) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  j_gen_str(g, "ociVersion");
  j_gen_str(g, OCI_SPEC_VERSION);
  j_gen_str(g, "fds");
  yajl_gen_array_open(g);
  j_gen_str(g, "seccompFd");
  yajl_gen_array_close(g);
  j_gen_str(g, "pid");
  yajl_gen_integer(g, pid);
  if (sc->listener_metadata != NULL) {
    j_gen_str(g, "metadata");
    j_gen_str(g, sc->listener_metadata);
  }
  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  char *out = oci_xasprintf("%.*s,\"state\":%s}", (int)(len - 1), (const char *)buf,
                            state_json);
  yajl_gen_free(g);
  return out;
}

int oci_seccomp_send_listener(const struct oci_seccomp *sc, int notify_fd, pid_t pid,
                              const char *state_json, oci_error *err) {
  if (sc->listener_path == NULL)
    return oci_error_setx(err, EINVAL, "linux.seccomp.listenerPath: not set");
  if (state_json == NULL || state_json[0] != '{')
    return oci_error_setx(err, EINVAL, "seccomp listener: the state is not a JSON object");
  _cleanup_free_ char *json = process_state_json(sc, pid, state_json);
  _cleanup_close_ int sock = oci_unix_connect(sc->listener_path, "linux.seccomp.listenerPath", err);
  if (sock < 0) /* runc's words first: engines and runc's tests match them */
    return oci_error_wrap(err, "failed to connect with seccomp agent");
  /* The spec wants the fd with the first bytes, as oci_send_with_fd sends it. */
  struct iovec iov = {.iov_base = json, .iov_len = strlen(json)};
  if (oci_send_with_fd(sock, &iov, 1, notify_fd) < 0)
    return oci_error_errno(err, "seccomp listener: send the state to \"%s\"",
                           sc->listener_path);
  return 0;
}
