/* ocirun — cgroups: one front (cgroup.c) over the v1, v2 and hybrid drivers.
 *
 * Callers never branch on the cgroup version: the mode is detected once at
 * run time and the driver is a table of function pointers inside cgroup.c.
 */
#ifndef OCIRUN_CGROUP_H
#define OCIRUN_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

enum oci_cgroup_mode { OCI_CGROUP_V1, OCI_CGROUP_V2, OCI_CGROUP_HYBRID };

struct oci_cgroup;  /* a container's cgroup(s); private to cgroup*.c */

/* Detect the host's mode (cached). */
int oci_cgroup_mode(enum oci_cgroup_mode *out, oci_error *err);

/* Resolve linux.cgroupsPath (absolute as given; relative under the caller's
 * own cgroup per hierarchy, below its parent on pure v2 as runc does; unset:
 * "<that cgroup>/ocirun-<id>") and refuse cgroups that hold processes:
 * nothing is made yet. With systemd == true, cgroupsPath is systemd's
 * "slice:prefix:name" and the cgroup is a transient unit's (cgroup-
 * systemd.c); an error says so when systemd is not running. Also prepares the device allow-list
 * (runc's defaults + one rule per linux.devices node) that the first
 * oci_cgroup_apply() writes, so call apply once after make even when the
 * config has no linux.resources (res may be NULL).
 * Two steps so that create can make the directories while the container's
 * init already builds its rootfs. */
int oci_cgroup_prepare(const struct oci_config *cfg, const char *id, bool systemd,
                       struct oci_cgroup **out, oci_error *err);
/* systemd driver: begin loading libsystemd and connecting to the manager
 * in a thread, so that it overlaps reading the bundle (nothing for
 * cgroupfs, nor where systemd is not running; errors surface later, at
 * the first use). The caller must call oci_cgroup_preconnect_join()
 * before it forks or clones. */
void oci_cgroup_preconnect(bool systemd);
/* 0 when the systemd driver can work here (a manager to talk to, for a
 * rootless caller on cgroup v2), else -1 and why in *err. */
int oci_cgroup_systemd_usable(oci_error *err);
void oci_cgroup_preconnect_join(void);
/* Make the directories (systemd: start the unit with pid in it first; the
 * cgroupfs driver does not need pid); on failure remove what was made
 * (free cg yourself). */
int oci_cgroup_make(struct oci_cgroup *cg, const char *id, pid_t pid, oci_error *err);
/* Write linux.resources (create, and `update`): only the fields present.
 * res may be NULL. Errors name the resource and the file:
 * `linux.resources.memory.limit: write "1" to memory.limit_in_bytes: ...`. */
int oci_cgroup_apply(struct oci_cgroup *cg, const struct oci_resources *res, oci_error *err);
/* Move pid into the container's cgroup(s). */
int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, oci_error *err);
/* exec --cgroup: the same, but into sub-cgroups of the container's, one
 * spec "[CONTROLLER[,CONTROLLER...]:]PATH" each (runc's form; no
 * controllers: every hierarchy; later specs win). A PATH that leaves the
 * container's cgroup or an unknown controller is an error. check_subs
 * checks the specs without moving anything. */
int oci_cgroup_check_subs(const struct oci_cgroup *cg, char *const *specs, size_t n_specs,
                          oci_error *err);
int oci_cgroup_enter_subs(struct oci_cgroup *cg, pid_t pid, char *const *specs, size_t n_specs,
                          oci_error *err);
/* Kill everything still inside (SIGKILL, wait until empty) and rmdir. */
int oci_cgroup_destroy(struct oci_cgroup *cg, oci_error *err);
void oci_cgroup_free(struct oci_cgroup *cg);
/* Close the systemd driver's connection (the next call that needs it
 * reconnects): the manager sends its signals to every connection, and one
 * held while a container runs would pile them up in PID 1. */
void oci_cgroup_disconnect(struct oci_cgroup *cg);

/* Persist in state.json: an opaque string, and back. */
char *oci_cgroup_save(const struct oci_cgroup *cg);
int oci_cgroup_load(const char *saved, struct oci_cgroup **out, oci_error *err);
/* The same directories in every hierarchy (two records of one cgroup). */
bool oci_cgroup_same_place(const struct oci_cgroup *a, const struct oci_cgroup *b);

/* What a "cgroup" mount shows the container, one entry per hierarchy, as
 * runc does it: on v1 and hybrid hosts a tmpfs with a directory per
 * hierarchy, on pure v2 the one hierarchy at the mount point itself. Each
 * is the container's own cgroup directory bound there, or with a cgroup
 * namespace a fresh cgroup fs (which shows that directory as its root, if
 * the process joined the cgroup BEFORE unsharing CLONE_NEWCGROUP). rootfs.c
 * does the mounting, through fds resolved inside the rootfs. */
struct oci_cgroup_view {
  const char *name;      /* directory under the tmpfs; NULL: the mount point */
  const char *host_dir;  /* the container's cgroup in this hierarchy */
  const char *fstype;    /* "cgroup" or "cgroup2" for a fresh mount */
  const char *options;   /* v1 controllers ("cpu,cpuacct", "name=systemd") */
  const char *rel;       /* host_dir relative to the hierarchy's root (CRIU's cgroup root) */
};
/* The cgroups the calling process is in, for oci_cgroup_views only: a
 * container without a cgroup of its own (rootless, none delegated) runs in
 * the runtime's, and its "cgroup" mount shows those, as runc's does. Never
 * made, changed or removed through this handle; free it with
 * oci_cgroup_free. */
int oci_cgroup_current(struct oci_cgroup **out, oci_error *err);

/* Fills up to cap entries (pointing into cg) and returns how many there
 * are (more than cap: some were left out); *tmpfs: they go under a tmpfs. */
size_t oci_cgroup_views(const struct oci_cgroup *cg, struct oci_cgroup_view *out, size_t cap,
                        bool *tmpfs);

int oci_cgroup_freeze(struct oci_cgroup *cg, bool frozen, oci_error *err);
int oci_cgroup_is_frozen(struct oci_cgroup *cg, bool *frozen, oci_error *err);
int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n, oci_error *err);
/* Signal every process in the cgroup (kill --all). */
int oci_cgroup_kill(struct oci_cgroup *cg, int signum, oci_error *err);
/* runc-shaped stats object: {"cpu":..,"memory":..,"pids":..,"blkio":..,"hugetlb":..} */
int oci_cgroup_stats_json(struct oci_cgroup *cg, char **json, oci_error *err);
/* An fd that becomes readable on OOM (v1 eventfd via cgroup.event_control,
 * v2 inotify on memory.events) and a check that tells whether an OOM kill
 * happened since the last call. */
int oci_cgroup_oom_fd(struct oci_cgroup *cg, int *fd, oci_error *err);
int oci_cgroup_oom_happened(struct oci_cgroup *cg, int fd, bool *oom, oci_error *err);
/* The OOM killer has killed a process in the cgroup (no memory controller:
 * false). */
bool oci_cgroup_oom_killed(struct oci_cgroup *cg);

#endif
