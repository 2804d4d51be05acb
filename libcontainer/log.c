/* ocirun — log to stderr and to --log (text lines or JSON lines).
 *
 * Engines read the log file: containerd's shim and conmon parse JSON lines
 * and show the last "error" msg to the user, so every error goes there. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ocirun/log.h"
#include "ocirun/utils.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug;

int oci_log_init(const char *path, bool json, bool debug) {
  log_json = json;
  log_debug = debug;
  if (path == NULL || *path == '\0')
    return 0;
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return log_fd < 0 ? -1 : 0;
}

static const char *level_name(enum oci_log_level l) {
  switch (l) {
  case OCI_LOG_DEBUG: return "debug";
  case OCI_LOG_INFO: return "info";
  case OCI_LOG_WARNING: return "warning";
  default: return "error";
  }
}

/* JSON string escaping for the msg field. */
static void json_escape(char *out, size_t cap, const char *in) {
  size_t o = 0;
  for (; *in && o + 7 < cap; in++) {
    unsigned char c = (unsigned char)*in;
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c == '\n') {
      out[o++] = '\\';
      out[o++] = 'n';
    } else if (c < 0x20) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
}

static void format_time(char *buf, size_t cap) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, cap - n, ".%09ldZ", ts.tv_nsec);
}

/* One record as runc writes its log: a JSON line, or logfmt (quoted the
 * way JSON quotes). */
static void write_record(int fd, bool json, enum oci_log_level level, const char *msg) {
  char ts[64], line[9000], esc[8192];
  format_time(ts, sizeof(ts));
  json_escape(esc, sizeof(esc), msg);
  int n = json ? snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
                          level_name(level), esc, ts)
               : snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"\n", ts,
                          level_name(level), esc);
  if (n > 0)
    oci_write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void oci_log(enum oci_log_level level, const char *fmt, ...) {
  if (level == OCI_LOG_DEBUG && !log_debug)
    return;
  int saved = errno;
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);

  /* stderr gets errors and warnings always, debug/info with --debug; when a
   * log file is set, only errors also go to stderr (runc's behaviour).
   * Errors and warnings read "ocirun: ..."; --debug's own lines are
   * runc's text lines (time=... level=debug msg=...), which scripts and
   * runc's tests look for. */
  bool to_stderr = log_fd < 0 ? (level >= OCI_LOG_WARNING || log_debug) : level == OCI_LOG_ERROR;
  if (to_stderr && level >= OCI_LOG_WARNING)
    dprintf(STDERR_FILENO, "ocirun: %s%s\n", level == OCI_LOG_WARNING ? "warning: " : "", msg);
  else if (to_stderr)
    write_record(STDERR_FILENO, false, level, msg);
  if (log_fd >= 0)
    write_record(log_fd, log_json, level, msg);
  errno = saved;
}
