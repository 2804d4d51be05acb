/* ocirun checkpoint — save a running container with CRIU (runc's command). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ocirun.h"

struct checkpoint_args {
  struct cli_criu_args criu;
  const char *parent_path, *page_server, *status_fd;
  bool leave_running, pre_dump;
};

#define CK_STR(name, field, arg, help) \
  CLI_OPT(name, 0, CLI_OPT_STRING, struct checkpoint_args, field, arg, help)
#define CK_BOOL(name, field, help) \
  CLI_OPT(name, 0, CLI_OPT_BOOL, struct checkpoint_args, field, NULL, help)

static const struct cli_option checkpoint_options[] = {
    CLI_CRIU_COMMON_OPTIONS(struct checkpoint_args),
    CK_STR("parent-path", parent_path, "DIR",
           "the previous (pre-)dump's images, relative to the image path"),
    CK_BOOL("leave-running", leave_running, "leave the process running after checkpointing"),
    CK_STR("status-fd", status_fd, "FD", "CRIU writes \\0 to FD once the dump is done"),
    CK_STR("page-server", page_server, "ADDR:PORT", "send the memory pages to a CRIU page server"),
    CK_BOOL("pre-dump", pre_dump, "dump the memory only, leaving the container running"),
};

/* The default image path is runc's: ./checkpoint. */
int cli_criu_opts_fill(struct oci_criu_opts *o, const struct cli_criu_args *a,
                       const char *status_fd) {
  o->image_path = cli_absolute_path(a->image_path ? a->image_path : "checkpoint");
  o->work_path = cli_absolute_path(a->work_path);
  o->manage_cgroups_mode = a->manage_cgroups_mode;
  o->empty_ns = a->empty_ns;
  o->tcp_established = a->tcp_established;
  o->ext_unix_sk = a->ext_unix_sk;
  o->shell_job = a->shell_job;
  o->file_locks = a->file_locks;
  o->lazy_pages = a->lazy_pages;
  o->auto_dedup = a->auto_dedup;
  o->status_fd = -1;
  if (status_fd) {
    char *end;
    errno = 0;
    long fd = strtol(status_fd, &end, 10);
    if (errno || *end || end == status_fd || fd < 0 || fd > 1 << 20)
      return -1;
    o->status_fd = (int)fd;
  }
  return 0;
}

void cli_criu_opts_release(struct oci_criu_opts *o) {
  free((char *)o->image_path);
  free((char *)o->work_path);
}

static int checkpoint_main(struct cli_global *g, int argc, char **argv) {
  struct checkpoint_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_checkpoint, argc, argv, &a, &args, &status))
    return status;
  struct oci_criu_opts o = {.parent_path = a.parent_path, .page_server = a.page_server,
                            .leave_running = a.leave_running, .pre_dump = a.pre_dump};
  if (cli_criu_opts_fill(&o, &a.criu, a.status_fd) < 0) {
    cli_criu_opts_release(&o);
    return cli_usage_error(&cli_checkpoint, "--status-fd \"%s\": not a file descriptor",
                           a.status_fd);
  }
  oci_error err = {0};
  int r = oci_container_checkpoint(&g->ctx, args.v[0], &o, &err);
  cli_criu_opts_release(&o);
  return r < 0 ? cli_fail(&err) : 0;
}

const struct cli_command cli_checkpoint = {
    .name = "checkpoint",
    .summary = "checkpoint a running container (CRIU)",
    .args_usage = "<container-id>",
    .description =
        "The checkpoint command saves the state of a running container with CRIU\n"
        "into --image-path. Unless --leave-running (or --pre-dump) is given, its\n"
        "processes are gone afterwards and the container is stopped; \"ocirun\n"
        "restore\" brings it back. Needs the criu binary (global --criu, or PATH).",
    .options = checkpoint_options,
    .n_options = OCI_ARRAY_SIZE(checkpoint_options),
    .min_args = 1,
    .max_args = 1,
    .run = checkpoint_main,
};
