/* ocirun — per-process settings applied by the container's init and by
 * exec'd processes before they drop privileges: I/O priority, scheduler,
 * NUMA memory policy, CPU affinity, oom_score_adj. Private to libcontainer. */
#ifndef OCIRUN_SCHED_H
#define OCIRUN_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

/* The names config.json may use (NULL-terminated), for the parser's checks
 * and `ocirun features`. */
extern const char *const oci_sched_policy_names[];  /* in SCHED_* order */
extern const char *const oci_sched_flag_names[];
extern const char *const oci_io_class_names[];      /* IOPRIO_CLASS_* - 1 */
extern const char *const oci_mempolicy_mode_names[];
extern const char *const oci_mempolicy_flag_names[];

/* The most CPUs and NUMA nodes a list may name. */
#define OCI_MAX_CPUS 8192
#define OCI_MAX_NODES 1024

/* "0-3,7" into `bits` (nbits bits, cleared first): 0, or -1 for a list
 * that is malformed, empty or names an index >= nbits. */
int oci_parse_index_list(const char *s, unsigned long *bits, size_t nbits);

/* process.ioPriority and process.scheduler, for the calling process. */
int oci_sched_apply(const struct oci_process *p, oci_error *err);
/* linux.memoryPolicy, for the calling process. */
int oci_mempolicy_apply(const struct oci_linux *l, oci_error *err);
/* process.execCPUAffinity.initial (final == false) or .final, for the
 * calling process; nothing when that list is absent or empty. */
int oci_exec_affinity_apply(const struct oci_process *p, bool final, oci_error *err);
/* process.oomScoreAdj into /proc/PID/oom_score_adj, when set. Written by
 * the runtime: lowering it needs CAP_SYS_RESOURCE on the host. */
int oci_oom_score_adj_write(pid_t pid, const struct oci_process *p, oci_error *err);
/* exec without --process: the config's per-process settings (those the
 * process does not set itself), deep-copied into p. */
void oci_sched_inherit(struct oci_process *p, const struct oci_process *base);

#endif
