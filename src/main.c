/* ocirun CLI — global options and the table of commands.
 *
 *   ocirun [global options] COMMAND [command options] [arguments]
 *
 * Global options must come before the command, as with runc. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocirun.h"
#include "ocirun/log.h"
#include "ocirun/seccomp.h"

#ifndef OCIRUN_VERSION
#define OCIRUN_VERSION "unknown"
#endif
/* Made by make: git's description of the source tree at build time. */
#include "src/commit.h"

/* runc exits 3 for an unknown command (urfave/cli's "No help topic"). */
#define EXIT_UNKNOWN_COMMAND 3

static const struct cli_command *const commands[] = {
    &cli_create, &cli_start, &cli_run,   &cli_exec,   &cli_kill,   &cli_delete,
    &cli_state,  &cli_list,  &cli_ps,    &cli_pause,  &cli_resume, &cli_update,
    &cli_events, &cli_spec,  &cli_features, &cli_checkpoint, &cli_restore,
};

enum global_opt {
  OPT_ROOT = 256,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_CGROUP_MANAGER,
  OPT_ROOTLESS,
  OPT_CRIU,
};

static const struct option global_longopts[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"debug", optional_argument, NULL, OPT_DEBUG},
    {"systemd-cgroup", optional_argument, NULL, OPT_SYSTEMD_CGROUP},
    {"cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER},
    {"rootless", required_argument, NULL, OPT_ROOTLESS},
    {"criu", required_argument, NULL, OPT_CRIU},
    {"version", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void print_checkpoint_note(const struct oci_context *ctx);

/* Opens with runc's "NAME:" and "   runc - Open Container Initiative runtime". */
static void print_usage(const struct oci_context *ctx) {
  printf("NAME:\n   %s - Open Container Initiative runtime\n\n"
         "Usage: %s [GLOBAL OPTIONS] COMMAND [COMMAND OPTIONS] [ARGUMENTS]\n\n"
         "ocirun is a low-level container runtime for the Open Container Initiative\n"
         "runtime specification, command-line compatible with runc.\n\n"
         "Commands:\n",
         cli_progname, cli_progname);
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    printf("  %-10s %s\n", commands[i]->name, commands[i]->summary);
  printf("  %-10s %s\n", "help", "show this help, or the help of a command");
  printf("\nGlobal options:\n"
         "      --root DIR              root directory for container state (default: %s)\n"
         "      --log FILE              also write the log to FILE\n"
         "      --log-format FORMAT     log format: text (default) or json\n"
         "      --debug                 enable debug logging\n"
         "      --systemd-cgroup        manage cgroups through systemd (cgroupsPath is slice:prefix:name)\n"
         "      --cgroup-manager MGR    cgroupfs (default), systemd or disabled\n"
         "      --rootless VALUE        true, false or auto (accepted for runc compatibility, ignored)\n"
         "      --criu PATH             the criu binary for checkpoint/restore (default: criu in PATH)\n"
         "  -v, --version               print the version and exit\n"
         "  -h, --help                  show this help and exit\n\n"
         "Run '%s COMMAND --help' for the options of a command.\n",
         OCI_DEFAULT_STATE_ROOT, cli_progname);
  print_checkpoint_note(ctx);
}

/* checkpoint and restore work only with CRIU: say whether it is there. */
static void print_checkpoint_note(const struct oci_context *ctx) {
  oci_error err = {0};
  _cleanup_free_ char *criu = oci_criu_binary(ctx, &err);
  if (criu)
    printf("\ncheckpoint and restore use CRIU: %s\n", criu);
  else
    printf("\ncheckpoint and restore are unavailable: %s\n", err.msg);
}

/* runc's layout, less its "go:" line: the runtime-spec version is the one
 * ocirun implements, libseccomp's the one it runs with. */
static void print_version(void) {
  printf("%s version %s\ncommit: %s\nspec: %s\nlibseccomp: %s\n", cli_progname, OCIRUN_VERSION,
         OCIRUN_COMMIT, OCI_SPEC_VERSION, oci_seccomp_library_version());
}

static const struct cli_command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(commands[i]->name, name) == 0)
      return commands[i];
  return NULL;
}

static int global_error(const char *fmt, const char *value) {
  fprintf(stderr, "ocirun: ");
  fprintf(stderr, fmt, value);
  fprintf(stderr, "\nRun 'ocirun --help' for usage.\n");
  return 1;
}

static int bool_value(const char *optarg_, const char *name, bool *out) {
  if (optarg_ && cli_parse_bool(optarg_, out) < 0)
    return global_error(name, optarg_);
  if (!optarg_)
    *out = true;
  return 0;
}

