/* STUB */
#include "ocirun.h"
int cmd_kill(struct cli_global *g, int argc, char **argv) { return 1; }
