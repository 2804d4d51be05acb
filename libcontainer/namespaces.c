/* ocirun — namespaces: flags, id maps, time offsets, joining by path. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

bool oci_ns_wants_new_time(const struct oci_config *cfg) {
  const struct oci_namespace *ns = oci_config_namespace(cfg, OCI_NS_TIME);
  return ns != NULL && ns->path == NULL;
}

int oci_ns_prepare_time(const struct oci_config *cfg, oci_error *err) {
  if (!oci_ns_wants_new_time(cfg))
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

/* One id map of the config, and who may write it. */
struct id_map {
  const char *file;   /* "uid_map" */
  const char *field;  /* "linux.uidMappings" */
  const char *helper; /* "newuidmap" */
  const char *kind;   /* "uid" */
  const struct oci_id_mapping *m;
  size_t n;
  unsigned own;       /* our effective uid/gid */
};

/* What the kernel lets an unprivileged writer do alone: map its own id, once. */
static bool maps_only_own_id(const struct id_map *im) {
  return im->n == 1 && im->m[0].host_id == im->own && im->m[0].size == 1;
}

static char *find_helper(const char *name) {
  const char *path = getenv("PATH");
  _cleanup_free_ char *copy = oci_xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  char *save = NULL;
  for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char *cand = oci_xasprintf("%s/%s", d, name);
    if (access(cand, X_OK) == 0)
      return cand;
    free(cand);
  }
  return NULL;
}

static char **helper_argv(const char *exe, pid_t pid, const struct id_map *im) {
  char **argv = oci_xmalloc0((3 + 3 * im->n) * sizeof(char *));
  size_t k = 0;
  argv[k++] = oci_xstrdup(exe);
  argv[k++] = oci_xasprintf("%d", (int)pid);
  for (size_t i = 0; i < im->n; i++) {
    argv[k++] = oci_xasprintf("%u", im->m[i].container_id);
    argv[k++] = oci_xasprintf("%u", im->m[i].host_id);
    argv[k++] = oci_xasprintf("%u", im->m[i].size);
  }
  return argv;
}

/* newuidmap/newgidmap (setuid root, checks /etc/subuid): its stderr becomes
 * part of our error message. */
static int run_helper(const char *exe, pid_t pid, const struct id_map *im, oci_error *err) {
  _cleanup_strv_ char **argv = helper_argv(exe, pid, im);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return oci_error_errno(err, "%s: pipe", im->field);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
  pid_t child;
  int r = posix_spawn(&child, exe, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  if (r != 0) {
    close(pipefd[0]);
    return oci_error_set(err, r, "%s: run %s", im->field, exe);
  }
  char msg[512];
  ssize_t n = oci_read_all(pipefd[0], msg, sizeof(msg) - 1);
  close(pipefd[0]);
  msg[n > 0 ? n : 0] = '\0';
  msg[strcspn(msg, "\n")] = '\0';
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return oci_error_setx(err, EPERM, "%s: %s failed (status %d)%s%s", im->field, exe,
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                          *msg ? ": " : "", msg);
  return 0;
}

static int write_map_file(pid_t pid, const struct id_map *im, oci_error *err) {
  _cleanup_free_ char *text = format_id_map(im->m, im->n);
  _cleanup_free_ char *path = oci_xasprintf("/proc/%d/%s", (int)pid, im->file);
  if (oci_write_file_at(AT_FDCWD, path, text, strlen(text), err) < 0)
    return oci_error_wrap(err, "%s", im->field);
  return 0;
}

/* Root writes the map itself. An unprivileged user can alone map only its
 * own id (after denying setgroups for gids, user_namespaces(7)); anything
 * more goes through the setuid helper, as runc does. */
static int write_map(pid_t pid, const struct id_map *im, oci_error *err) {
  if (im->n == 0)
    return 0;
  if (geteuid() == 0)
    return write_map_file(pid, im, err);
  if (!maps_only_own_id(im)) {
    _cleanup_free_ char *helper = find_helper(im->helper);
    if (helper == NULL)
      return oci_error_setx(err, EPERM,
                            "%s: an unprivileged user can only map its own %s (%u) without %s "
                            "(package uidmap) and an entry in /etc/sub%s",
                            im->field, im->kind, im->own, im->helper, im->kind);
    return run_helper(helper, pid, im, err);
  }
  if (strcmp(im->kind, "gid") == 0) {
    _cleanup_free_ char *path = oci_xasprintf("/proc/%d/setgroups", (int)pid);
    if (oci_write_file_at(AT_FDCWD, path, "deny", 4, err) < 0)
      return oci_error_wrap(err, "%s: deny setgroups", im->field);
  }
  return write_map_file(pid, im, err);
}

int oci_ns_write_id_maps(const struct oci_config *cfg, pid_t pid, oci_error *err) {
  const struct oci_linux *l = cfg->linux_;
  if (l == NULL)
    return 0;
  struct id_map uid = {"uid_map", "linux.uidMappings", "newuidmap", "uid",
                       l->uid_mappings, l->n_uid_mappings, geteuid()};
  struct id_map gid = {"gid_map", "linux.gidMappings", "newgidmap", "gid",
                       l->gid_mappings, l->n_gid_mappings, getegid()};
  /* gid first: a direct gid write needs setgroups denied before any map. */
  if (write_map(pid, &gid, err) < 0)
    return -1;
  return write_map(pid, &uid, err);
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
