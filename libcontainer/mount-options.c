/* ocirun — the "options" of a config mount, split into what mount(2) and
 * mount_setattr(2) take as flags, the propagation to set afterwards, the
 * ocirun extensions (tmpcopyup, idmap) and the rest, which is handed to the
 * filesystem as data ("mode=755,size=65536k").
 *
 * A table rather than libmount: several options here (tmpcopyup, idmap,
 * the recursive r* attributes) are runtime extensions libmount does not
 * know, and each entry must say both what it sets and what it clears. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include "ocirun/rootfs.h"
#include "ocirun/utils.h"
#include "rootfs-internal.h"

enum opt_kind { OPT_FLAG, OPT_PROPAGATION, OPT_BIND, OPT_RBIND, OPT_TMPCOPYUP, OPT_IDMAP,
                OPT_RIDMAP };

struct opt {
  const char *name;
  enum opt_kind kind;
  unsigned long set;
  unsigned long clear;
  bool attr; /* a per-mount attribute: also valid as "r<name>" (rro, rnosuid) */
};

#define ATIME_BITS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

static const struct opt opts[] = {
    {"ro", OPT_FLAG, MS_RDONLY, 0, true},
    {"rw", OPT_FLAG, 0, MS_RDONLY, true},
    {"nosuid", OPT_FLAG, MS_NOSUID, 0, true},
    {"suid", OPT_FLAG, 0, MS_NOSUID, true},
    {"nodev", OPT_FLAG, MS_NODEV, 0, true},
    {"dev", OPT_FLAG, 0, MS_NODEV, true},
    {"noexec", OPT_FLAG, MS_NOEXEC, 0, true},
    {"exec", OPT_FLAG, 0, MS_NOEXEC, true},
    {"sync", OPT_FLAG, MS_SYNCHRONOUS, 0, false},
    {"async", OPT_FLAG, 0, MS_SYNCHRONOUS, false},
    {"dirsync", OPT_FLAG, MS_DIRSYNC, 0, false},
    {"remount", OPT_FLAG, MS_REMOUNT, 0, false},
    {"mand", OPT_FLAG, MS_MANDLOCK, 0, false},
    {"nomand", OPT_FLAG, 0, MS_MANDLOCK, false},
    {"atime", OPT_FLAG, 0, MS_NOATIME, true},
    {"noatime", OPT_FLAG, MS_NOATIME, MS_RELATIME | MS_STRICTATIME, true},
    {"diratime", OPT_FLAG, 0, MS_NODIRATIME, true},
    {"nodiratime", OPT_FLAG, MS_NODIRATIME, 0, true},
    {"relatime", OPT_FLAG, MS_RELATIME, MS_NOATIME | MS_STRICTATIME, true},
    {"norelatime", OPT_FLAG, 0, MS_RELATIME, true},
    {"strictatime", OPT_FLAG, MS_STRICTATIME, MS_NOATIME | MS_RELATIME, true},
    {"nostrictatime", OPT_FLAG, 0, MS_STRICTATIME, true},
    {"lazytime", OPT_FLAG, MS_LAZYTIME, 0, false},
    {"nolazytime", OPT_FLAG, 0, MS_LAZYTIME, false},
    {"nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW, 0, true},
    {"symfollow", OPT_FLAG, 0, MS_NOSYMFOLLOW, true},
    /* Superblock flags only mount(2) takes: rootfs.c mounts a filesystem
     * with them through it. On a bind mount they do nothing, as with
     * mount(8): a bind makes no superblock. */
    {"iversion", OPT_FLAG, MS_I_VERSION, 0, false},
    {"noiversion", OPT_FLAG, 0, MS_I_VERSION, false},
    {"silent", OPT_FLAG, MS_SILENT, 0, false},
    {"loud", OPT_FLAG, 0, MS_SILENT, false},
    /* mount(8): "use the default options": nothing to change. */
    {"defaults", OPT_FLAG, 0, 0, false},
    {"bind", OPT_BIND, MS_BIND, 0, false},
    {"rbind", OPT_RBIND, MS_BIND | MS_REC, 0, false},
    {"private", OPT_PROPAGATION, MS_PRIVATE, 0, false},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC, 0, false},
    {"shared", OPT_PROPAGATION, MS_SHARED, 0, false},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC, 0, false},
    {"slave", OPT_PROPAGATION, MS_SLAVE, 0, false},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC, 0, false},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE, 0, false},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC, 0, false},
    {"tmpcopyup", OPT_TMPCOPYUP, 0, 0, false},
    {"idmap", OPT_IDMAP, 0, 0, false},
    {"ridmap", OPT_RIDMAP, 0, 0, false},
};

