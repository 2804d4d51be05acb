/* ocirun — /proc/self/mountinfo: parsed in place into entries (octal
 * escapes undone), and the mount point a path lies under. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ocirun/utils.h"

/* Undo the kernel's octal escapes (\040 for a space ...) in place. */
static void mountinfo_unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
        r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* "36 35 98:0 /root /target rw,noatime master:1 - ext4 /dev/sda1 rw": split
 * one line in place; false when it is malformed. */
static bool mountinfo_line(char *line, struct oci_mountinfo_entry *e) {
  char *f[6], *save = NULL;
  for (int i = 0; i < 6; i++)
    if ((f[i] = strtok_r(i ? NULL : line, " ", &save)) == NULL)
      return false;
  char *t;
  bool shared = false;
  while ((t = strtok_r(NULL, " ", &save)) != NULL && strcmp(t, "-") != 0)
    shared = shared || strncmp(t, "shared:", 7) == 0; /* optional fields */
  char *fstype = t ? strtok_r(NULL, " ", &save) : NULL;
  char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
  char *super = source ? strtok_r(NULL, " ", &save) : NULL;
  if (super == NULL)
    return false;
  mountinfo_unescape(f[3]);
  mountinfo_unescape(f[4]);
  mountinfo_unescape(source);
  *e = (struct oci_mountinfo_entry){.root = f[3], .target = f[4], .fstype = fstype,
                                     .source = source, .super_opts = super,
                                     .shared = shared};
  return true;
}

int oci_mountinfo_parse(char *text, struct oci_mountinfo_entry **out, size_t *n,
                        oci_error *err) {
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      *out = oci_xrealloc(*out, cap * sizeof(**out));
    }
    if (!mountinfo_line(line, &(*out)[*n])) {
      size_t bad = *n + 1;
      free(*out);
      *out = NULL;
      *n = 0;
      return oci_error_setx(err, EINVAL, "mountinfo: malformed line %zu", bad);
    }
    (*n)++;
  }
  return 0;
}

int oci_mountinfo_read(char **text, struct oci_mountinfo_entry **out, size_t *n,
                       oci_error *err) {
  if (oci_read_file("/proc/self/mountinfo", text, NULL, err) < 0)
    return -1;
  if (oci_mountinfo_parse(*text, out, n, err) < 0) {
    free(*text);
    *text = NULL;
    return oci_error_wrap(err, "/proc/self/mountinfo");
  }
  return 0;
}

const struct oci_mountinfo_entry *oci_mountinfo_mountpoint(const struct oci_mountinfo_entry *e,
                                                           size_t n, const char *path) {
  _cleanup_free_ char *p = oci_xstrdup(path);
  for (;;) {
    for (size_t i = n; i-- > 0;) /* the last one mounted hides the others */
      if (strcmp(e[i].target, p) == 0)
        return &e[i];
    char *slash = strrchr(p, '/');
    if (slash == NULL || (slash == p && p[1] == '\0'))
      return NULL;
    slash[slash == p] = '\0';
  }
}
