/* STUB: default config.json for `spec`. */
#include "ocirun/container.h"
char *oci_spec_default_json(bool rootless) { return NULL; }
