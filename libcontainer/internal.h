/* ocirun — declarations shared inside libcontainer only (not the CLI). */
#ifndef OCIRUN_INTERNAL_H
#define OCIRUN_INTERNAL_H

#include "ocirun/config.h"
#include "ocirun/container.h"
#include "ocirun/error.h"
#include "ocirun/utils.h"

#endif
