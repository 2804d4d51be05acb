/* ocirun restore — a container from a bundle and a CRIU checkpoint
 * (runc's command). */
#include <stdlib.h>

#include "ocirun.h"

struct restore_args {
  struct cli_criu_args criu;
  struct cli_create_args create;
};

#define RS_CREATE(name, sh, kind, field, arg, help) \
  CLI_OPT(name, sh, kind, struct restore_args, create.field, arg, help)

static const struct cli_option restore_options[] = {
    CLI_CRIU_COMMON_OPTIONS(struct restore_args),
    RS_CREATE("bundle", 'b', CLI_OPT_STRING, bundle, "DIR",
              "path to the bundle directory (default: the current directory)"),
    RS_CREATE("console-socket", 0, CLI_OPT_STRING, console_socket, "PATH",
              "AF_UNIX socket that receives the console's pseudoterminal master"),
    RS_CREATE("pid-file", 0, CLI_OPT_STRING, pid_file, "FILE",
              "write the restored init's pid to FILE"),
    RS_CREATE("detach", 'd', CLI_OPT_BOOL, detach, NULL,
              "do not wait for the container's process; return once restored"),
    RS_CREATE("no-subreaper", 0, CLI_OPT_BOOL, no_subreaper, NULL,
              "accepted for runc compatibility"),
    RS_CREATE("no-pivot", 0, CLI_OPT_BOOL, no_pivot, NULL,
              "accepted for runc compatibility (CRIU sets the root up)"),
};

static int restore_main(struct cli_global *g, int argc, char **argv) {
  struct restore_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_restore, argc, argv, &a, &args, &status))
    return status;
  struct oci_criu_opts ro = {0};
  int bad = cli_criu_opts_fill(&cli_restore, &ro, &a.criu, NULL);
  if (bad == 0)
    bad = cli_criu_check(g, "restore", args.v[0]);
  if (bad != 0) {
    cli_criu_opts_release(&ro);
    return bad;
  }
  struct oci_create_opts opts;
  cli_create_opts_fill(&a.create, args.v[0], &opts);
  opts.restore = &ro;
  oci_error err = {0};
  int exit_status = 0;
  int r = oci_container_restore(&g->ctx, &opts, &exit_status, &err);
  cli_create_opts_release(&opts);
  cli_criu_opts_release(&ro);
  if (r < 0)
    return cli_fail_create(g, &err);
  return opts.detach ? 0 : exit_status;
}

const struct cli_command cli_restore = {
    .name = "restore",
    .summary = "restore a container from a checkpoint (CRIU)",
    .args_usage = "<container-id>",
    .description =
        "The restore command creates container <container-id> from the bundle and\n"
        "brings back the processes of the checkpoint in --image-path, running. A\n"
        "stopped container of that id (one that was checkpointed) is replaced.\n"
        "Without --detach it waits for the process and deletes the container, as\n"
        "\"ocirun run\" does. Needs the criu binary (global --criu, or PATH).",
    .options = restore_options,
    .n_options = OCI_ARRAY_SIZE(restore_options),
    .min_args = 1,
    .max_args = 1,
    .run = restore_main,
};
