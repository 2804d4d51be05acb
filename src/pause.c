/* ocirun pause — freeze every process of a container (cgroup freezer). */
#include "ocirun.h"

static int pause_main(struct cli_global *g, int argc, char **argv) {
  return cli_run_id_command(&cli_pause, g, argc, argv, oci_container_pause);
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
