/* ocirun — shared by seccomp.c and seccomp-enosys.c only. */
#ifndef OCIRUN_SECCOMP_INTERNAL_H
#define OCIRUN_SECCOMP_INTERNAL_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocirun/config.h"

/* Whether a profile with this default action gets the ENOSYS stub: not when
 * the default is ALLOW, LOG or TRACE (as runc). */
bool oci_seccomp_wants_enosys(uint32_t default_action);

/* The instructions to put in front of ctx's compiled program so that every
 * system call numbered above the highest one sc names, on an architecture
 * of ctx, fails with ENOSYS. Returns their number (0: none, *out NULL). */
size_t oci_seccomp_enosys_stub(const struct oci_seccomp *sc, scmp_filter_ctx ctx,
                               struct sock_filter **out);

#endif
