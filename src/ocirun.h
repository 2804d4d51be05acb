/* ocirun CLI — shared declarations. The CLI only turns argv into a
 * libcontainer call and its result into output and an exit status.
 *
 * Each command lives in its own file and exports one `struct cli_command`
 * describing its options (a table), its positional arguments and its help
 * text; opts.c parses argv against that table the way runc (urfave/cli over
 * Go's flag package) does, so engines that drive runc can drive us:
 *   --flag value, --flag=value, -flag value (one dash), -f value, -fvalue,
 *   bool flags as --flag or --flag=true|false, repeated list flags,
 *   `--` ends options, options may follow the container id (runc reorders
 *   them) except for exec and ps, where everything after the id belongs to
 *   the command being run.
 *
 * exec and the container's config process
 * ---------------------------------------
 * `exec` without --process builds a struct oci_process holding only what the
 * command line gave (args, -e env, --cwd, -u, -g, --cap, -t, --no-new-privs,
 * --apparmor, --process-label; cwd NULL and uid/gid unset when not given)
 * and sets oci_exec_opts.process_from_cli. The library completes it from the
 * container's config process (the config as it was at create): env is
 * appended to, caps are added, the rest is defaulted; the exact rules are
 * the comment above struct oci_exec_opts in include/ocirun/container.h.
 * With --process FILE the parsed process is complete and used as is.
 */
#ifndef OCIRUN_CLI_H
#define OCIRUN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ocirun/cgroup.h"
#include "ocirun/container.h"
#include "ocirun/utils.h"

/* Global options parsed by main.c. */
struct cli_global {
  struct oci_context ctx;
  const char *log_path;
  const char *log_format;   /* "text" | "json" */
};

/* Each command: argv[0] is the command name. Returns the process exit status. */
typedef int (*cli_command_fn)(struct cli_global *g, int argc, char **argv);

/* ---- option tables (opts.c) ---------------------------------------- */

enum cli_opt_kind {
  CLI_OPT_BOOL,     /* bool: --flag, --flag=true|false */
  CLI_OPT_STRING,   /* const char *: NULL when not given; last one wins */
  CLI_OPT_INT,      /* int: decimal, >= 0 */
  CLI_OPT_LIST,     /* struct cli_list: every occurrence, in order */
  CLI_OPT_OPT_BOOL, /* oci_opt_bool: like BOOL, and .set says it was given */
};

/* Repeated options (--env A=1 --env B=2). */
struct cli_list {
  char **v;
  size_t n;
};

struct cli_option {
  const char *name;         /* long name, without dashes */
  char short_name;          /* 0: none */
  enum cli_opt_kind kind;
  size_t offset;            /* where the value goes in the command's struct */
  const char *arg;          /* placeholder shown in help ("DIR"); NULL for bools */
  const char *help;         /* one line */
};

#define CLI_OPT(name, sh, kind, type, field, arg, help) \
  { name, sh, kind, offsetof(type, field), arg, help }

struct cli_command {
  const char *name;
  const char *summary;      /* one line for `ocirun --help` */
  const char *args_usage;   /* "<container-id>" ... */
  const char *description;  /* paragraphs for `ocirun CMD --help` */
  const struct cli_option *options;
  size_t n_options;
  int min_args;             /* positional arguments */
  int max_args;             /* -1: no limit */
  bool args_end_options;    /* exec, ps: the first positional ends the options */
  cli_command_fn run;
};

/* Positional arguments left after the options. */
struct cli_args {
  char **v;
  int n;
};

/* Parse argv (argv[0] = command name) into *opts following cmd->options.
 * Returns true when the command should go on; false when it must return
 * *status at once (after --help: 0; after a usage error, printed and
 * logged: 1). List options are allocated: free with cli_opts_free(). */
bool cli_parse(const struct cli_command *cmd, int argc, char **argv, void *opts,
               struct cli_args *args, int *status);
void cli_opts_free(const struct cli_command *cmd, void *opts);
void cli_print_help(const struct cli_command *cmd);

/* The name help and --version print: the basename of argv[0], so that
 * ocirun installed as "runc" says "runc version ..." and "runc - ...",
 * which scripts written for runc look for (set by main). */
extern const char *cli_progname;
/* Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. */
int cli_parse_bool(const char *s, bool *out);

/* The whole main of a command that takes only a container id and makes one
 * library call (start, pause, resume). */
typedef int (*cli_id_op)(const struct oci_context *ctx, const char *id, oci_error *err);
int cli_run_id_command(const struct cli_command *cmd, struct cli_global *g, int argc,
                       char **argv, cli_id_op op);

/* A usage error: "ocirun: <cmd>: <msg>" on stderr and the log. Returns 1. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report a failed library call: "ocirun: <msg>" on stderr and to the log
 * as {"level":"error","msg":...}. Returns 1. */
int cli_fail(const oci_error *err);
/* Append " (hint)" to a library error: the library states the condition,
 * the CLI names the flag that changes it. */
void cli_error_hint(oci_error *err, const char *hint);

/* An absolute version of path (relative to the current directory), not
 * resolving symlinks. NULL in, NULL out. */
char *cli_absolute_path(const char *path);

/* Re-indent JSON text the way Go's json.MarshalIndent(v, "", unit) does
 * (runc's output: unit "  " for state, "\t" for spec) and write it with a
 * trailing newline. Returns 0, or -1 on write error. */
int cli_write_json_indented(FILE *out, const char *json, const char *unit);

