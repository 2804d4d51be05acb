/* ocirun state — print a container's state JSON (runtime-spec "state"). */
#include <stdlib.h>

#include "ocirun.h"
#include "ocirun/log.h"

static int state_main(struct cli_global *g, int argc, char **argv) {
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_state, argc, argv, NULL, &args, &status))
    return status;
  oci_error err = {0};
  char *json = NULL;
  if (oci_container_state_json(&g->ctx, args.v[0], &json, &err) < 0)
    return cli_fail(&err);
  int r = cli_write_json_indented(stdout, json, "  ");
  free(json);
  if (r < 0) {
    oci_log(OCI_LOG_ERROR, "state \"%s\": write to stdout failed", args.v[0]);
    return 1;
  }
  return 0;
}

const struct cli_command cli_state = {
    .name = "state",
    .summary = "output the state of a container",
    .args_usage = "<container-id>",
    .description = "The state command prints the container's state as JSON: ociVersion, id,\n"
                   "pid, status, bundle, rootfs, created, owner and annotations.",
    .min_args = 1,
    .max_args = 1,
    .run = state_main,
};
