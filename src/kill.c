/* ocirun kill — send a signal to a container's init (or all its processes). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ocirun.h"
#include "ocirun/utils.h"

struct kill_opts {
  bool all;
};

static const struct cli_option kill_options[] = {
    CLI_OPT("all", 'a', CLI_OPT_BOOL, struct kill_opts, all, NULL,
            "send the signal to all processes inside the container"),
};

/* "RTMIN", "RTMIN+3", "RTMAX-1" (name without the SIG prefix). */
static int parse_rt_signal(const char *name) {
  int base, sign;
  if (strncasecmp(name, "RTMIN", 5) == 0) {
    base = SIGRTMIN;
    sign = 1;
  } else if (strncasecmp(name, "RTMAX", 5) == 0) {
    base = SIGRTMAX;
    sign = -1;
  } else {
    return -1;
  }
  if (name[5] == '\0')
    return base;
  long off;
  if (name[5] != (sign > 0 ? '+' : '-') || oci_parse_long(name + 6, &off) < 0)
    return -1;
  int sig = base + sign * (int)off;
  return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
}

/* A signal as runc takes it: a number, or a name in any case with or
 * without "SIG" ("KILL", "SIGKILL", "sigkill"). -1 when unknown. */
static int parse_signal(const char *s) {
  long n;
  if (oci_parse_long(s, &n) == 0)
    return n >= 0 && n < NSIG ? (int)n : -1;  /* 0: only checks the process exists */
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (int sig = 1; sig < NSIG; sig++) {
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev && strcasecmp(abbrev, name) == 0)
      return sig;
  }
  return parse_rt_signal(name);
}

static int kill_main(struct cli_global *g, int argc, char **argv) {
  struct kill_opts o = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_kill, argc, argv, &o, &args, &status))
    return status;
  int sig = SIGTERM;
  if (args.n > 1 && (sig = parse_signal(args.v[1])) < 0)
    return cli_usage_error(&cli_kill, "unknown signal \"%s\"", args.v[1]);
  oci_error err = {0};
  if (oci_container_kill(&g->ctx, args.v[0], sig, o.all, &err) < 0)
    return cli_fail(&err);
  return 0;
}

const struct cli_command cli_kill = {
    .name = "kill",
    .summary = "send a signal (default: SIGTERM) to the container's init process",
    .args_usage = "<container-id> [signal]",
    .description = "The kill command sends a signal to the init process of the container, or\n"
                   "with --all to every process in it. The signal is a number (9) or a name,\n"
                   "with or without the SIG prefix, in any case (KILL, SIGKILL, sigkill).",
    .options = kill_options,
    .n_options = OCI_ARRAY_SIZE(kill_options),
    .min_args = 1,
    .max_args = 2,
    .run = kill_main,
};
