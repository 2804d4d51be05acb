/* ocirun — the one error type carried up the stack.
 *
 * Every libcontainer function that can fail takes an `oci_error *err` as its
 * last argument and returns a negative value on failure after filling *err.
 * Callers add context on the way up with oci_error_wrap(), so the message the
 * user finally sees reads outermost-first:
 *     create "c1": mount "/proc" to "/proc": permission denied
 */
#ifndef OCIRUN_ERROR_H
#define OCIRUN_ERROR_H

#include <stddef.h>

#define OCI_ERROR_MSG_MAX 2048

typedef struct oci_error {
  int errnum;                   /* errno of the root cause, 0 when none */
  char msg[OCI_ERROR_MSG_MAX];  /* human readable, no trailing newline */
} oci_error;

/* Fill *err with a formatted message; when errnum != 0, ": strerror(errnum)"
 * is appended. Always returns -1 so callers can `return oci_error_set(...)`. */
int oci_error_set(oci_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record errnum as the cause but keep the message as written: for messages
 * that already say what went wrong ("container \"x\" does not exist"). */
int oci_error_setx(oci_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same as oci_error_set, taking errno as the cause. */
#define oci_error_errno(err, ...) oci_error_set((err), errno, __VA_ARGS__)

/* Prepend context to an existing message: "<context>: <old message>".
 * Returns -1. */
int oci_error_wrap(oci_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