/* Apply one global option; returns 0, or 1 after printing a usage error. */
static int apply_global(struct cli_global *g, int c, const char *arg) {
  switch (c) {
  case OPT_ROOT:
    g->ctx.state_root = arg;
    return 0;
  case OPT_LOG:
    g->log_path = arg;
    return 0;
  case OPT_LOG_FORMAT:
    if (strcmp(arg, "text") != 0 && strcmp(arg, "json") != 0)
      return global_error("invalid --log-format \"%s\": expected text or json", arg);
    g->log_format = arg;
    return 0;
  case OPT_DEBUG:
    return bool_value(arg, "invalid boolean value \"%s\" for --debug", &g->ctx.debug);
  case OPT_SYSTEMD_CGROUP:
    return bool_value(arg, "invalid boolean value \"%s\" for --systemd-cgroup",
                      &g->ctx.systemd_cgroup);
  case OPT_CGROUP_MANAGER:
    if (strcmp(arg, "systemd") == 0)
      g->ctx.systemd_cgroup = true;
    else if (strcmp(arg, "cgroupfs") == 0 || strcmp(arg, "disabled") == 0)
      g->ctx.systemd_cgroup = false;
    else
      return global_error("invalid --cgroup-manager \"%s\": expected cgroupfs, systemd or disabled",
                          arg);
    return 0;
  case OPT_ROOTLESS:
    if (strcmp(arg, "auto") != 0 && strcmp(arg, "true") != 0 && strcmp(arg, "false") != 0)
      return global_error("invalid --rootless \"%s\": expected true, false or auto", arg);
    return 0;
  case OPT_CRIU:
    g->ctx.criu = arg;
    return 0;
  }
  return 1;
}

/* Parse the global options; returns -1 to go on with the command at
 * argv[optind], else the exit status. */
static int parse_globals(struct cli_global *g, int argc, char **argv) {
  opterr = 0;
  int c;
  while ((c = getopt_long_only(argc, argv, "+:vh", global_longopts, NULL)) != -1) {
    if (c == 'v') {
      print_version();
      return 0;
    }
    if (c == 'h') {
      print_usage(&g->ctx);
      return 0;
    }
    if (c == ':')
      return global_error("option %s needs a value", argv[optind - 1]);
    if (c == '?')
      return global_error("unknown global option %s", argv[optind - 1]);
    if (apply_global(g, c, optarg) != 0)
      return 1;
  }
  return -1;
}

/* runc's words for it, "No help topic for 'foo'", which its tests match. */
static int unknown_command(const char *name) {
  oci_log(OCI_LOG_ERROR, "unknown command \"%s\": No help topic for '%s'", name, name);
  fprintf(stderr, "Run 'ocirun --help' for the list of commands.\n");
  return EXIT_UNKNOWN_COMMAND;
}

/* `ocirun help [COMMAND]`, as runc's `help`/`h`. */
static int run_help(const struct oci_context *ctx, int argc, char **argv) {
  if (argc < 2) {
    print_usage(ctx);
    return 0;
  }
  const struct cli_command *cmd = find_command(argv[1]);
  if (cmd == NULL)
    return unknown_command(argv[1]);
  cli_print_help(cmd);
  return 0;
}

/* runc's default root: $XDG_RUNTIME_DIR/<name> for a rootless caller
 * (rootless podman runs us as uid 0 of its user namespace), else /run. */
static char *default_state_root(void) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg && xdg[0] == '/' && oci_is_rootless())
    return oci_xasprintf("%s/ocirun", xdg);
  return oci_xstrdup(OCI_DEFAULT_STATE_ROOT);
}

int main(int argc, char **argv) {
  if (argc > 0 && argv[0] != NULL && *argv[0] != '\0') {
    const char *slash = strrchr(argv[0], '/');
    cli_progname = slash ? slash + 1 : argv[0];
  }
  /* Freed at exit like everything else, so that LSan (check-asan) reports
   * only real leaks. */
  _cleanup_free_ char *default_root = default_state_root();
  struct cli_global g = {
      .ctx = {.state_root = default_root},
      .log_format = "text",
  };
  int status = parse_globals(&g, argc, argv);
  if (status >= 0)
    return status;
  if (optind >= argc) {
    print_usage(&g.ctx);
    return 0;
  }
  /* Absolute, so the state dir is the same whatever directory the library
   * works from (runc does the same). */
  _cleanup_free_ char *root = cli_absolute_path(g.ctx.state_root);
  g.ctx.state_root = root;
  if (oci_log_init(g.log_path, strcmp(g.log_format, "json") == 0, g.ctx.debug) < 0) {
    fprintf(stderr, "ocirun: open log file \"%s\": %s\n", g.log_path, strerror(errno));
    return 1;
  }
  const char *name = argv[optind];
  if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0)
    return run_help(&g.ctx, argc - optind, argv + optind);
  const struct cli_command *cmd = find_command(name);
  if (cmd == NULL)
    return unknown_command(name);
  return cmd->run(&g, argc - optind, argv + optind);
}
