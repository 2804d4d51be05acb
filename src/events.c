/* ocirun events — stream a container's events and stats as JSON lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocirun.h"

struct events_opts {
  const char *interval;
  bool stats;
};

static const struct cli_option events_options[] = {
    CLI_OPT("interval", 0, CLI_OPT_STRING, struct events_opts, interval, "DURATION",
            "stats collection interval, a Go duration: 500ms, 5s, 1m (default: 5s)"),
    CLI_OPT("stats", 0, CLI_OPT_BOOL, struct events_opts, stats, NULL,
            "display the container's stats once, then exit"),
};

static const struct {
  const char *name;
  double ns;
} duration_units[] = {
    {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, /* µs: micro sign, mu */
    {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
};

/* One "<number><unit>" element; returns the char after it, NULL when bad. */
static const char *duration_element(const char *p, double *ns) {
  char *end;
  if (!((*p >= '0' && *p <= '9') || *p == '.'))
    return NULL;
  errno = 0;
  double v = strtod(p, &end);
  if (errno || end == p)
    return NULL;
  for (size_t i = 0; i < OCI_ARRAY_SIZE(duration_units); i++) {
    size_t len = strlen(duration_units[i].name);
    /* the table lists "ms" before "m", so "5ms" is not read as "5m" + "s" */
    if (strncmp(end, duration_units[i].name, len) == 0) {
      *ns += v * duration_units[i].ns;
      return end + len;
    }
  }
  return NULL;
}

/* Go's time.ParseDuration (without sign): "1h2m3.5s", "500ms", "0". */
static int parse_duration_ms(const char *s, double *ms) {
  if (strcmp(s, "0") == 0) {
    *ms = 0;
    return 0;
  }
  double ns = 0;
  const char *p = s;
  if (*p == '\0')
    return -1;
  while (*p)
    if ((p = duration_element(p, &ns)) == NULL)
      return -1;
  *ms = ns / 1e6;
  return 0;
}

static int print_event(const char *json, void *data) {
  if (printf("%s\n", json) < 0 || fflush(stdout) != 0)
    return -1;   /* reader went away: stop */
  return 0;
}

static int events_main(struct cli_global *g, int argc, char **argv) {
  struct events_opts o = {.interval = "5s"};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_events, argc, argv, &o, &args, &status))
    return status;
  double ms;
  if (parse_duration_ms(o.interval, &ms) < 0)
    return cli_usage_error(&cli_events, "invalid --interval \"%s\": expected a duration like "
                                        "500ms, 5s or 1m", o.interval);
  if (ms <= 0)
    return cli_usage_error(&cli_events, "invalid --interval \"%s\": must be greater than 0",
                           o.interval);
  unsigned interval_ms = ms < 1 ? 1 : ms > 86400e3 ? 86400000u : (unsigned)ms;
  oci_error err = {0};
  if (oci_container_events(&g->ctx, args.v[0], o.stats, interval_ms, print_event, NULL, &err) <
      0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_events = {
    .name = "events",
    .summary = "display container events such as OOM notifications and resource usage",
    .args_usage = "<container-id>",
    .description = "The events command prints one JSON object per line: the container's\n"
                   "resource statistics every --interval, and events such as OOM kills,\n"
                   "until the container stops. With --stats it prints the statistics once.",
    .options = events_options,
    .n_options = OCI_ARRAY_SIZE(events_options),
    .min_args = 1,
    .max_args = 1,
    .run = events_main,
};
