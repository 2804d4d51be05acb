/* ocirun — process.capabilities through libcap.
 *
 * The kernel needs a fixed order: the bounding set can only shrink while we
 * still hold CAP_SETPCAP (uid 0, before the user switch), and permitted caps
 * only survive setresuid() away from 0 when PR_SET_KEEPCAPS is on. So the
 * work is split in two: oci_caps_prepare() before the switch, and
 * oci_caps_finish() after it. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "ocirun/caps.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

/* The five sets as bitmasks; bit N = capability N. Every capability the
 * kernel knows today (0..40) fits in 64 bits. */
struct cap_masks {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct named_set {
  const char *name;
  const struct oci_cap_set *set;
};

static void list_sets(const struct oci_capabilities *caps, struct named_set out[5]) {
  out[0] = (struct named_set){"bounding", &caps->bounding};
  out[1] = (struct named_set){"effective", &caps->effective};
  out[2] = (struct named_set){"inheritable", &caps->inheritable};
  out[3] = (struct named_set){"permitted", &caps->permitted};
  out[4] = (struct named_set){"ambient", &caps->ambient};
}

/* runc only accepts the canonical spelling "CAP_XXX"; libcap alone would
 * also take "cap_xxx" or a bare number. */
static bool canonical_name(const char *name) {
  if (strncmp(name, "CAP_", 4) != 0 || name[4] == '\0')
    return false;
  for (const char *p = name + 4; *p; p++)
    if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
      return false;
  return true;
}

static int resolve_name(const char *name, cap_value_t *out) {
  if (name == NULL || !canonical_name(name))
    return -1;
  return cap_from_name(name, out) < 0 ? -1 : 0;
}

int oci_caps_validate(const struct oci_capabilities *caps, const char *field_prefix,
                      oci_error *err) {
  if (caps == NULL)
    return 0;
  struct named_set sets[5];
  list_sets(caps, sets);
  for (size_t s = 0; s < OCI_ARRAY_SIZE(sets); s++) {
    if (!sets[s].set->present)
      continue;
    for (size_t i = 0; i < sets[s].set->n; i++) {
      const char *name = sets[s].set->names[i];
      cap_value_t v;
      if (resolve_name(name, &v) < 0 || v >= 64)
        return oci_error_setx(err, EINVAL, "%s.%s[%zu]: unknown capability \"%s\"",
                             field_prefix, sets[s].name, i, name ? name : "(null)");
    }
  }
  return 0;
}

/* The highest capability number the running kernel knows (read once: the
 * init asks before and after it changes user). */
static int kernel_last_cap(void) {
  static int last = -1;
  if (last >= 0)
    return last;
  _cleanup_free_ char *text = NULL;
  long v;
  if (oci_read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) == 0) {
    text[strcspn(text, "\n")] = '\0';
    if (oci_parse_long(text, &v) == 0 && v >= 0 && v < 64)
      return last = (int)v;
  }
  /* No /proc: trust libcap's probe of the kernel. */
  int bits = (int)cap_max_bits();
  return last = bits > 0 && bits <= 64 ? bits - 1 : CAP_LAST_CAP;
}

/* Names were checked by oci_caps_validate(); one that is unknown here is
 * skipped rather than failing half way through the container's setup. */
static uint64_t set_mask(const struct oci_cap_set *set, const char *what, int last) {
  uint64_t mask = 0;
  if (!set->present)
    return 0;
  for (size_t i = 0; i < set->n; i++) {
    cap_value_t v;
    if (resolve_name(set->names[i], &v) < 0 || v >= 64) {
      oci_debug("capabilities.%s: skipping unknown capability \"%s\"", what,
                set->names[i] ? set->names[i] : "(null)");
      continue;
    }
    if (v > last) {
      oci_debug("capabilities.%s: the kernel lacks %s, skipped", what, set->names[i]);
      continue;
    }
    mask |= UINT64_C(1) << v;
  }
  return mask;
}

static void resolve_masks(const struct oci_capabilities *caps, int last, struct cap_masks *m) {
  memset(m, 0, sizeof(*m));
  if (caps == NULL)
    return;
  m->bounding = set_mask(&caps->bounding, "bounding", last);
  m->effective = set_mask(&caps->effective, "effective", last);
  m->inheritable = set_mask(&caps->inheritable, "inheritable", last);
  m->permitted = set_mask(&caps->permitted, "permitted", last);
  m->ambient = set_mask(&caps->ambient, "ambient", last);
}

static bool has(uint64_t mask, int cap) { return (mask >> cap) & 1; }

