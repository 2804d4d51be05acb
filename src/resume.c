/* ocirun resume — thaw a container frozen by `pause`. */
#include "ocirun.h"

struct resume_opts {
  int unused;
};

static int resume_main(struct cli_global *g, int argc, char **argv) {
  struct resume_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_resume, argc, argv, &o, &args, &status))
    return status;
  oci_error err = {0};
  if (oci_container_resume(&g->ctx, args.v[0], &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_resume = {
    .name = "resume",
    .summary = "resume all processes that have been previously paused",
    .args_usage = "<container-id>",
    .description = "The resume command thaws every process of a container paused with\n"
                   "\"ocirun pause\".",
    .min_args = 1,
    .max_args = 1,
    .run = resume_main,
};
