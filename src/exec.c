/* ocirun exec — run a new process inside an existing container. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ocirun.h"
#include "ocirun/config.h"

/* runc exits 255 when exec itself fails, so callers can tell that from the
 * exit status of the process that ran. */
#define EXEC_FAILED 255

struct exec_args {
  const char *console_socket;
  const char *cwd;
  struct cli_list env;
  bool tty;
  const char *user;
  struct cli_list additional_gids;
  const char *process;
  bool detach;
  const char *pid_file;
  const char *process_label;
  const char *apparmor;
  oci_opt_bool no_new_privs;
  struct cli_list caps;
  int preserve_fds;
  struct cli_list cgroup;
  bool ignore_paused;
};

#define EXEC_OPT(name, sh, kind, field, arg, help) \
  CLI_OPT(name, sh, kind, struct exec_args, field, arg, help)

static const struct cli_option exec_options[] = {
    EXEC_OPT("console-socket", 0, CLI_OPT_STRING, console_socket, "PATH",
             "AF_UNIX socket that receives the console's pseudoterminal master"),
    EXEC_OPT("cwd", 0, CLI_OPT_STRING, cwd, "DIR", "current working directory in the container"),
    EXEC_OPT("env", 'e', CLI_OPT_LIST, env, "KEY=VALUE", "set an environment variable (repeatable)"),
    EXEC_OPT("tty", 't', CLI_OPT_BOOL, tty, NULL, "allocate a pseudo-TTY"),
    EXEC_OPT("user", 'u', CLI_OPT_STRING, user, "UID[:GID]", "user (and group) id to run as"),
    EXEC_OPT("additional-gids", 'g', CLI_OPT_LIST, additional_gids, "GID",
             "add a supplementary group id (repeatable)"),
    EXEC_OPT("process", 'p', CLI_OPT_STRING, process, "FILE",
             "path to a process.json; other process options are ignored"),
    EXEC_OPT("detach", 'd', CLI_OPT_BOOL, detach, NULL, "detach from the container's process"),
    EXEC_OPT("pid-file", 0, CLI_OPT_STRING, pid_file, "FILE", "write the process id to FILE"),
    EXEC_OPT("process-label", 0, CLI_OPT_STRING, process_label, "LABEL",
             "SELinux label for the process"),
    EXEC_OPT("apparmor", 0, CLI_OPT_STRING, apparmor, "PROFILE",
             "AppArmor profile for the process"),
    EXEC_OPT("no-new-privs", 0, CLI_OPT_OPT_BOOL, no_new_privs, NULL,
             "set no_new_privs for the process"),
    EXEC_OPT("cap", 'c', CLI_OPT_LIST, caps, "CAP",
             "add a capability to the process (repeatable)"),
    EXEC_OPT("preserve-fds", 0, CLI_OPT_INT, preserve_fds, "N",
             "pass N more file descriptors (3 .. 3+N-1) to the process (default: 0)"),
    EXEC_OPT("cgroup", 0, CLI_OPT_LIST, cgroup, "PATH",
             "run in this sub-cgroup of the container's, [CONTROLLERS:]PATH (repeatable)"),
    EXEC_OPT("ignore-paused", 0, CLI_OPT_BOOL, ignore_paused, NULL,
             "allow exec in a paused container"),
};

