/* ocirun pause — freeze every process of a container (cgroup freezer). */
#include "ocirun.h"

struct pause_opts {
  int unused;
};

static int pause_main(struct cli_global *g, int argc, char **argv) {
  struct pause_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_pause, argc, argv, &o, &args, &status))
    return status;
  oci_error err = {0};
  if (oci_container_pause(&g->ctx, args.v[0], &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_pause = {
    .name = "pause",
    .summary = "suspend all processes inside the container",
    .args_usage = "<container-id>",
    .description = "The pause command freezes every process of a running container through\n"
                   "the cgroup freezer. Use \"ocirun resume\" to thaw them.",
    .min_args = 1,
    .max_args = 1,
    .run = pause_main,
};
