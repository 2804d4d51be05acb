/* ocirun — the default config.json written by `ocirun spec`.
 *
 * The same shape `runc spec` (1.1) writes, so bundles made for one runtime
 * work with the other and scripts written against runc's file (jq or sed
 * edits, the namespace list) work on ours: a shell on a terminal, a small
 * capability set, the usual /proc /dev /sys mounts and new namespaces. The rootless variant adds a user
 * namespace mapping the caller to root and keeps what an unprivileged user
 * cannot do out of it (network namespace, sysfs mount, device cgroup).
 */
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "config-json.h"
#include "ocirun/container.h"
#include "ocirun/utils.h"

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL",
                                           "CAP_NET_BIND_SERVICE", NULL};

static void gen_process(yajl_gen g) {
  static const char *const args[] = {"sh", NULL};
  static const char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};
  j_gen_str(g, "process");
  yajl_gen_map_open(g);
  j_gen_kbool(g, "terminal", true);
  j_gen_str(g, "user");
  yajl_gen_map_open(g);
  j_gen_str(g, "uid");
  yajl_gen_integer(g, 0);
  j_gen_str(g, "gid");
  yajl_gen_integer(g, 0);
  yajl_gen_map_close(g);
  j_gen_kstrv(g, "args", args);
  j_gen_kstrv(g, "env", env);
  j_gen_kstr(g, "cwd", "/");
  j_gen_str(g, "capabilities");
  yajl_gen_map_open(g);
  j_gen_kstrv(g, "bounding", default_caps);
  j_gen_kstrv(g, "effective", default_caps);
  j_gen_kstrv(g, "permitted", default_caps);
  j_gen_kstrv(g, "ambient", default_caps);
  yajl_gen_map_close(g);
  j_gen_str(g, "rlimits");
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  j_gen_kstr(g, "type", "RLIMIT_NOFILE");
  j_gen_str(g, "hard");
  yajl_gen_integer(g, 1024);
  j_gen_str(g, "soft");
  yajl_gen_integer(g, 1024);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
  j_gen_kbool(g, "noNewPrivileges", true);
  yajl_gen_map_close(g);
}

struct default_mount {
  const char *destination, *type, *source;
  const char *options[8];
};

/* Shared by both variants; the rootless one swaps /sys and /dev/pts. */
static const struct default_mount mount_proc = {"/proc", "proc", "proc", {NULL}};
static const struct default_mount mount_dev = {
  "/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}};
static const struct default_mount mount_devpts = {
  "/dev/pts", "devpts", "devpts",
  {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}};
/* Without gid=5: the tty group may not be mapped into the user namespace. */
static const struct default_mount mount_devpts_rootless = {
  "/dev/pts", "devpts", "devpts",
  {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL}};
static const struct default_mount mount_shm = {
  "/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}};
static const struct default_mount mount_mqueue = {
  "/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}};
static const struct default_mount mount_sys = {
  "/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}};
/* sysfs can only be mounted by the owner of the network namespace; without
 * one of its own the container gets the host's /sys bound read-only. */
static const struct default_mount mount_sys_rootless = {
  "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro", NULL}};
static const struct default_mount mount_cgroup = {
  "/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}};

static void gen_mounts(yajl_gen g, bool rootless) {
  const struct default_mount *mounts[] = {
    &mount_proc, &mount_dev, rootless ? &mount_devpts_rootless : &mount_devpts, &mount_shm,
    &mount_mqueue, rootless ? &mount_sys_rootless : &mount_sys, &mount_cgroup,
  };
  j_gen_str(g, "mounts");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < OCI_ARRAY_SIZE(mounts); i++) {
    yajl_gen_map_open(g);
    j_gen_kstr(g, "destination", mounts[i]->destination);
    j_gen_kstr(g, "type", mounts[i]->type);
    j_gen_kstr(g, "source", mounts[i]->source);
    if (mounts[i]->options[0] != NULL)
      j_gen_kstrv(g, "options", mounts[i]->options);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

/* Map one id of the caller to root in the container. */
static void gen_idmap(yajl_gen g, const char *key, unsigned host_id) {
  j_gen_str(g, key);
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  j_gen_str(g, "containerID");
  yajl_gen_integer(g, 0);
  j_gen_str(g, "hostID");
  yajl_gen_integer(g, host_id);
  j_gen_str(g, "size");
  yajl_gen_integer(g, 1);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
}

/* runc 1.1's lists: no cgroup namespace. Engines and scripts start from
 * `spec` and add what they want; one that adds "cgroup" itself would get
 * "duplicate namespace type" if it were here already, and scripts that read
 * /proc/self/cgroup inside expect the host's path, not "/". */
static void gen_namespaces(yajl_gen g, bool rootless) {
  static const char *const privileged[] = {"pid", "network", "ipc", "uts", "mount", NULL};
  static const char *const unprivileged[] = {"pid", "ipc", "uts", "mount", "user", NULL};
  j_gen_str(g, "namespaces");
  yajl_gen_array_open(g);
  for (const char *const *t = rootless ? unprivileged : privileged; *t != NULL; t++) {
    yajl_gen_map_open(g);
    j_gen_kstr(g, "type", *t);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g, bool rootless) {
  static const char *const masked[] = {
    "/proc/acpi",        "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",     "/proc/scsi",       NULL};
  static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                         "/proc/sysrq-trigger", NULL};
  j_gen_str(g, "linux");
  yajl_gen_map_open(g);
  if (rootless) {
    /* An unprivileged user cannot program the device cgroup. */
    gen_idmap(g, "uidMappings", geteuid());
    gen_idmap(g, "gidMappings", getegid());
  } else {
    j_gen_str(g, "resources");
    yajl_gen_map_open(g);
    j_gen_str(g, "devices");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    j_gen_kbool(g, "allow", false);
    j_gen_kstr(g, "access", "rwm");
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
  }
  gen_namespaces(g, rootless);
  j_gen_kstrv(g, "maskedPaths", masked);
  j_gen_kstrv(g, "readonlyPaths", readonly);
  yajl_gen_map_close(g);
}

char *oci_spec_default_json(bool rootless) {
  yajl_gen g = j_gen_new("\t");
  yajl_gen_map_open(g);
  /* Deliberately not runc 1.1's "1.0.2-dev": the file states the spec
   * version this runtime implements, the one `--version` and `features`
   * report, as runc's states its own. */
  j_gen_kstr(g, "ociVersion", OCI_SPEC_VERSION);
  gen_process(g);
  j_gen_str(g, "root");
  yajl_gen_map_open(g);
  j_gen_kstr(g, "path", "rootfs");
  j_gen_kbool(g, "readonly", true);
  yajl_gen_map_close(g);
  /* The runtime's name where runc writes "runc": only a default for the
   * user to change, and it tells whose spec made the file. */
  j_gen_kstr(g, "hostname", "ocirun");
  gen_mounts(g, rootless);
  gen_linux(g, rootless);
  yajl_gen_map_close(g);
  return j_gen_finish(g);
}