static char **strv_copy(char **v, size_t n) {
  char **out = oci_xmalloc0((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    out[i] = oci_xstrdup(v[i]);
  return out;
}

static int parse_id(const char *s, uint32_t *out) {
  long n;
  if (oci_parse_long(s, &n) < 0 || n < 0 || n > UINT32_MAX)
    return -1;
  *out = (uint32_t)n;
  return 0;
}

/* -u UID[:GID] and -g GID... into p->user. */
static int fill_user(const struct exec_args *a, struct oci_process *p,
                     struct oci_exec_opts *eo) {
  if (a->user) {
    _cleanup_free_ char *uid = oci_xstrdup(a->user);
    char *gid = strchr(uid, ':');
    if (gid)
      *gid++ = '\0';
    if (parse_id(uid, &p->user.uid) < 0 || (gid && parse_id(gid, &p->user.gid) < 0))
      return cli_usage_error(&cli_exec, "invalid --user \"%s\": expected UID[:GID] as numbers",
                             a->user);
    eo->uid_set = true;
    eo->gid_set = gid != NULL;
  }
  p->user.additional_gids = oci_xmalloc0((a->additional_gids.n + 1) * sizeof(uint32_t));
  for (size_t i = 0; i < a->additional_gids.n; i++) {
    if (parse_id(a->additional_gids.v[i], &p->user.additional_gids[i]) < 0)
      return cli_usage_error(&cli_exec, "invalid --additional-gids \"%s\": expected a number >= 0",
                             a->additional_gids.v[i]);
    p->user.n_additional_gids = i + 1;
  }
  return 0;
}

/* The process from the command line: see container.h for what the library
 * adds from the container's config. */
static int process_from_cli(const struct exec_args *a, const struct cli_args *args,
                            struct oci_process **out, struct oci_exec_opts *eo) {
  if (args->n < 2)
    return cli_usage_error(&cli_exec, "container \"%s\": no command given (put it after the "
                                      "container id, or use --process)", args->v[0]);
  struct oci_process *p = oci_xmalloc0(sizeof(*p));
  *out = p;
  /* `exec ID -- CMD...`: the "--" only separates, as in crun. */
  int first = args->n > 2 && strcmp(args->v[1], "--") == 0 ? 2 : 1;
  p->n_args = (size_t)(args->n - first);
  p->args = strv_copy(args->v + first, p->n_args);
  p->n_env = a->env.n;
  p->env = strv_copy(a->env.v, a->env.n);
  p->cwd = a->cwd ? oci_xstrdup(a->cwd) : NULL;
  p->terminal = a->tty;
  p->no_new_privileges = a->no_new_privs.v;
  p->apparmor_profile = a->apparmor ? oci_xstrdup(a->apparmor) : NULL;
  p->selinux_label = a->process_label ? oci_xstrdup(a->process_label) : NULL;
  if (a->caps.n > 0) {
    p->capabilities = oci_xmalloc0(sizeof(*p->capabilities));
    p->capabilities->bounding =
        (struct oci_cap_set){.present = true, .names = strv_copy(a->caps.v, a->caps.n),
                             .n = a->caps.n};
  }
  eo->process_from_cli = true;
  eo->no_new_privs_set = a->no_new_privs.set;
  return fill_user(a, p, eo);
}

static int process_from_file(const char *path, struct oci_process **out, oci_error *err) {
  _cleanup_free_ char *json = NULL;
  size_t len = 0;
  if (oci_read_file(path, &json, &len, err) < 0)
    return oci_error_wrap(err, "exec: read --process");
  return oci_process_parse(json, len, path, out, err);
}

static int exec_with(struct cli_global *g, const struct exec_args *a,
                     const struct cli_args *args) {
  struct oci_exec_opts eo = {
      .id = args->v[0],
      .detach = a->detach,
      .ignore_paused = a->ignore_paused,
      .preserve_fds = a->preserve_fds,
  };
  oci_error err = {0};
  struct oci_process *p = NULL;
  if (a->process) {
    if (process_from_file(a->process, &p, &err) < 0) {
      cli_fail(&err);
      return EXEC_FAILED;
    }
  } else if (process_from_cli(a, args, &p, &eo) != 0) {
    oci_process_free(p);
    return 1;
  }
  eo.process = p;
  eo.cgroup_subs = a->cgroup.v;
  eo.n_cgroup_subs = a->cgroup.n;
  _cleanup_free_ char *console = cli_absolute_path(a->console_socket);
  _cleanup_free_ char *pid_file = cli_absolute_path(a->pid_file);
  eo.console_socket = console;
  eo.pid_file = pid_file;
  int exit_status = 0;
  int r = oci_container_exec(&g->ctx, &eo, &exit_status, &err);
  bool needs_console = p->terminal && a->detach && a->console_socket == NULL;
  oci_process_free(p);
  if (r < 0) {
    if (err.errnum == EBUSY && !a->ignore_paused)
      cli_error_hint(&err, "use --ignore-paused");
    else if (needs_console)
      cli_error_hint(&err, "use --console-socket");
    cli_fail(&err);
    return EXEC_FAILED;
  }
  return a->detach ? 0 : exit_status;
}

static int exec_main(struct cli_global *g, int argc, char **argv) {
  struct exec_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_exec, argc, argv, &a, &args, &status))
    return status;
  status = exec_with(g, &a, &args);
  cli_opts_free(&cli_exec, &a);
  return status;
}

const struct cli_command cli_exec = {
    .name = "exec",
    .summary = "execute a new process inside the container",
    .args_usage = "<container-id> <command> [args...]  |  -p process.json <container-id>",
    .description = "The exec command runs a new process in the namespaces and cgroup of a\n"
                   "running container. Without --process, the process is the container's\n"
                   "config process with the given command, environment additions, user,\n"
                   "capabilities and working directory. Options must come before the\n"
                   "container id: everything after it is the command. The exit status is\n"
                   "the process's, 255 when the exec itself failed.",
    .options = exec_options,
    .n_options = OCI_ARRAY_SIZE(exec_options),
    .min_args = 1,
    .max_args = -1,
    .args_end_options = true,
    .run = exec_main,
};
