/* ocirun delete — remove a stopped container's state and resources. */
#include <regex.h>
#include <stdlib.h>

#include "ocirun.h"

struct delete_opts {
  bool force;
  bool regex;
};

static const struct cli_option delete_options[] = {
    CLI_OPT("force", 'f', CLI_OPT_BOOL, struct delete_opts, force, NULL,
            "kill the container first (SIGKILL) if it is still running"),
    CLI_OPT("regex", 'r', CLI_OPT_BOOL, struct delete_opts, regex, NULL,
            "the argument is an extended regular expression: delete every container whose id "
            "it matches (as crun)"),
};

/* crun's --regex: every id the pattern matches anywhere (regexec, not
 * anchored), each deleted on its own; one failure does not stop the rest,
 * and the exit status says whether any failed. */
static int delete_matching(struct cli_global *g, const char *pattern, bool force) {
  regex_t re;
  int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[256];
    regerror(rc, &re, why, sizeof(why));
    return cli_usage_error(&cli_delete, "--regex \"%s\": %s", pattern, why);
  }
  struct oci_container_status *c = NULL;
  size_t n = 0;
  oci_error err = {0};
  if (oci_container_list(&g->ctx, &c, &n, &err) < 0) {
    regfree(&re);
    return cli_fail(&err);
  }
  int status = 0;
  for (size_t i = 0; i < n; i++) {
    oci_error one = {0};
    if (regexec(&re, c[i].id, 0, NULL, 0) == 0 &&
        oci_container_delete(&g->ctx, c[i].id, force, &one) < 0)
      status = cli_fail(&one);
    oci_container_status_free(&c[i]);
  }
  free(c);
  regfree(&re);
  return status;
}

static int delete_main(struct cli_global *g, int argc, char **argv) {
  struct delete_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_delete, argc, argv, &o, &args, &status))
    return status;
  if (o.regex)
    return delete_matching(g, args.v[0], o.force);
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
                   "--force is given. With --regex the argument is a pattern and every\n"
                   "container whose id it matches is deleted.",
    .options = delete_options,
    .n_options = OCI_ARRAY_SIZE(delete_options),
    .min_args = 1,
    .max_args = 1,
    .run = delete_main,
};
