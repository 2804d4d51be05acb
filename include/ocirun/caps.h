/* ocirun — capabilities (libcap), applied in the order the kernel needs. */
#ifndef OCIRUN_CAPS_H
#define OCIRUN_CAPS_H

#include "ocirun/config.h"
#include "ocirun/error.h"

/* Check every name before anything is created. Errors read
 * `process.capabilities.bounding[3]: unknown capability "CAP_FOO"`
 * (field_prefix "process.capabilities"). Names the running kernel lacks are
 * accepted here and skipped at apply time with a debug message. */
int oci_caps_validate(const struct oci_capabilities *caps, const char *field_prefix,
                      oci_error *err);

/* While still uid 0: drop everything not in the bounding set and set
 * PR_SET_KEEPCAPS so the user switch keeps permitted caps. NULL caps:
 * drop all. */
int oci_caps_prepare(const struct oci_capabilities *caps, oci_error *err);

/* After setresuid/setresgid: set effective/permitted/inheritable exactly,
 * then the ambient set, and clear KEEPCAPS. */
int oci_caps_finish(const struct oci_capabilities *caps, oci_error *err);
/* The same, but capability `keep` (e.g. CAP_SYS_ADMIN) stays effective
 * and permitted until execve, which drops it unless the config grants it
 * (execve never carries the old permitted set over). An error when it is
 * not permitted now. keep < 0: oci_caps_finish(). */
int oci_caps_finish_keeping(const struct oci_capabilities *caps, int keep, oci_error *err);

#endif
