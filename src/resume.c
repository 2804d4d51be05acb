/* ocirun resume — thaw a container frozen by `pause`. */
#include "ocirun.h"

static int resume_main(struct cli_global *g, int argc, char **argv) {
  return cli_run_id_command(&cli_resume, g, argc, argv, oci_container_resume);
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