static const struct opt *find_opt(const char *name) {
  for (size_t i = 0; i < OCI_ARRAY_SIZE(opts); i++)
    if (strcmp(opts[i].name, name) == 0)
      return &opts[i];
  return NULL;
}

static void apply_flag(unsigned long *set, unsigned long *cleared, const struct opt *o) {
  *set = (*set & ~o->clear) | o->set;
  *cleared = (*cleared & ~o->set) | o->clear;
}

static void append_data(char **data, const char *opt) {
  if (*data == NULL) {
    *data = oci_xstrdup(opt);
    return;
  }
  char *joined = oci_xasprintf("%s,%s", *data, opt);
  free(*data);
  *data = joined;
}

static void apply_opt(struct oci_mount_opts *out, const struct opt *o) {
  switch (o->kind) {
  case OPT_FLAG:
    apply_flag(&out->flags, &out->cleared, o);
    break;
  case OPT_PROPAGATION:
    out->propagation = o->set; /* the last one wins, as with mount(8) */
    break;
  case OPT_RBIND:
    out->recursive = true;
    /* fall through */
  case OPT_BIND:
    out->bind = true;
    out->flags |= o->set;
    break;
  case OPT_TMPCOPYUP:
    out->tmpcopyup = true;
    break;
  case OPT_RIDMAP:
    out->ridmap = true;
    /* fall through */
  case OPT_IDMAP:
    out->idmap = true;
    break;
  }
}

int oci_mount_opts_parse(char **options, size_t n, struct oci_mount_opts *out,
                         oci_error *err) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < n; i++) {
    const char *name = options[i];
    if (name == NULL || *name == '\0')
      continue;
    const struct opt *o = find_opt(name);
    if (o != NULL) {
      apply_opt(out, o);
      continue;
    }
    /* rro, rnosuid ...: the attribute on every mount of the subtree. */
    if (name[0] == 'r' && (o = find_opt(name + 1)) != NULL && o->attr) {
      apply_flag(&out->rflags, &out->rcleared, o);
      continue;
    }
    append_data(&out->data, name);
  }
  return 0;
}

void oci_mount_opts_free(struct oci_mount_opts *o) {
  free(o->data);
  o->data = NULL;
}

int oci_mount_parse_options(char **options, size_t n, unsigned long *flags,
                            unsigned long *propagation, bool *recursive, char **data,
                            oci_error *err) {
  struct oci_mount_opts o;
  if (oci_mount_opts_parse(options, n, &o, err) < 0)
    return -1;
  *flags = o.flags;
  *propagation = o.propagation;
  *recursive = o.recursive;
  *data = o.data;
  return 0;
}

uint64_t oci_ms_to_mount_attr(unsigned long ms) {
  uint64_t a = 0;
  if (ms & MS_RDONLY)
    a |= MOUNT_ATTR_RDONLY;
  if (ms & MS_NOSUID)
    a |= MOUNT_ATTR_NOSUID;
  if (ms & MS_NODEV)
    a |= MOUNT_ATTR_NODEV;
  if (ms & MS_NOEXEC)
    a |= MOUNT_ATTR_NOEXEC;
  if (ms & MS_NODIRATIME)
    a |= MOUNT_ATTR_NODIRATIME;
  if (ms & MS_NOSYMFOLLOW)
    a |= MOUNT_ATTR_NOSYMFOLLOW;
  if (ms & MS_NOATIME)
    a |= MOUNT_ATTR_NOATIME;
  else if (ms & MS_STRICTATIME)
    a |= MOUNT_ATTR_STRICTATIME;
  else if (ms & MS_RELATIME)
    a |= MOUNT_ATTR_RELATIME;
  return a;
}

uint64_t oci_ms_to_mount_attr_clr(unsigned long set, unsigned long cleared) {
  /* The atime mode is one field: changing it means clearing the field. */
  uint64_t a = oci_ms_to_mount_attr(cleared & ~ATIME_BITS);
  if ((set | cleared) & ATIME_BITS)
    a |= MOUNT_ATTR__ATIME;
  return a;
}
