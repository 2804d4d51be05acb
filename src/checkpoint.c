/* ocirun checkpoint — save a running container with CRIU (runc's command). */
#include <errno.h>
#include <stdio.h>
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

static int parse_cgroups_mode(const struct cli_command *cmd, const char *s,
                              enum oci_criu_cgroups_mode *out) {
  static const char *const names[] = {
      [OCI_CRIU_CGROUPS_SOFT] = "soft",
      [OCI_CRIU_CGROUPS_FULL] = "full",
      [OCI_CRIU_CGROUPS_STRICT] = "strict",
      [OCI_CRIU_CGROUPS_IGNORE] = "ignore",
  };
  *out = OCI_CRIU_CGROUPS_DEFAULT;
  if (s == NULL)
    return 0;
  for (size_t i = 0; i < OCI_ARRAY_SIZE(names); i++)
    if (names[i] && strcmp(s, names[i]) == 0) {
      *out = (enum oci_criu_cgroups_mode)i;
      return 0;
    }
  return cli_usage_error(cmd, "--manage-cgroups-mode \"%s\": expected soft, full, strict or ignore",
                         s);
}

/* The default image path is runc's: ./checkpoint. 0, or the exit status
 * of a usage error already reported. */
int cli_criu_opts_fill(const struct cli_command *cmd, struct oci_criu_opts *o,
                       const struct cli_criu_args *a, const char *status_fd) {
  o->image_path = cli_absolute_path(a->image_path ? a->image_path : "checkpoint");
  o->work_path = cli_absolute_path(a->work_path);
  if (parse_cgroups_mode(cmd, a->manage_cgroups_mode, &o->manage_cgroups_mode) != 0)
    return 1;
  /* runc knows one namespace to leave empty. */
  if (a->empty_ns && strcmp(a->empty_ns, "network") != 0)
    return cli_usage_error(cmd, "--empty-ns \"%s\": only \"network\" is supported", a->empty_ns);
  o->empty_netns = a->empty_ns != NULL;
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
      return cli_usage_error(cmd, "--status-fd \"%s\": not a file descriptor", status_fd);
    o->status_fd = (int)fd;
  }
  return 0;
}

void cli_criu_opts_release(struct oci_criu_opts *o) {
  free((char *)o->image_path);
  free((char *)o->work_path);
  free((char *)o->page_server_address);
}

/* "ADDRESS:PORT" (the address may hold colons: IPv6). */
static int parse_page_server(const char *s, struct oci_criu_opts *o) {
  const char *colon = strrchr(s, ':');
  char *end;
  errno = 0;
  long port = colon ? strtol(colon + 1, &end, 10) : 0;
  if (colon == NULL || colon == s || errno || *end || end == colon + 1 || port <= 0 ||
      port > 65535)
    return cli_usage_error(&cli_checkpoint, "--page-server \"%s\": expected ADDRESS:PORT", s);
  o->page_server_address = strndup(s, (size_t)(colon - s));
  o->page_server_port = (int)port;
  return 0;
}

/* CRIU is looked for before the library is called, so that a missing one
 * is reported with the flag that names another. */
int cli_criu_check(const struct cli_global *g, const char *command, const char *id) {
  oci_error err = {0};
  _cleanup_free_ char *bin = oci_criu_binary(&g->ctx, &err);
  if (bin != NULL)
    return 0;
  size_t len = strlen(err.msg);
  if (err.errnum == ENOENT)
    snprintf(err.msg + len, sizeof(err.msg) - len, ", or name it with --criu PATH");
  oci_error_wrap(&err, "%s \"%s\"", command, id);
  return cli_fail(&err);
}

static int checkpoint_main(struct cli_global *g, int argc, char **argv) {
  struct checkpoint_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_checkpoint, argc, argv, &a, &args, &status))
    return status;
  struct oci_criu_opts o = {.parent_path = a.parent_path,
                            .leave_running = a.leave_running, .pre_dump = a.pre_dump};
  int bad = cli_criu_opts_fill(&cli_checkpoint, &o, &a.criu, a.status_fd);
  if (bad == 0 && a.page_server)
    bad = parse_page_server(a.page_server, &o);
  if (bad == 0)
    bad = cli_criu_check(g, "checkpoint", args.v[0]);
  if (bad != 0) {
    cli_criu_opts_release(&o);
    return bad;
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
