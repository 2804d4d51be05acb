/* ocirun spec — write a starter config.json into a bundle directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocirun.h"

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

/* Create DIR/config.json exclusively (O_EXCL: an existing one is never
 * replaced, and nothing can appear between a check and the write). */
static FILE *create_config(const char *path, oci_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST) {
    oci_error_set(err, 0, "spec: file %s exists. Remove it first", path);
    return NULL;
  }
  FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
  if (f == NULL) {
    oci_error_errno(err, "spec: create %s", path);
    if (fd >= 0)
      close(fd);
  }
  return f;
}

static int write_config(FILE *f, const char *path, bool rootless, oci_error *err) {
  _cleanup_free_ char *json = oci_spec_default_json(rootless);
  if (json == NULL)
    return oci_error_set(err, 0, "spec: the default configuration is not available");
  /* Tabs, as `runc spec` indents: scripts that edit the file with sed or
   * diff it against runc's match either runtime's. Unlike runc, the file
   * ends with a newline, as a text file should (`read` loses a last line
   * without one); JSON parsers do not see the difference. */
  if (cli_write_json_indented(f, json, "\t") < 0)
    return oci_error_errno(err, "spec: write %s", path);
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
  FILE *f = create_config(path, &err);
  if (f == NULL)
    return cli_fail(&err);
  int r = write_config(f, path, o.rootless, &err);
  if (fclose(f) != 0 && r == 0)
    r = oci_error_errno(&err, "spec: write %s", path);
  if (r < 0) {
    unlink(path);   /* no half-written config.json left behind */
    return cli_fail(&err);
  }
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
