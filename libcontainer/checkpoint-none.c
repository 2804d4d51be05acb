/* ocirun — checkpoint and restore in a build without CRIU's library
 * (configure --without-criu, or criu / libprotobuf-c-dev missing). */
#include <errno.h>

#include "internal.h"

static int not_built(oci_error *err) {
  return oci_error_setx(err, ENOTSUP,
                        "checkpoint/restore needs CRIU: this ocirun was built without it");
}

char *oci_criu_binary(const struct oci_context *ctx, oci_error *err) {
  not_built(err);
  return NULL;
}

char *oci_criu_available(const struct oci_context *ctx, oci_error *err) {
  not_built(err);
  return NULL;
}

int oci_container_checkpoint(const struct oci_context *ctx, const char *id,
                             const struct oci_criu_opts *opts, oci_error *err) {
  not_built(err);
  return oci_error_wrap(err, "checkpoint \"%s\"", id);
}

int oci_container_restore(const struct oci_context *ctx, const struct oci_create_opts *opts,
                          int *exit_status, oci_error *err) {
  *exit_status = 0;
  not_built(err);
  return oci_error_wrap(err, "restore \"%s\"", opts->id ? opts->id : "");
}

int oci_restore_process(const struct oci_context *ctx, struct creation *c,
                        const struct oci_create_opts *o, oci_error *err) {
  return not_built(err);
}
