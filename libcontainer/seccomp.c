/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/seccomp.h"

int oci_seccomp_prepare(const struct oci_seccomp *sc, struct oci_seccomp_filter **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_seccomp_prepare: not implemented");
}

int oci_seccomp_load(struct oci_seccomp_filter *f, int *notify_fd, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_seccomp_load: not implemented");
}

void oci_seccomp_filter_free(struct oci_seccomp_filter *f) {
  
}

int oci_seccomp_send_listener(const struct oci_seccomp *sc, int notify_fd, pid_t pid, const char *state_json, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_seccomp_send_listener: not implemented");
}
