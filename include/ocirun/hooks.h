/* ocirun — OCI hooks: run each with the state JSON on stdin. */
#ifndef OCIRUN_HOOKS_H
#define OCIRUN_HOOKS_H

#include "ocirun/config.h"
#include "ocirun/error.h"

/* Run the hooks of one stage in order. stage is the config name
 * ("createRuntime"); a failure reads
 * `createRuntime hook #1 "/usr/bin/foo": exited with status 3` and stops
 * the list. Honours args, env and timeout (SIGKILL after timeout). Each
 * hook runs in cwd (the bundle for the runtime's hooks), or in ours when
 * NULL; a cwd it cannot enter fails the hook. */
int oci_hooks_run(const struct oci_hook_list *hooks, const char *stage, const char *cwd,
                  const char *state_json, oci_error *err);
/* Run every hook of the stage, a failure logged as a warning naming
 * container id and not stopping the rest (poststop: the spec wants the
 * lifecycle to go on and each hook to get its chance to clean up). A
 * non-zero exit reads `container "c1": error running hook: poststop hook
 * failed with exit code 1 (hook #0 "/bin/false")`. Returns how many
 * failed. */
size_t oci_hooks_run_all(const struct oci_hook_list *hooks, const char *stage, const char *id,
                         const char *cwd, const char *state_json);

#endif
