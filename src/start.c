/* ocirun start — run the user process of a created container. */
#include "ocirun.h"

static int start_main(struct cli_global *g, int argc, char **argv) {
  return cli_run_id_command(&cli_start, g, argc, argv, oci_container_start);
}

const struct cli_command cli_start = {
    .name = "start",
    .summary = "execute the user defined process in a created container",
    .args_usage = "<container-id>",
    .description = "The start command executes the process defined in the bundle's config.json\n"
                   "in a container created by \"ocirun create\". It returns once the process\n"
                   "has been started; it does not wait for it to exit. A failing startContainer\n"
                   "hook makes it fail, and the process does not run.",
    .min_args = 1,
    .max_args = 1,
    .run = start_main,
};
