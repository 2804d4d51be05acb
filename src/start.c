/* ocirun start — run the user process of a created container. */
#include "ocirun.h"

struct start_opts {
  int unused;
};

static int start_main(struct cli_global *g, int argc, char **argv) {
  struct start_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_start, argc, argv, &o, &args, &status))
    return status;
  oci_error err = {0};
  if (oci_container_start(&g->ctx, args.v[0], &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_start = {
    .name = "start",
    .summary = "execute the user defined process in a created container",
    .args_usage = "<container-id>",
    .description = "The start command executes the process defined in the bundle's config.json\n"
                   "in a container created by \"ocirun create\". It returns once the process\n"
                   "has been started; it does not wait for it to exit.",
    .min_args = 1,
    .max_args = 1,
    .run = start_main,
};