/* ---- create and run share their options (create.c) ------------------ */

struct cli_create_args {
  const char *bundle;
  const char *config;       /* crun's --config: another file than <bundle>/config.json */
  const char *console_socket;
  const char *pid_file;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  bool detach;              /* run only */
  bool keep;                /* run only */
  bool no_subreaper;        /* run only; accepted, the library decides */
};

#define CLI_CREATE_OPTIONS                                                                    \
  CLI_OPT("bundle", 'b', CLI_OPT_STRING, struct cli_create_args, bundle, "DIR",               \
          "path to the bundle directory (default: the current directory)"),                  \
      CLI_OPT("config", 0, CLI_OPT_STRING, struct cli_create_args, config, "FILE",            \
              "read the configuration from FILE (default: config.json in the bundle)"),       \
      CLI_OPT("console-socket", 0, CLI_OPT_STRING, struct cli_create_args, console_socket,    \
              "PATH", "AF_UNIX socket that receives the console's pseudoterminal master"),    \
      CLI_OPT("pid-file", 0, CLI_OPT_STRING, struct cli_create_args, pid_file, "FILE",        \
              "write the container's init pid to FILE"),                                      \
      CLI_OPT("no-pivot", 0, CLI_OPT_BOOL, struct cli_create_args, no_pivot, NULL,            \
              "do not use pivot_root (for a rootfs on a ramdisk)"),                           \
      CLI_OPT("no-new-keyring", 0, CLI_OPT_BOOL, struct cli_create_args, no_new_keyring,      \
              NULL, "keep the caller's session keyring instead of creating a new one"),       \
      CLI_OPT("preserve-fds", 0, CLI_OPT_INT, struct cli_create_args, preserve_fds, "N",      \
              "pass N more file descriptors (3 .. 3+N-1) to the container (default: 0)")

/* Turn parsed create/run options into the library's; paths made absolute
 * (freed by cli_create_opts_release). */
void cli_create_opts_fill(const struct cli_create_args *a, const char *id,
                          struct oci_create_opts *out);
int cli_fail_create(const struct cli_global *g, oci_error *err);
void cli_create_opts_release(struct oci_create_opts *o);

/* ---- checkpoint and restore share CRIU's options (checkpoint.c) ------ */

/* The options restore shares with checkpoint, in runc's words. */
struct cli_criu_args {
  const char *image_path, *work_path, *manage_cgroups_mode, *empty_ns;
  bool tcp_established, ext_unix_sk, shell_job, lazy_pages, file_locks, auto_dedup;
};

#define CLI_CRIU_OPT(name, kind, type, field, arg, help) \
  CLI_OPT(name, 0, kind, type, criu.field, arg, help)
#define CLI_CRIU_COMMON_OPTIONS(type)                                                          \
  CLI_CRIU_OPT("image-path", CLI_OPT_STRING, type, image_path, "DIR",                          \
               "where the checkpoint images are (default: ./checkpoint)"),                     \
      CLI_CRIU_OPT("work-path", CLI_OPT_STRING, type, work_path, "DIR",                        \
                   "where CRIU writes its log and work files (default: the image path)"),      \
      CLI_CRIU_OPT("tcp-established", CLI_OPT_BOOL, type, tcp_established, NULL,               \
                   "allow open TCP connections"),                                              \
      CLI_CRIU_OPT("ext-unix-sk", CLI_OPT_BOOL, type, ext_unix_sk, NULL,                       \
                   "allow external unix sockets"),                                             \
      CLI_CRIU_OPT("shell-job", CLI_OPT_BOOL, type, shell_job, NULL,                           \
                   "allow a shell job (a terminal from outside the container)"),               \
      CLI_CRIU_OPT("lazy-pages", CLI_OPT_BOOL, type, lazy_pages, NULL,                         \
                   "use userfaultfd to load memory pages lazily"),                             \
      CLI_CRIU_OPT("file-locks", CLI_OPT_BOOL, type, file_locks, NULL, "handle file locks"),   \
      CLI_CRIU_OPT("manage-cgroups-mode", CLI_OPT_STRING, type, manage_cgroups_mode, "MODE",   \
                   "cgroups mode: soft (CRIU's default), full, strict or ignore"),             \
      CLI_CRIU_OPT("empty-ns", CLI_OPT_STRING, type, empty_ns, "NS",                           \
                   "leave namespace NS (network) empty: the engine sets it up"),               \
      CLI_CRIU_OPT("auto-dedup", CLI_OPT_BOOL, type, auto_dedup, NULL,                         \
                   "free memory pages already in the parent's images")

/* The shared options into the library's, paths made absolute (image_path
 * default ./checkpoint), the --status-fd text parsed (-1 when NULL).
 * Returns -1 for a bad fd. */
int cli_criu_opts_fill(const struct cli_command *cmd, struct oci_criu_opts *o,
                       const struct cli_criu_args *a, const char *status_fd);
/* 0 when the CRIU binary is there, else the error reported (1). */
int cli_criu_check(const struct cli_global *g, const char *command, const char *id);
void cli_criu_opts_release(struct oci_criu_opts *o);

/* ---- the commands, one file each ------------------------------------ */

extern const struct cli_command cli_create, cli_start, cli_run, cli_exec, cli_kill, cli_delete,
    cli_state, cli_list, cli_ps, cli_pause, cli_resume, cli_update, cli_events, cli_spec,
    cli_features, cli_checkpoint, cli_restore;

#endif
