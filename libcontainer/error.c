/* ocirun — the error type: a message with context and the root errno. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ocirun/error.h"

int oci_error_set(oci_error *err, int errnum, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  if (errnum != 0 && (size_t)n < sizeof(err->msg))
    snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
  err->errnum = errnum;
  return -1;
}

int oci_error_setx(oci_error *err, int errnum, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  err->errnum = errnum;
  return -1;
}

int oci_error_wrap(oci_error *err, const char *fmt, ...) {
  if (err == NULL)
    return -1;
  char prefix[OCI_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof(prefix), fmt, ap);
  va_end(ap);
  char old[OCI_ERROR_MSG_MAX];
  memcpy(old, err->msg, sizeof(old));
  old[sizeof(old) - 1] = '\0';
  if (old[0] == '\0')
    snprintf(err->msg, sizeof(err->msg), "%s", prefix);
  else
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
  return -1;
}
