/* ocirun — namespaces: flags, id maps, time offsets, joining by path. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const int ns_flags[OCI_NS_COUNT] = {
    [OCI_NS_PID] = CLONE_NEWPID,   [OCI_NS_NETWORK] = CLONE_NEWNET,
    [OCI_NS_MOUNT] = CLONE_NEWNS,  [OCI_NS_IPC] = CLONE_NEWIPC,
    [OCI_NS_UTS] = CLONE_NEWUTS,   [OCI_NS_USER] = CLONE_NEWUSER,
    [OCI_NS_CGROUP] = CLONE_NEWCGROUP, [OCI_NS_TIME] = CLONE_NEWTIME,
};

int oci_ns_clone_flag(enum oci_ns_type t) {
  return t < OCI_NS_COUNT ? ns_flags[t] : 0;
}

bool oci_ns_wants(const struct oci_config *cfg, enum oci_ns_type t) {
  return oci_config_namespace(cfg, t) != NULL;
}

int oci_ns_new_flags(const struct oci_config *cfg) {
  int flags = 0;
  if (cfg->linux_ == NULL)
    return 0;
  for (size_t i = 0; i < cfg->linux_->n_namespaces; i++) {
    const struct oci_namespace *ns = &cfg->linux_->namespaces[i];
    if (ns->path == NULL && ns->type != OCI_NS_TIME)
      flags |= ns_flags[ns->type];
  }
  return flags;
}

bool oci_ns_has_paths(const struct oci_config *cfg) {
  if (cfg->linux_ == NULL)
    return false;
  for (size_t i = 0; i < cfg->linux_->n_namespaces; i++)
    if (cfg->linux_->namespaces[i].path != NULL)
      return true;
  return false;
}

int oci_ns_prepare_time(const struct oci_config *cfg, oci_error *err) {
  const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_TIME);
  if (ns == NULL || ns->path != NULL)
    return 0;
  if (unshare(CLONE_NEWTIME) < 0)
    return oci_error_errno(err, "create time namespace");
  const struct oci_linux *l = cfg->linux_;
  char buf[256];
  int n = 0;
  if (l->time_monotonic.set)
    n += snprintf(buf + n, sizeof(buf) - n, "monotonic %lld %u\n",
                  (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
  if (l->time_boottime.set)
    n += snprintf(buf + n, sizeof(buf) - n, "boottime %lld %u\n",
                  (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
  if (n > 0 && oci_write_file("/proc/self/timens_offsets", buf, (size_t)n, err) < 0)
    return oci_error_wrap(err, "linux.timeOffsets");
  return 0;
}

static char *format_id_map(const struct oci_id_mapping *m, size_t n) {
  size_t cap = n * 40 + 1, len = 0;
  char *buf = oci_xmalloc0(cap);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                            m[i].size);
  return buf;
}

static int write_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                     const char *field, oci_error *err) {
  if (n == 0)
    return 0;
  _cleanup_free_ char *text = format_id_map(m, n);
  _cleanup_free_ char *path = oci_xasprintf("/proc/%d/%s", (int)pid, file);
  if (oci_write_file_at(AT_FDCWD, path, text, strlen(text), err) < 0)
    return oci_error_wrap(err, "%s", field);
  return 0;
}

int oci_ns_write_id_maps(const struct oci_config *cfg, pid_t pid, oci_error *err) {
  const struct oci_linux *l = cfg->linux_;
  if (l == NULL)
    return 0;
  /* An unprivileged writer may only map its own gid after denying
   * setgroups (user_namespaces(7)); root keeps setgroups usable. */
  if (geteuid() != 0 && l->n_gid_mappings > 0) {
    _cleanup_free_ char *path = oci_xasprintf("/proc/%d/setgroups", (int)pid);
    if (oci_write_file_at(AT_FDCWD, path, "deny", 4, err) < 0)
      return oci_error_wrap(err, "user namespace");
  }
  if (write_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, "linux.uidMappings", err) < 0)
    return -1;
  return write_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, "linux.gidMappings", err);
}

void oci_ns_close_fds(int fds[OCI_NS_COUNT]) {
  for (int t = 0; t < OCI_NS_COUNT; t++) {
    if (fds[t] >= 0)
      close(fds[t]);
    fds[t] = -1;
  }
}

int oci_ns_open_paths(const struct oci_config *cfg, int fds[OCI_NS_COUNT], oci_error *err) {
  for (int t = 0; t < OCI_NS_COUNT; t++)
    fds[t] = -1;
  if (cfg->linux_ == NULL)
    return 0;
  for (size_t i = 0; i < cfg->linux_->n_namespaces; i++) {
    const struct oci_namespace *ns = &cfg->linux_->namespaces[i];
    if (ns->path == NULL)
      continue;
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      oci_ns_close_fds(fds);
      return oci_error_set(err, e, "linux.namespaces[%zu]: open %s namespace \"%s\"", i,
                           oci_ns_type_name(ns->type), ns->path);
    }
    fds[ns->type] = fd;
  }
  return 0;
}

/* The user namespace first (it grants the rights to join the others), the
 * mount namespace last (joining it changes how later paths resolve). */
static const enum oci_ns_type join_order[] = {OCI_NS_USER, OCI_NS_IPC, OCI_NS_UTS,
                                              OCI_NS_NETWORK, OCI_NS_PID, OCI_NS_CGROUP,
                                              OCI_NS_TIME, OCI_NS_MOUNT};

int oci_ns_join_fds(int fds[OCI_NS_COUNT], const char *what, oci_error *err) {
  for (size_t i = 0; i < OCI_ARRAY_SIZE(join_order); i++) {
    enum oci_ns_type t = join_order[i];
    if (fds[t] < 0)
      continue;
    if (setns(fds[t], ns_flags[t]) < 0) {
      int e = errno;
      oci_ns_close_fds(fds);
      return oci_error_set(err, e, "join %s namespace of %s", oci_ns_type_name(t), what);
    }
    close(fds[t]);
    fds[t] = -1;
  }
  return 0;
}
