/* ocirun — config.json checks across fields: what the container's
 * namespaces allow. config.c checks each field on its own; these need the
 * whole config, and create runs them before anything is made. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ocirun/config.h"
#include "ocirun/utils.h"

/* The config gives the container a namespace of this type that is not the
 * runtime's own: a new one, or one joined by path that is not ours (joining
 * /proc/1/ns/net would be the host's again). A path that cannot be stat'ed
 * is left to create, which fails opening it and names it. */
static bool has_own_namespace(const struct oci_config *cfg, enum oci_ns_type t) {
  const struct oci_namespace *ns = oci_config_namespace(cfg, t);
  if (ns == NULL)
    return false;
  if (ns->path == NULL)
    return true;
  static const char *const proc_names[OCI_NS_COUNT] = {
      [OCI_NS_PID] = "pid", [OCI_NS_NETWORK] = "net", [OCI_NS_MOUNT] = "mnt",
      [OCI_NS_IPC] = "ipc", [OCI_NS_UTS] = "uts",     [OCI_NS_USER] = "user",
      [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time"};
  char self[64];
  snprintf(self, sizeof(self), "/proc/self/ns/%s", proc_names[t]);
  struct stat joined, ours;
  if (stat(ns->path, &joined) < 0 || stat(self, &ours) < 0)
    return true;
  return joined.st_dev != ours.st_dev || joined.st_ino != ours.st_ino;
}

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The namespace a sysctl belongs to (key with '.' separators), or -1 for
 * a host-global one. The lists are the kernel's namespaced knobs:
 * ipc_sysctls.c and mq_sysctl.c for IPC, utsname_sysctl.c for UTS. */
static int sysctl_namespace(const char *key) {
  if (starts_with(key, "net."))
    return OCI_NS_NETWORK;
  if (starts_with(key, "kernel.msg") || starts_with(key, "kernel.shm") ||
      strcmp(key, "kernel.sem") == 0 || strcmp(key, "kernel.sem_next_id") == 0 ||
      starts_with(key, "fs.mqueue."))
    return OCI_NS_IPC;
  if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
    return OCI_NS_UTS;
  return -1;
}

/* sysctl(8) accepts '/' as the separator too; process.c turns the key into
 * a path under /proc/sys, so an empty component ("a..b", "net/../vm")
 * would be a way out of the namespace the prefix names. */
static bool sysctl_key_normalize(const char *key, char *out, size_t size) {
  size_t n = strlen(key);
  if (n == 0 || n >= size)
    return false;
  for (size_t i = 0; i <= n; i++)
    out[i] = key[i] == '/' ? '.' : key[i];
  return out[0] != '.' && out[n - 1] != '.' && strstr(out, "..") == NULL;
}

/* kernel.hostname and kernel.domainname set the same thing as the
 * hostname and domainname fields, the sysctl written last: two different
 * values are a config whose outcome nobody meant, refused as crun does.
 * The same value in both is no conflict. */
static int check_uts_sysctl(const struct oci_config *cfg, const char *key, const char *norm,
                            const char *value, oci_error *err) {
  const char *field, *name;
  if (strcmp(norm, "kernel.hostname") == 0) {
    field = "hostname";
    name = cfg->hostname;
  } else if (strcmp(norm, "kernel.domainname") == 0) {
    field = "domainname";
    name = cfg->domainname;
  } else {
    return 0;
  }
  if (name == NULL || *name == '\0' || strcmp(name, value) == 0)
    return 0;
  return oci_error_setx(err, EINVAL,
                        "config.json: linux.sysctl: \"%s\" = \"%s\" conflicts with %s \"%s\"",
                        key, value, field, name);
}

static int check_sysctls(const struct oci_config *cfg, oci_error *err) {
  const struct oci_linux *l = cfg->linux_;
  for (size_t i = 0; i < l->n_sysctl; i++) {
    const char *key = l->sysctl[i].key;
    char norm[256];
    if (!sysctl_key_normalize(key, norm, sizeof(norm)))
      return oci_error_setx(err, EINVAL, "config.json: linux.sysctl: \"%s\" is not a sysctl name",
                            key);
    int t = sysctl_namespace(norm);
    if (t < 0)
      return oci_error_setx(err, EINVAL,
                            "config.json: linux.sysctl: \"%s\" is not in a separate kernel "
                            "namespace; setting it would change the host",
                            key);
    if (!has_own_namespace(cfg, t))
      return oci_error_setx(err, EINVAL,
                            "config.json: linux.sysctl: \"%s\" needs the container's own %s "
                            "namespace in linux.namespaces",
                            key, oci_ns_type_name(t));
    if (check_uts_sysctl(cfg, key, norm, l->sysctl[i].value, err) < 0)
      return -1;
  }
  return 0;
}

/* Fields ocirun cannot apply on any host: refused by name, never accepted
 * without effect. */
static int check_unsupported(const struct oci_linux *l, oci_error *err) {
  if (l->mount_label != NULL && *l->mount_label != '\0')
    return oci_error_setx(err, ENOTSUP,
                          "config.json: linux.mountLabel: SELinux is not enabled on this host");
  /* config-linux.md: a runtime that cannot apply intelRdt MUST error. */
  if (l->intel_rdt)
    return oci_error_setx(err, ENOTSUP,
                          "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by "
                          "ocirun");
  /* config-linux.md: "Currently no flag values are supported." */
  if (l->personality != NULL && l->personality->n_flags > 0)
    return oci_error_setx(err, ENOTSUP,
                          "config.json: linux.personality.flags[0]: unsupported flag \"%s\" "
                          "(no personality flag is supported)",
                          l->personality->flags[0]);
  return 0;
}

/* A mount's own id mappings make it idmapped (with or without the idmap
 * option), and one of the two alone is not a mapping (config.md: each MUST
 * be specified along with the other). */
static int check_mount_mappings(const struct oci_config *cfg, oci_error *err) {
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if ((m->n_uid_mappings > 0) != (m->n_gid_mappings > 0))
      return oci_error_setx(err, EINVAL, "config.json: mounts[%zu].%s: needs %s as well", i,
                            m->n_uid_mappings > 0 ? "uidMappings" : "gidMappings",
                            m->n_uid_mappings > 0 ? "gidMappings" : "uidMappings");
  }
  return 0;
}

/* Interfaces moved into the runtime's own network namespace would stay on
 * the host. */
static int check_net_devices(const struct oci_config *cfg, oci_error *err) {
  const struct oci_linux *l = cfg->linux_;
  if (l->n_net_devices > 0 && !has_own_namespace(cfg, OCI_NS_NETWORK))
    return oci_error_setx(err, EINVAL,
                          "config.json: linux.netDevices: needs the container's own network "
                          "namespace in linux.namespaces");
  return 0;
}

int oci_config_validate(const struct oci_config *cfg, oci_error *err) {
  if (check_mount_mappings(cfg, err) < 0)
    return -1;
  const struct oci_linux *l = cfg->linux_;
  if (l == NULL)
    return 0;
  if (check_unsupported(l, err) < 0 || check_net_devices(cfg, err) < 0)
    return -1;
  /* Without a user namespace there is nothing to map: the ids would be
   * silently the host's. */
  bool userns = oci_config_namespace(cfg, OCI_NS_USER) != NULL;
  if (!userns && l->n_uid_mappings > 0)
    return oci_error_setx(err, EINVAL,
                          "config.json: linux.uidMappings: needs a user namespace in linux.namespaces");
  if (!userns && l->n_gid_mappings > 0)
    return oci_error_setx(err, EINVAL,
                          "config.json: linux.gidMappings: needs a user namespace in linux.namespaces");
  /* A new user namespace without mappings leaves every id unmapped: the
   * process could not even become its own user, and the failure would come
   * late and say only EINVAL (runc refuses it up front as well). */
  const struct oci_namespace *user_ns = oci_config_namespace(cfg, OCI_NS_USER);
  bool new_userns = user_ns != NULL && (user_ns->path == NULL || user_ns->path[0] == '\0');
  if (new_userns && l->n_uid_mappings == 0)
    return oci_error_setx(err, EINVAL,
                          "config.json: linux.uidMappings: a new user namespace needs uid "
                          "mappings (none given)");
  if (new_userns && l->n_gid_mappings == 0)
    return oci_error_setx(err, EINVAL,
                          "config.json: linux.gidMappings: a new user namespace needs gid "
                          "mappings (none given)");
  if ((l->time_monotonic.set || l->time_boottime.set) &&
      oci_config_namespace(cfg, OCI_NS_TIME) == NULL)
    return oci_error_setx(err, EINVAL,
                          "config.json: linux.timeOffsets: needs a time namespace in linux.namespaces");
  return check_sysctls(cfg, err);
}