/* cap_to_name()'s string must go back through cap_free(), not free(). */
static const char *cap_name(int v, char *buf, size_t len) {
  char *name = cap_to_name(v);
  snprintf(buf, len, "%s", name ? name : "?");
  cap_free(name);
  return buf;
}

int oci_caps_prepare(const struct oci_capabilities *caps, oci_error *err) {
  int last = kernel_last_cap();
  struct cap_masks m;
  resolve_masks(caps, last, &m);

  for (int c = 0; c <= last; c++) {
    if (has(m.bounding, c))
      continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
      int saved = errno;
      /* Already gone (e.g. a parent runtime dropped it) is fine: without
       * CAP_SETPCAP the drop fails even then. Asked only on failure: one
       * system call per capability instead of two. */
      if (saved == EPERM && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0)
        continue;
      char name[64];
      return oci_error_set(err, saved, "drop %s from the bounding set",
                           cap_name(c, name, sizeof(name)));
    }
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return oci_error_errno(err, "prctl(PR_SET_KEEPCAPS, 1)");
  return 0;
}

/* Set effective, permitted and inheritable in one capset(2). */
static int set_process_caps(const struct cap_masks *m, int last, oci_error *err) {
  cap_t c = cap_init();
  if (c == NULL)
    return oci_error_errno(err, "cap_init");
  for (int v = 0; v <= last; v++) {
    cap_value_t cv = v;
    if (has(m->effective, v))
      cap_set_flag(c, CAP_EFFECTIVE, 1, &cv, CAP_SET);
    if (has(m->permitted, v))
      cap_set_flag(c, CAP_PERMITTED, 1, &cv, CAP_SET);
    if (has(m->inheritable, v))
      cap_set_flag(c, CAP_INHERITABLE, 1, &cv, CAP_SET);
  }
  int ret = cap_set_proc(c);
  int saved = errno;
  cap_free(c);
  if (ret < 0)
    return oci_error_set(err, saved, "set effective/permitted/inheritable capabilities");
  return 0;
}

/* Ambient caps need the same cap in permitted and inheritable. runc 1.1
 * silently ignores a failed raise (1.2 logs a warning), and configs in the
 * wild depend on that: `runc spec` itself lists ambient caps without
 * inheritable ones. So a failed raise is only a debug message; a warning
 * would land on the container's stderr on every run. Clearing must work:
 * a stale ambient cap would leak privileges into the container. */
static int set_ambient(uint64_t ambient, int last, oci_error *err) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    if (errno != EINVAL)
      return oci_error_errno(err, "clear the ambient capabilities");
    if (ambient != 0)
      oci_warn("the kernel does not support ambient capabilities; ignoring them");
    return 0;  /* kernel < 4.3: there is no ambient set to clear */
  }
  for (int v = 0; v <= last; v++) {
    if (!has(ambient, v))
      continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0) {
      int saved = errno;
      char name[64];
      oci_debug("cannot raise ambient capability %s (it must be permitted and inheritable): %s",
               cap_name(v, name, sizeof(name)), strerror(saved));
    }
  }
  return 0;
}

static bool currently_permitted(cap_value_t v) {
  cap_t c = cap_get_proc();
  cap_flag_value_t on = CAP_CLEAR;
  if (c != NULL)
    cap_get_flag(c, v, CAP_PERMITTED, &on);
  cap_free(c);
  return on == CAP_SET;
}

int oci_caps_finish(const struct oci_capabilities *caps, oci_error *err) {
  return oci_caps_finish_keeping(caps, -1, err);
}

int oci_caps_finish_keeping(const struct oci_capabilities *caps, int keep, oci_error *err) {
  int last = kernel_last_cap();
  struct cap_masks m;
  resolve_masks(caps, last, &m);
  if (keep >= 0 && keep <= last) {
    char name[64];
    if (!currently_permitted(keep))
      return oci_error_setx(err, EPERM, "%s is not permitted, and the next step needs it",
                           cap_name(keep, name, sizeof(name)));
    /* Not passed on: execve computes the new sets without the old
     * permitted and effective ones (capabilities(7)). */
    m.effective |= UINT64_C(1) << keep;
    m.permitted |= UINT64_C(1) << keep;
  }

  if (set_process_caps(&m, last, err) < 0)
    return -1;
  if (set_ambient(m.ambient, last, err) < 0)
    return -1;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return oci_error_errno(err, "prctl(PR_SET_KEEPCAPS, 0)");
  return 0;
}
