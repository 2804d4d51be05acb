/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/cgroup.h"

int oci_cgroup_mode(enum oci_cgroup_mode *out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_mode: not implemented");
}

int oci_cgroup_create(const struct oci_config *cfg, const char *id, bool systemd, struct oci_cgroup **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_create: not implemented");
}

int oci_cgroup_apply(struct oci_cgroup *cg, const struct oci_resources *res, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_apply: not implemented");
}

int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_enter: not implemented");
}

int oci_cgroup_destroy(struct oci_cgroup *cg, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_destroy: not implemented");
}

void oci_cgroup_free(struct oci_cgroup *cg) {
  
}

char *oci_cgroup_save(const struct oci_cgroup *cg) {
  return NULL;
}

int oci_cgroup_load(const char *saved, struct oci_cgroup **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_load: not implemented");
}

int oci_cgroup_mount(const struct oci_cgroup *cg, const char *dest, bool cgroupns, unsigned long mount_flags, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_mount: not implemented");
}

int oci_cgroup_freeze(struct oci_cgroup *cg, bool frozen, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_freeze: not implemented");
}

int oci_cgroup_is_frozen(struct oci_cgroup *cg, bool *frozen, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_is_frozen: not implemented");
}

int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_pids: not implemented");
}

int oci_cgroup_kill(struct oci_cgroup *cg, int signum, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_kill: not implemented");
}

int oci_cgroup_stats_json(struct oci_cgroup *cg, char **json, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_stats_json: not implemented");
}

int oci_cgroup_oom_fd(struct oci_cgroup *cg, int *fd, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_oom_fd: not implemented");
}

int oci_cgroup_oom_happened(struct oci_cgroup *cg, int fd, bool *oom, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_cgroup_oom_happened: not implemented");
}
