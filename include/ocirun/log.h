/* ocirun — logging to stderr and to the --log file (text or JSON lines). */
#ifndef OCIRUN_LOG_H
#define OCIRUN_LOG_H

#include <stdbool.h>

enum oci_log_level { OCI_LOG_DEBUG, OCI_LOG_INFO, OCI_LOG_WARNING, OCI_LOG_ERROR };

/* path NULL: stderr only. json: {"level":..,"msg":..,"time":..} lines. */
int oci_log_init(const char *path, bool json, bool debug);
void oci_log(enum oci_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define oci_debug(...) oci_log(OCI_LOG_DEBUG, __VA_ARGS__)
#define oci_info(...) oci_log(OCI_LOG_INFO, __VA_ARGS__)
#define oci_warn(...) oci_log(OCI_LOG_WARNING, __VA_ARGS__)

#endif
