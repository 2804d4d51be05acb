/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/caps.h"

int oci_caps_validate(const struct oci_capabilities *caps, const char *field_prefix, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_caps_validate: not implemented");
}

int oci_caps_prepare(const struct oci_capabilities *caps, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_caps_prepare: not implemented");
}

int oci_caps_finish(const struct oci_capabilities *caps, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_caps_finish: not implemented");
}
