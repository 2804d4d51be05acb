/* ocirun spec — write a starter config.json into a bundle directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocirun.h"
#include "ocirun/log.h"

struct spec_opts {
  const char *bundle;
  bool rootless;
};

static const struct cli_option spec_options[] = {
    CLI_OPT("bundle", 'b', CLI_OPT_STRING, struct spec_opts, bundle, "DIR",
            "write config.json into DIR (default: the current directory)"),
    CLI_OPT("rootless", 0, CLI_OPT_BOOL, struct spec_opts, rootless, NULL,
            "generate a configuration for a rootless container"),
};

/* Create DIR/config.json, indented for editing; never replace an existing
 * one (O_EXCL: no window between the check and the write). */
static int write_new_config(const char *path, const char *json, oci_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST)
    return oci_error_set(err, 0, "spec: file %s exists. Remove it first", path);
  if (fd < 0)
    return oci_error_errno(err, "spec: create %s", path);
  _cleanup_fclose_ FILE *f = fdopen(fd, "w");
  if (f == NULL) {
    close(fd);
    return oci_error_errno(err, "spec: create %s", path);
  }
  if (cli_write_json_indented(f, json) < 0) {
    int saved = errno;
    unlink(path);
    return oci_error_set(err, saved, "spec: write %s", path);
  }
  return 0;
}

static int spec_main(struct cli_global *g, int argc, char **argv) {
  struct spec_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_spec, argc, argv, &o, &args, &status))
    return status;
  _cleanup_free_ char *path = oci_xasprintf("%s/config.json", o.bundle ? o.bundle : ".");
  oci_error err = {0};
  _cleanup_free_ char *json = oci_spec_default_json(o.rootless);
  if (json == NULL) {
    oci_log(OCI_LOG_ERROR, "spec: the default configuration is not available");
    return 1;
  }
  if (write_new_config(path, json, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_spec = {
    .name = "spec",
    .summary = "create a new specification file (config.json)",
    .args_usage = "",
    .description = "The spec command writes a starter config.json for a bundle: it runs \"sh\"\n"
                   "with a terminal in the rootfs directory \"rootfs\", in new namespaces. Edit\n"
                   "it before use. An existing config.json is never overwritten. With\n"
                   "--rootless the configuration maps the caller's user and uses no cgroup\n"
                   "limits, for a container started by an unprivileged user.",
    .options = spec_options,
    .n_options = OCI_ARRAY_SIZE(spec_options),
    .min_args = 0,
    .max_args = 0,
    .run = spec_main,
};
