/* ocirun list — the containers under --root, as a table or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocirun.h"
#include "ocirun/log.h"

struct list_opts {
  const char *format;
  bool quiet;
};

static const struct cli_option list_options[] = {
    CLI_OPT("format", 'f', CLI_OPT_STRING, struct list_opts, format, "FORMAT",
            "table (default) or json"),
    CLI_OPT("quiet", 'q', CLI_OPT_BOOL, struct list_opts, quiet, NULL,
            "display only container IDs"),
};

#define N_COLUMNS 6

/* Go's tabwriter as runc sets it up (minwidth 12, padding 3): every column
 * but the last is padded to max(widest cell + 3, 12). */
static void print_table(const struct oci_container_status *c, size_t n) {
  const char *header[N_COLUMNS] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
  char (*pids)[24] = oci_xmalloc0((n + 1) * sizeof(*pids));
  size_t width[N_COLUMNS];
  for (int col = 0; col < N_COLUMNS; col++)
    width[col] = strlen(header[col]);
  for (size_t i = 0; i < n; i++) {
    snprintf(pids[i], sizeof(pids[i]), "%d", (int)c[i].pid);
    const char *cells[N_COLUMNS] = {c[i].id, pids[i], c[i].status, c[i].bundle, c[i].created,
                                    c[i].owner};
    for (int col = 0; col < N_COLUMNS; col++)
      if (cells[col] && strlen(cells[col]) > width[col])
        width[col] = strlen(cells[col]);
  }
  for (size_t i = 0; i <= n; i++) {
    const struct oci_container_status *s = i == 0 ? NULL : &c[i - 1];
    const char *cells[N_COLUMNS] = {header[0], header[1], header[2],
                                    header[3], header[4], header[5]};
    if (s) {
      const char *row[N_COLUMNS] = {s->id, pids[i - 1], s->status, s->bundle, s->created,
                                    s->owner};
      memcpy(cells, row, sizeof(cells));
    }
    for (int col = 0; col < N_COLUMNS - 1; col++) {
      size_t w = width[col] + 3 < 12 ? 12 : width[col] + 3;
      printf("%-*s", (int)w, cells[col] ? cells[col] : "");
    }
    printf("%s\n", cells[N_COLUMNS - 1] ? cells[N_COLUMNS - 1] : "");
  }
  free(pids);
}

static void print_json(const struct oci_container_status *c, size_t n) {
  char *json = oci_container_list_json(c, n);
  printf("%s\n", json);
  free(json);
}

static int list_main(struct cli_global *g, int argc, char **argv) {
  struct list_opts o = {.format = "table"};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_list, argc, argv, &o, &args, &status))
    return status;
  bool json = strcmp(o.format, "json") == 0;
  if (!json && strcmp(o.format, "table") != 0)
    return cli_usage_error(&cli_list, "invalid --format \"%s\": expected table or json",
                           o.format);
  struct oci_container_status *c = NULL;
  size_t n = 0;
  oci_error err = {0};
  if (oci_container_list(&g->ctx, &c, &n, &err) < 0)
    return cli_fail(&err);
  if (o.quiet)
    for (size_t i = 0; i < n; i++)
      printf("%s\n", c[i].id);
  else if (json)
    print_json(c, n);
  else
    print_table(c, n);
  for (size_t i = 0; i < n; i++)
    oci_container_status_free(&c[i]);
  free(c);
  if (fflush(stdout) != 0) {
    oci_log(OCI_LOG_ERROR, "list: write to stdout failed");
    return 1;
  }
  return 0;
}

const struct cli_command cli_list = {
    .name = "list",
    .summary = "list the containers under the --root directory",
    .args_usage = "",
    .description = "The list command shows every container whose state lives under the\n"
                   "global --root directory (default: " OCI_DEFAULT_STATE_ROOT ").",
    .options = list_options,
    .n_options = OCI_ARRAY_SIZE(list_options),
    .min_args = 0,
    .max_args = 0,
    .run = list_main,
};
