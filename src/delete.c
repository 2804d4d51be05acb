/* ocirun delete — remove a stopped container's state and resources. */
#include "ocirun.h"

struct delete_opts {
  bool force;
};

static const struct cli_option delete_options[] = {
    CLI_OPT("force", 'f', CLI_OPT_BOOL, struct delete_opts, force, NULL,
            "kill the container first (SIGKILL) if it is still running"),
};

static int delete_main(struct cli_global *g, int argc, char **argv) {
  struct delete_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_delete, argc, argv, &o, &args, &status))
    return status;
  oci_error err = {0};
  if (oci_container_delete(&g->ctx, args.v[0], o.force, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_delete = {
    .name = "delete",
    .summary = "delete any resources held by the container",
    .args_usage = "<container-id>",
    .description = "The delete command removes the container's state directory, cgroups and\n"
                   "other resources. The container must be stopped (or created) unless\n"
                   "--force is given.",
    .options = delete_options,
    .n_options = OCI_ARRAY_SIZE(delete_options),
    .min_args = 1,
    .max_args = 1,
    .run = delete_main,
};
