/* STUB */
#include "ocirun.h"
int main(void) { return 1; }
