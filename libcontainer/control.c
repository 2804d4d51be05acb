/* STUB: pause/resume/ps/update/events (replaced by the cgroup work). */
#include <errno.h>
#include "ocirun/container.h"

int oci_container_pause(const struct oci_context *ctx, const char *id, oci_error *err) {
  return oci_error_set(err, ENOSYS, "pause: not implemented");
}
int oci_container_resume(const struct oci_context *ctx, const char *id, oci_error *err) {
  return oci_error_set(err, ENOSYS, "resume: not implemented");
}
int oci_container_ps(const struct oci_context *ctx, const char *id, pid_t **pids, size_t *n,
                     oci_error *err) {
  return oci_error_set(err, ENOSYS, "ps: not implemented");
}
int oci_container_update(const struct oci_context *ctx, const char *id,
                         const struct oci_resources *res, oci_error *err) {
  return oci_error_set(err, ENOSYS, "update: not implemented");
}
int oci_container_events(const struct oci_context *ctx, const char *id, bool stats_only,
                         unsigned interval_ms, oci_event_cb emit, void *data, oci_error *err) {
  return oci_error_set(err, ENOSYS, "events: not implemented");
}
