/* ocirun — OCI hooks: run each with the state JSON on stdin. */
#ifndef OCIRUN_HOOKS_H
#define OCIRUN_HOOKS_H

#include "ocirun/config.h"
#include "ocirun/error.h"

/* Where the hooks' stdout and stderr go: the files the config's
 * run.oci.hooks.stdout and run.oci.hooks.stderr annotations name, or -1
 * for the runtime's own. */
struct oci_hooks_output {
  int out;
  int err;
};
#define OCI_HOOKS_OUTPUT_NONE ((struct oci_hooks_output){.out = -1, .err = -1})

/* Open the annotations' files, for appending, created (0600) when missing;
 * the fds are close-on-exec. An error names the annotation:
 * `run.oci.hooks.stdout: open "/x/y": No such file or directory`. */
int oci_hooks_output_open(const struct oci_config *cfg, struct oci_hooks_output *o,
                          oci_error *err);
void oci_hooks_output_close(struct oci_hooks_output *o);

/* Run the hooks of one stage in order. stage is the config name
 * ("createRuntime"); a failure reads
 * `createRuntime hook #1 "/usr/bin/foo": exited with status 3` and stops
 * the list. Honours args, env and timeout (SIGKILL after timeout). Each
 * hook runs in cwd (the bundle for the runtime's hooks), or in ours when
 * NULL; a cwd it cannot enter fails the hook. Its stdout and stderr are
 * output's (NULL: ours). */
int oci_hooks_run(const struct oci_hook_list *hooks, const char *stage, const char *cwd,
                  const struct oci_hooks_output *output, const char *state_json,
                  oci_error *err);
/* Run every hook of the stage, a failure logged as a warning naming
 * container id and not stopping the rest (poststop: the spec wants the
 * lifecycle to go on and each hook to get its chance to clean up). A
 * non-zero exit reads `container "c1": error running hook: poststop hook
 * failed with exit code 1 (hook #0 "/bin/false")`. Returns how many
 * failed. */
size_t oci_hooks_run_all(const struct oci_hook_list *hooks, const char *stage, const char *id,
                         const char *cwd, const struct oci_hooks_output *output,
                         const char *state_json);

#endif
