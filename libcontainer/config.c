/* STUB: replaced by the real implementation. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include "ocirun/config.h"

int oci_config_parse(const char *json, size_t len, const char *name, struct oci_config **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_config_parse: not implemented");
}

int oci_config_load_file(const char *path, struct oci_config **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_config_load_file: not implemented");
}

void oci_config_free(struct oci_config *cfg) {
  
}

int oci_process_parse(const char *json, size_t len, const char *name, struct oci_process **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_process_parse: not implemented");
}

void oci_process_free(struct oci_process *p) {
  
}

int oci_resources_parse(const char *json, size_t len, const char *name, struct oci_resources **out, oci_error *err) {
  return oci_error_set(err, ENOSYS, "oci_resources_parse: not implemented");
}

void oci_resources_free(struct oci_resources *r) {
  
}

const char *oci_ns_type_name(enum oci_ns_type t) {
  return NULL;
}

int oci_ns_type_from_name(const char *name) {
  return -1;
}

int oci_rlimit_from_name(const char *name) {
  return -1;
}

const struct oci_namespace *oci_config_namespace(const struct oci_config *cfg, enum oci_ns_type t) {
  return NULL;
}

const char *oci_config_annotation(const struct oci_config *cfg, const char *key) {
  return NULL;
}
