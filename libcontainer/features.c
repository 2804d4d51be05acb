/* STUB: features JSON. */
#include "ocirun/container.h"
char *oci_features_json(void) { return NULL; }
