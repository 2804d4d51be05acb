/* STUB: lifecycle (being written). */
#include <errno.h>
#include "ocirun/container.h"
#define STUB(name) return oci_error_set(err, ENOSYS, name ": not implemented")
void oci_container_status_free(struct oci_container_status *st) {}
int oci_container_id_validate(const char *id, oci_error *err) { STUB("validate"); }
int oci_container_create(const struct oci_context *ctx, const struct oci_create_opts *opts, oci_error *err) { STUB("create"); }
int oci_container_start(const struct oci_context *ctx, const char *id, oci_error *err) { STUB("start"); }
int oci_container_run(const struct oci_context *ctx, const struct oci_create_opts *opts, int *exit_status, oci_error *err) { STUB("run"); }
int oci_container_kill(const struct oci_context *ctx, const char *id, int signum, bool all, oci_error *err) { STUB("kill"); }
int oci_container_delete(const struct oci_context *ctx, const char *id, bool force, oci_error *err) { STUB("delete"); }
int oci_container_state(const struct oci_context *ctx, const char *id, struct oci_container_status *out, oci_error *err) { STUB("state"); }
int oci_container_state_json(const struct oci_context *ctx, const char *id, char **json, oci_error *err) { STUB("state"); }
int oci_container_list(const struct oci_context *ctx, struct oci_container_status **out, size_t *n, oci_error *err) { STUB("list"); }
int oci_container_exec(const struct oci_context *ctx, const struct oci_exec_opts *opts, int *exit_status, oci_error *err) { STUB("exec"); }
