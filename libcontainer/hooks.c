/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/hooks.h"

int oci_hooks_run(const struct oci_hook_list *hooks, const char *stage, const char *state_json, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_hooks_run: not implemented");
}
