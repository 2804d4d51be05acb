/* ocirun kill — send a signal to a container's init (or all its processes). */
#include <signal.h>

#include "ocirun.h"
#include "ocirun/utils.h"

struct kill_opts {
  bool all;
};

static const struct cli_option kill_options[] = {
    CLI_OPT("all", 'a', CLI_OPT_BOOL, struct kill_opts, all, NULL,
            "send the signal to all processes inside the container"),
};

static int kill_main(struct cli_global *g, int argc, char **argv) {
  struct kill_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_kill, argc, argv, &o, &args, &status))
    return status;
  int sig = SIGTERM;
  if (args.n > 1 && (sig = oci_parse_signal(args.v[1])) < 0)
    return cli_usage_error(&cli_kill, "unknown signal \"%s\"", args.v[1]);
  oci_error err = {0};
  if (oci_container_kill(&g->ctx, args.v[0], sig, o.all, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_kill = {
    .name = "kill",
    .summary = "send a signal (default: SIGTERM) to the container's init process",
    .args_usage = "<container-id> [signal]",
    .description = "The kill command sends a signal to the init process of the container, or\n"
                   "with --all to every process in it. The signal is a number (9) or a name,\n"
                   "with or without the SIG prefix, in any case (KILL, SIGKILL, sigkill).",
    .options = kill_options,
    .n_options = OCI_ARRAY_SIZE(kill_options),
    .min_args = 1,
    .max_args = 2,
    .run = kill_main,
};
