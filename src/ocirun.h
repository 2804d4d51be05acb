/* ocirun CLI — shared declarations. The CLI only turns argv into a
 * libcontainer call and its result into output and an exit status. */
#ifndef OCIRUN_CLI_H
#define OCIRUN_CLI_H

#include "ocirun/container.h"

/* Global options parsed by main.c. */
struct cli_global {
  struct oci_context ctx;
  const char *log_path;
  const char *log_format;   /* "text" | "json" */
};

/* Each command: argv[0] is the command name. Returns the process exit status. */
typedef int (*cli_command_fn)(struct cli_global *g, int argc, char **argv);

int cmd_create(struct cli_global *g, int argc, char **argv);
int cmd_start(struct cli_global *g, int argc, char **argv);
int cmd_run(struct cli_global *g, int argc, char **argv);
int cmd_exec(struct cli_global *g, int argc, char **argv);
int cmd_kill(struct cli_global *g, int argc, char **argv);
int cmd_delete(struct cli_global *g, int argc, char **argv);
int cmd_state(struct cli_global *g, int argc, char **argv);
int cmd_list(struct cli_global *g, int argc, char **argv);
int cmd_ps(struct cli_global *g, int argc, char **argv);
int cmd_pause(struct cli_global *g, int argc, char **argv);
int cmd_resume(struct cli_global *g, int argc, char **argv);
int cmd_update(struct cli_global *g, int argc, char **argv);
int cmd_events(struct cli_global *g, int argc, char **argv);
int cmd_spec(struct cli_global *g, int argc, char **argv);
int cmd_features(struct cli_global *g, int argc, char **argv);

/* Report a failed library call: "ocirun: <msg>" on stderr and to the log
 * as {"level":"error","msg":...}. Returns 1. */
int cli_fail(const oci_error *err);

#endif
