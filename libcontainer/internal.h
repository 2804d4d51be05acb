/* ocirun — declarations shared inside libcontainer only (not the CLI). */
#ifndef OCIRUN_INTERNAL_H
#define OCIRUN_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/container.h"
#include "ocirun/error.h"
#include "ocirun/utils.h"

/* ---- state.c: <root>/<id>/ on disk ---------------------------------- */

/* What ocirun keeps about a container between commands. */
struct oci_state {
  char *id;
  char *bundle;
  char *rootfs;              /* absolute host path */
  pid_t pid;                 /* init pid as seen from the host; 0 = none */
  unsigned long long pid_start; /* /proc/PID/stat starttime, defeats pid reuse */
  char *created;             /* RFC 3339 */
  char *owner;
  char *cgroup;              /* oci_cgroup_save() text; NULL = no cgroup */
  bool systemd_cgroup;
  char *config_json;         /* the config as it was at create (spec: later edits don't count) */
  struct oci_config *config; /* parsed config_json */
};

/* Load <root>/<id>/state.json. A missing container gives
 * `container "ID" does not exist` with errnum ENOENT. */
int oci_state_load(const struct oci_context *ctx, const char *id, struct oci_state **out,
                   oci_error *err);
void oci_state_free(struct oci_state *st);

/* The status, derived and never trusted from the file: exec.fifo present and
 * init alive -> "created"; init alive (same start time) -> "running", or
 * "paused" when its cgroup is frozen; else "stopped". */
const char *oci_state_status(const struct oci_state *st);

/* Is the init process still the one we started? */
bool oci_state_init_alive(const struct oci_state *st);

/* Take the per-container lock (flock on <root>/<id>/lock). Returns fd. */
int oci_state_lock(const struct oci_context *ctx, const char *id, oci_error *err);

#endif
