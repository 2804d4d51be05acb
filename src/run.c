/* ocirun run — create + start + wait + delete in one command. */
#include "ocirun.h"

static const struct cli_option run_options[] = {
    CLI_CREATE_OPTIONS,
    CLI_OPT("detach", 'd', CLI_OPT_BOOL, struct cli_create_args, detach, NULL,
            "do not wait for the container's process; return once it started"),
    CLI_OPT("keep", 0, CLI_OPT_BOOL, struct cli_create_args, keep, NULL,
            "do not delete the container after it exits"),
    CLI_OPT("no-subreaper", 0, CLI_OPT_BOOL, struct cli_create_args, no_subreaper, NULL,
            "accepted for runc compatibility"),
};

static int run_main(struct cli_global *g, int argc, char **argv) {
  struct cli_create_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_run, argc, argv, &a, &args, &status))
    return status;
  struct oci_create_opts opts;
  cli_create_opts_fill(&a, args.v[0], &opts);
  oci_error err = {0};
  int exit_status = 0;
  int r = oci_container_run(&g->ctx, &opts, &exit_status, &err);
  cli_create_opts_release(&opts);
  if (r < 0)
    return cli_fail_create(g, &err);
  return opts.detach ? 0 : exit_status;
}

const struct cli_command cli_run = {
    .name = "run",
    .summary = "create and run a container",
    .args_usage = "<container-id>",
    .description = "The run command creates a container from a bundle, starts it, waits for\n"
                   "its process to exit and deletes it. The exit status is the process's,\n"
                   "or 128+N when it was killed by signal N. With --detach it returns once\n"
                   "the process has started.",
    .options = run_options,
    .n_options = OCI_ARRAY_SIZE(run_options),
    .min_args = 1,
    .max_args = 1,
    .run = run_main,
};
