/* ocirun features — print the runtime-spec features document. */
#include <stdlib.h>

#include "ocirun.h"
#include "ocirun/log.h"

static int features_main(struct cli_global *g, int argc, char **argv) {
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_features, argc, argv, NULL, &args, &status))
    return status;
  char *json = oci_features_json(&g->ctx);
  if (json == NULL) {
    oci_log(OCI_LOG_ERROR, "features: the features document is not available");
    return 1;
  }
  int r = cli_write_json_indented(stdout, json, "  ");
  free(json);
  if (r < 0) {
    oci_log(OCI_LOG_ERROR, "features: write to stdout failed");
    return 1;
  }
  return 0;
}

const struct cli_command cli_features = {
    .name = "features",
    .summary = "show the enabled features",
    .args_usage = "",
    .description = "The features command prints, as JSON, what this runtime supports: OCI\n"
                   "version range, hooks, mount options, namespaces, capabilities, cgroup,\n"
                   "seccomp and AppArmor/SELinux support (runtime-spec features.md). Its\n"
                   "annotation io.github.ocirun.checkpoint says whether checkpoint/restore\n"
                   "can work: the CRIU version, or why not.",
    .min_args = 0,
    .max_args = 0,
    .run = features_main,
};
