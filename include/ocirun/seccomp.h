/* ocirun — linux.seccomp through libseccomp. */
#ifndef OCIRUN_SECCOMP_H
#define OCIRUN_SECCOMP_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

struct oci_seccomp_filter;

/* Build (not load) the filter; errors name the field:
 * `linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_FOO"`.
 * Unknown syscall names are skipped (debug log), as runc does. */
int oci_seccomp_prepare(const struct oci_seccomp *sc, struct oci_seccomp_filter **out,
                        oci_error *err);
/* The config's linux.seccomp (*out NULL when it has none), with its
 * run.oci.seccomp_fail_unknown_syscall: on, an unknown name is an error
 * `linux.seccomp.syscalls[0].names[1]: unknown syscall "foo"`. */
int oci_seccomp_prepare_config(const struct oci_config *cfg, struct oci_seccomp_filter **out,
                               oci_error *err);
/* Load it into the calling thread: one seccomp(2), nothing after it on
 * success, so callers can load it right before execve. When the profile
 * uses SCMP_ACT_NOTIFY or sets listenerPath, *notify_fd gets the listener
 * fd (O_CLOEXEC), else -1.
 * Without no_new_privs the caller needs CAP_SYS_ADMIN. */
int oci_seccomp_load(struct oci_seccomp_filter *f, int *notify_fd, oci_error *err);
/* Does loading the filter give a listener to hand on to listenerPath (a
 * SCMP_ACT_NOTIFY rule, or listenerPath set without one)? */
bool oci_seccomp_has_listener(const struct oci_seccomp_filter *f);
void oci_seccomp_filter_free(struct oci_seccomp_filter *f);

/* "2.5.4": the libseccomp ocirun runs with, or "unknown". */
const char *oci_seccomp_library_version(void);

/* Send the notify fd to linux.seccomp.listenerPath with the container
 * process state JSON (config-linux.md "The Container Process State"). */
int oci_seccomp_send_listener(const struct oci_seccomp *sc, int notify_fd, pid_t pid,
                              const char *state_json, oci_error *err);

#endif
