/* STUB */
#include "ocirun.h"
int cmd_pause(struct cli_global *g, int argc, char **argv) { return 1; }
