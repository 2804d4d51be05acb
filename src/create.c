/* ocirun create — set a container up from a bundle; `start` runs it. */
#include <stdlib.h>

#include "ocirun.h"

static const struct cli_option create_options[] = {
    CLI_CREATE_OPTIONS,
};

void cli_create_opts_fill(const struct cli_create_args *a, const char *id,
                          struct oci_create_opts *out) {
  *out = (struct oci_create_opts){
      .id = id,
      /* Absolute, so the library may chdir and state.json records a path
       * that means the same thing from any directory. */
      .bundle = cli_absolute_path(a->bundle ? a->bundle : "."),
      .config_path = cli_absolute_path(a->config),
      .pid_file = cli_absolute_path(a->pid_file),
      .console_socket = cli_absolute_path(a->console_socket),
      .no_pivot = a->no_pivot,
      .no_new_keyring = a->no_new_keyring,
      .preserve_fds = a->preserve_fds,
      .detach = a->detach,
      .keep = a->keep,
  };
}

/* A create, run or restore that failed: with the systemd driver asked for
 * where it cannot work, the way out is the other driver. */
int cli_fail_create(const struct cli_global *g, oci_error *err) {
  oci_error ignored = {0};
  if (g->ctx.systemd_cgroup && oci_cgroup_systemd_usable(&ignored) < 0)
    cli_error_hint(err, "use --cgroup-manager=cgroupfs");
  return cli_fail(err);
}

void cli_create_opts_release(struct oci_create_opts *o) {
  free((char *)o->bundle);
  free((char *)o->config_path);
  free((char *)o->pid_file);
  free((char *)o->console_socket);
}

static int create_main(struct cli_global *g, int argc, char **argv) {
  struct cli_create_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_create, argc, argv, &a, &args, &status))
    return status;
  struct oci_create_opts opts;
  cli_create_opts_fill(&a, args.v[0], &opts);
  oci_error err = {0};
  int r = oci_container_create(&g->ctx, &opts, &err);
  cli_create_opts_release(&opts);
  return r < 0 ? cli_fail_create(g, &err) : 0;
}

const struct cli_command cli_create = {
    .name = "create",
    .summary = "create a container",
    .args_usage = "<container-id>",
    .description = "The create command creates an instance of a container from a bundle: a\n"
                   "directory holding config.json and the root filesystem. The container's\n"
                   "process is set up but waits; \"ocirun start\" runs it. The id must be\n"
                   "unique under --root.",
    .options = create_options,
    .n_options = OCI_ARRAY_SIZE(create_options),
    .min_args = 1,
    .max_args = 1,
    .run = create_main,
};
