/* Unit tests of libcontainer/config.c (config.json parser), spec.c (the
 * default config of `ocirun spec`) and features.c (`ocirun features`).
 *
 * The config files read here are the project's own, written for these
 * tests: tests/unit/data/config/good/ holds configs that must load,
 * tests/unit/data/config/bad/ configs that must be refused for a known
 * reason. They are found through OCI_TOP_SRCDIR, the source tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "ocirun/config.h"
#include "ocirun/container.h"
#include "ocirun/utils.h"

#ifndef OCI_TOP_SRCDIR
#define OCI_TOP_SRCDIR "."
#endif

#define CONFIG_DATA OCI_TOP_SRCDIR "/tests/unit/data/config"

static struct oci_config *parse_ok(const char *json) {
  struct oci_config *cfg = NULL;
  oci_error err = {0};
  int r = oci_config_parse(json, strlen(json), "config.json", &cfg, &err);
  if (r < 0)
    fail_msg("unexpected error: %s\nfor: %s", err.msg, json);
  assert_non_null(cfg);
  return cfg;
}

/* The parse must fail with exactly this message. */
static void parse_fails(const char *json, const char *want) {
  struct oci_config *cfg = (void *)1;
  oci_error err = {0};
  int r = oci_config_parse(json, strlen(json), "config.json", &cfg, &err);
  if (r >= 0)
    fail_msg("parsed, expected error \"%s\" for: %s", want, json);
  assert_null(cfg);
  assert_int_equal(err.errnum, EINVAL);
  assert_string_equal(err.msg, want);
}

/* ---------- config files in tests/unit/data/config ---------- */

/* Load every *.json of good/ or bad/; returns how many there were. */
static int load_dir(const char *sub, int want_ok) {
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/%s", CONFIG_DATA, sub);
  DIR *d = opendir(dir);
  if (d == NULL)
    fail_msg("cannot open %s: %s", dir, strerror(errno));
  int count = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (fnmatch("*.json", de->d_name, 0) != 0)
      continue;
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    struct oci_config *cfg = NULL;
    oci_error err = {0};
    int r = oci_config_load_file(path, &cfg, &err);
    if (want_ok && r < 0)
      fail_msg("%s: %s", path, err.msg);
    if (!want_ok) {
      if (r >= 0)
        fail_msg("%s parsed but is a bad config", path);
      /* The message starts with the file's name. */
      assert_true(strncmp(err.msg, de->d_name, strlen(de->d_name)) == 0);
    }
    oci_config_free(cfg);
    count++;
  }
  closedir(d);
  return count;
}

static void test_good_files(void **state) {
  assert_int_equal(load_dir("good", 1), 5);
}

static void test_bad_files(void **state) {
  assert_int_equal(load_dir("bad", 0), 4);
}

/* Each bad file is refused for the reason it is bad, named by its JSON
 * path. linux-hugepage.json has "1gB" as its second pageSize: the unit must
 * be KB, MB or GB, checked because the cgroup file name is built from it. */
static void test_bad_files_reasons(void **state) {
  static const struct {
    const char *file, *msg;
  } cases[] = {
    {"invalid-json.json", "invalid-json.json: line 3: parse error: "
                          "after key and value, inside map, I expect ',' or '}'"},
    {"linux-hugepage.json", "linux-hugepage.json: linux.resources.hugepageLimits[1].pageSize: "
                            "expected a size like \"2MB\" or \"64KB\", got \"1gB\""},
    {"linux-netdevice.json", "linux-netdevice.json: linux.netDevices.enp4s0.name: expected a string"},
    {"linux-rdma.json", "linux-rdma.json: linux.resources.rdma.mlx5_0.hcaHandles: "
                        "expected an unsigned 32-bit integer, got -4"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char path[8192];
    snprintf(path, sizeof(path), "%s/bad/%s", CONFIG_DATA, cases[i].file);
    struct oci_config *cfg = NULL;
    oci_error err = {0};
    assert_int_equal(oci_config_load_file(path, &cfg, &err), -1);
    assert_string_equal(err.msg, cases[i].msg);
  }
}

static struct oci_config *load_good(const char *file) {
  char path[8192];
  snprintf(path, sizeof(path), "%s/good/%s", CONFIG_DATA, file);
  struct oci_config *cfg = NULL;
  oci_error err = {0};
  if (oci_config_load_file(path, &cfg, &err) < 0)
    fail_msg("%s", err.msg);
  return cfg;
}

static void test_minimal_files(void **state) {
  struct oci_config *cfg = load_good("minimal.json");
  assert_string_equal(cfg->oci_version, "1.2.0");
  assert_string_equal(cfg->root->path, "rootfs");
  assert_false(cfg->root->readonly);
  assert_null(cfg->process);
  assert_null(cfg->linux_);
  assert_int_equal(cfg->n_mounts, 0);
  oci_config_free(cfg);

  cfg = load_good("minimal-process.json");
  assert_string_equal(cfg->root->path, "/var/lib/ocirun-tests/rootfs");
  assert_int_equal(cfg->process->n_args, 1);
  assert_string_equal(cfg->process->args[0], "/bin/true");
  assert_int_equal(cfg->process->user.uid, 0);
  assert_null(cfg->process->capabilities);
  oci_config_free(cfg);
}

/* full.json sets every field the parser reads; the four tests below walk it. */
static void test_full_process(void **state) {
  struct oci_config *cfg = load_good("full.json");
  assert_string_equal(cfg->oci_version, "1.2.0");
  struct oci_process *p = cfg->process;
  assert_non_null(p);
  assert_true(p->terminal);
  assert_int_equal(p->console_height.v, 40);
  assert_int_equal(p->console_width.v, 132);
  assert_int_equal(p->user.uid, 1000);
  assert_int_equal(p->user.gid, 100);
  assert_true(p->user.umask.set);
  assert_int_equal(p->user.umask.v, 022);
  assert_int_equal(p->user.n_additional_gids, 3);
  assert_int_equal(p->user.additional_gids[2], 30);
  assert_int_equal(p->n_args, 3);
  assert_string_equal(p->args[2], "-l");
  assert_null(p->args[3]); /* NULL-terminated for execve */
  assert_int_equal(p->n_env, 3);
  assert_string_equal(p->env[1], "HOME=/home/user");
  assert_null(p->env[3]);
  assert_string_equal(p->cwd, "/home/user");
  assert_non_null(p->capabilities);
  assert_true(p->capabilities->bounding.present);
  assert_int_equal(p->capabilities->bounding.n, 4);
  assert_string_equal(p->capabilities->bounding.names[3], "CAP_NET_RAW");
  assert_int_equal(p->capabilities->effective.n, 2);
  assert_int_equal(p->capabilities->ambient.n, 1);
  assert_false(p->capabilities->inheritable.present);
  assert_int_equal(p->n_rlimits, 3);
  assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
  assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal(p->rlimits[0].soft, 4096);
  assert_int_equal(p->rlimits[0].hard, 8192);
  assert_int_equal(p->rlimits[1].resource, RLIMIT_NPROC);
  assert_int_equal(p->rlimits[2].resource, RLIMIT_MEMLOCK);
  assert_string_equal(p->apparmor_profile, "ocirun-unit-test");
  assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0:c17,c42");
  assert_true(p->no_new_privileges);
  assert_true(p->oom_score_adj.set);
  assert_int_equal(p->oom_score_adj.v, 250);
  assert_string_equal(p->io_priority->class_, "IOPRIO_CLASS_BE");
  assert_int_equal(p->io_priority->priority, 4);
  assert_string_equal(p->scheduler->policy, "SCHED_BATCH");
  assert_int_equal(p->scheduler->nice.v, 5);
  assert_false(p->scheduler->priority.set);
  oci_config_free(cfg);
}

static void test_full_top(void **state) {
  struct oci_config *cfg = load_good("full.json");
  assert_string_equal(cfg->root->path, "rootfs");
  assert_true(cfg->root->readonly);
  assert_string_equal(cfg->hostname, "kestrel");
  assert_string_equal(cfg->domainname, "lab.example");
  assert_int_equal(cfg->n_mounts, 6);
  assert_string_equal(cfg->mounts[0].destination, "/proc");
  assert_string_equal(cfg->mounts[0].type, "proc");
  assert_int_equal(cfg->mounts[0].n_options, 0);
  assert_int_equal(cfg->mounts[2].n_options, 6);
  assert_string_equal(cfg->mounts[2].options[5], "gid=5");
  assert_string_equal(cfg->mounts[4].source, "/srv/data");
  assert_int_equal(cfg->mounts[4].n_uid_mappings, 1);
  assert_int_equal(cfg->mounts[4].uid_mappings[0].host_id, 100000);
  assert_int_equal(cfg->mounts[4].gid_mappings[0].size, 65536);
  assert_int_equal(cfg->mounts[5].n_uid_mappings, 0);
  assert_int_equal(cfg->hooks.prestart.n, 1);
  assert_int_equal(cfg->hooks.prestart.items[0].n_args, 3);
  assert_string_equal(cfg->hooks.prestart.items[0].env[0], "NETSETUP_DEBUG=1");
  assert_int_equal(cfg->hooks.create_runtime.n, 2);
  assert_string_equal(cfg->hooks.create_runtime.items[1].args[3], "created");
  assert_string_equal(cfg->hooks.create_container.items[0].path, "/usr/libexec/seed-files");
  assert_int_equal(cfg->hooks.create_container.items[0].n_args, 0);
  assert_int_equal(cfg->hooks.start_container.n, 1);
  assert_true(cfg->hooks.poststart.items[0].timeout.set);
  assert_int_equal(cfg->hooks.poststart.items[0].timeout.v, 10);
  assert_false(cfg->hooks.prestart.items[0].timeout.set);
  assert_string_equal(cfg->hooks.poststop.items[0].args[1], "--detach");
  assert_int_equal(cfg->hooks.poststop.items[0].timeout.v, 30);
  assert_int_equal(cfg->n_annotations, 2);
  assert_string_equal(oci_config_annotation(cfg, "org.example.tier"), "unit");
  assert_null(oci_config_annotation(cfg, "org.example.none"));
  oci_config_free(cfg);
}

static void test_full_linux(void **state) {
  struct oci_config *cfg = load_good("full.json");
  struct oci_linux *l = cfg->linux_;
  assert_non_null(l);
  assert_int_equal(l->n_devices, 2);
  assert_int_equal(l->devices[0].type, 'c');
  assert_int_equal(l->devices[0].major, 10);
  assert_int_equal(l->devices[0].minor, 229);
  assert_int_equal(l->devices[0].file_mode.v, 0666);
  assert_true(l->devices[0].uid.set);
  assert_int_equal(l->devices[1].type, 'b');
  assert_int_equal(l->devices[1].file_mode.v, 0660);
  assert_false(l->devices[1].uid.set);
  assert_int_equal(l->devices[1].gid.v, 6);
  assert_int_equal(l->uid_mappings[0].host_id, 100000);
  assert_int_equal(l->gid_mappings[0].host_id, 200000);
  assert_int_equal(l->gid_mappings[0].size, 65536);
  assert_int_equal(l->n_sysctl, 2);
  assert_string_equal(l->sysctl[0].key, "net.core.somaxconn");
  assert_string_equal(l->sysctl[0].value, "1024");
  assert_string_equal(l->cgroups_path, "/ocirun-tests/full");
  assert_string_equal(l->rootfs_propagation, "rslave");
  assert_int_equal(l->n_namespaces, 8);
  assert_int_equal(l->namespaces[0].type, OCI_NS_MOUNT);
  assert_int_equal(l->namespaces[7].type, OCI_NS_TIME);
  assert_null(l->namespaces[0].path);
  assert_string_equal(oci_config_namespace(cfg, OCI_NS_NETWORK)->path, "/run/netns/unit");
  assert_non_null(oci_config_namespace(cfg, OCI_NS_USER));
  assert_true(l->time_monotonic.set);
  assert_int_equal(l->time_monotonic.secs, 3600);
  assert_int_equal(l->time_monotonic.nanosecs, 500);
  assert_true(l->time_boottime.set);
  assert_int_equal(l->time_boottime.secs, -60);
  assert_int_equal(l->time_boottime.nanosecs, 0);
  assert_int_equal(l->n_masked_paths, 5);
  assert_string_equal(l->masked_paths[3], "/sys/firmware");
  assert_int_equal(l->n_readonly_paths, 5);
  assert_string_equal(l->readonly_paths[4], "/proc/sysrq-trigger");
  assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0:c17,c42");
  assert_string_equal(l->personality->domain, "LINUX");
  assert_int_equal(l->personality->n_flags, 0);
  struct oci_seccomp *s = l->seccomp;
  assert_string_equal(s->default_action, "SCMP_ACT_ERRNO");
  assert_int_equal(s->default_errno_ret.v, 1);
  assert_int_equal(s->n_architectures, 3);
  assert_string_equal(s->architectures[2], "SCMP_ARCH_AARCH64");
  assert_int_equal(s->n_syscalls, 3);
  assert_int_equal(s->syscalls[0].n_names, 3);
  assert_string_equal(s->syscalls[0].names[2], "exit_group");
  assert_string_equal(s->syscalls[0].action, "SCMP_ACT_ALLOW");
  assert_false(s->syscalls[0].errno_ret.set);
  assert_int_equal(s->syscalls[1].n_args, 1);
  assert_string_equal(s->syscalls[1].args[0].op, "SCMP_CMP_EQ");
  assert_false(s->syscalls[1].args[0].value_two.set);
  assert_int_equal(s->syscalls[2].errno_ret.v, 13);
  assert_null(s->listener_path);
  oci_config_free(cfg);
}

static void test_full_resources(void **state) {
  struct oci_config *cfg = load_good("full.json");
  struct oci_resources *r = cfg->linux_->resources;
  assert_non_null(r);
  assert_int_equal(r->network->class_id.v, 65537);
  assert_int_equal(r->network->n_priorities, 2);
  assert_string_equal(r->network->priorities[1].name, "eth0");
  assert_int_equal(r->network->priorities[1].priority, 5);
  assert_true(r->pids_limit.set);
  assert_int_equal(r->pids_limit.v, 256);
  assert_int_equal(r->n_hugepage_limits, 2);
  assert_string_equal(r->hugepage_limits[1].page_size, "1GB");
  assert_int_equal(r->hugepage_limits[0].limit, 67108864);
  assert_int_equal(r->hugepage_limits[1].limit, 0);
  assert_int_equal(r->memory->limit.v, 268435456);
  assert_int_equal(r->memory->reservation.v, 134217728);
  assert_int_equal(r->memory->swap.v, 536870912);
  assert_false(r->memory->kernel.set);
  assert_true(r->memory->swappiness.set);
  assert_int_equal(r->memory->swappiness.v, 10);
  assert_true(r->memory->disable_oom_killer.set);
  assert_true(r->memory->disable_oom_killer.v);
  assert_false(r->memory->use_hierarchy.set);
  assert_int_equal(r->cpu->shares.v, 512);
  assert_int_equal(r->cpu->quota.v, 50000);
  assert_int_equal(r->cpu->period.v, 100000);
  assert_int_equal(r->cpu->burst.v, 10000);
  assert_false(r->cpu->realtime_runtime.set);
  assert_string_equal(r->cpu->cpus, "0-1");
  assert_string_equal(r->cpu->mems, "0");
  assert_true(r->cpu->idle.set);
  assert_int_equal(r->cpu->idle.v, 0);
  assert_int_equal(r->n_devices, 3);
  assert_false(r->devices[0].allow);
  assert_int_equal(r->devices[0].type, 'a');
  assert_false(r->devices[0].major.set);
  assert_string_equal(r->devices[0].access, "rwm");
  assert_int_equal(r->devices[1].type, 'c');
  assert_int_equal(r->devices[1].minor.v, 229);
  assert_int_equal(r->devices[2].type, 'b');
  assert_false(r->devices[2].minor.set);
  assert_string_equal(r->devices[2].access, "r");
  assert_int_equal(r->block_io->weight.v, 500);
  assert_false(r->block_io->leaf_weight.set);
  assert_int_equal(r->block_io->n_weight_device, 2);
  assert_int_equal(r->block_io->weight_device[0].weight.v, 600);
  assert_false(r->block_io->weight_device[0].leaf_weight.set);
  assert_int_equal(r->block_io->weight_device[1].leaf_weight.v, 100);
  assert_int_equal(r->block_io->throttle_read_bps[0].rate, 1048576);
  assert_int_equal(r->block_io->n_throttle_write_iops, 2);
  assert_int_equal(r->block_io->throttle_write_iops[0].minor, 16);
  assert_int_equal(r->block_io->throttle_write_iops[1].rate, 150);
  assert_int_equal(r->block_io->n_throttle_write_bps, 0);
  assert_int_equal(r->block_io->n_throttle_read_iops, 0);
  assert_int_equal(r->n_unified, 1);
  assert_string_equal(r->unified[0].key, "memory.high");
  assert_string_equal(r->unified[0].value, "200000000");
  assert_int_equal(r->n_rdma, 0);
  oci_config_free(cfg);
}

/* rdma is a map; the entries keep the file's order. */
static void test_rdma_good(void **state) {
  struct oci_config *cfg = load_good("linux-rdma.json");
  struct oci_resources *r = cfg->linux_->resources;
  assert_int_equal(r->n_rdma, 3);
  assert_string_equal(r->rdma[0].device, "mlx5_0");
  assert_int_equal(r->rdma[0].hca_handles.v, 4);
  assert_int_equal(r->rdma[0].hca_objects.v, 512);
  assert_string_equal(r->rdma[1].device, "irdma1");
  assert_int_equal(r->rdma[1].hca_objects.v, 2048);
  assert_false(r->rdma[1].hca_handles.set);
  assert_string_equal(r->rdma[2].device, "siw0");
  assert_false(r->rdma[2].hca_objects.set);
  oci_config_free(cfg);
}

/* netDevices: the host name (the key) and the name inside, when given. */
static void test_netdevice_good(void **state) {
  struct oci_config *cfg = load_good("linux-netdevice.json");
  assert_non_null(cfg->linux_);
  assert_null(cfg->linux_->resources);
  assert_int_equal(cfg->linux_->n_net_devices, 2);
  assert_string_equal(cfg->linux_->net_devices[0].host_name, "enp3s0");
  assert_string_equal(cfg->linux_->net_devices[0].name, "eth0");
  assert_string_equal(cfg->linux_->net_devices[1].host_name, "veth-test");
  assert_null(cfg->linux_->net_devices[1].name);
  oci_config_free(cfg);
}

/* ---------- our own cases ---------- */

#define MIN "\"ociVersion\": \"1.2.0\""
/* A valid process plus x; a repeated key in x ("user") overrides the
 * earlier one, the last one winning as in Go runtimes. */
#define PROC(x) "{" MIN ", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, " x "}}"
#define LINUX(x) "{" MIN ", \"linux\": {" x "}}"
#define RES(x) LINUX("\"resources\": {" x "}")

/* As runc: the letters of a device rule's access other than r, w and m are
 * ignored (update.bats in runc uses "rwa"), and a linux.devices path with a
 * trailing slash names the node without it (crun's tests use "/mnt/"). */
static void test_devices_as_runc_reads_them(void **state) {
  struct oci_config *cfg = parse_ok(LINUX(
      "\"resources\": {\"devices\": [{\"allow\": false, \"type\": \"c\", \"major\": 1, "
      "\"minor\": 11, \"access\": \"rwa\"}]}, "
      "\"devices\": [{\"path\": \"/mnt//\", \"type\": \"b\", \"major\": 10, \"minor\": 229}]"));
  assert_string_equal(cfg->linux_->resources->devices[0].access, "rw");
  assert_string_equal(cfg->linux_->devices[0].path, "/mnt");
  oci_config_free(cfg);
}

/* An empty namespace path is a new namespace, as with runc (its run.bats
 * joins every namespace of another container but the mount one so). */
static void test_namespace_empty_path_is_new(void **state) {
  struct oci_config *cfg =
      parse_ok(LINUX("\"namespaces\": [{\"type\": \"mount\", \"path\": \"\"}]"));
  assert_int_equal(cfg->linux_->n_namespaces, 1);
  assert_null(cfg->linux_->namespaces[0].path);
  oci_config_free(cfg);
}

static void test_wrong_types(void **state) {
  static const struct {
    const char *json, *msg;
  } cases[] = {
    {"[]", "config.json: expected an object"},
    {"{}", "config.json: ociVersion: required field is missing"},
    {"{\"ociVersion\": 1}", "config.json: ociVersion: expected a string"},
    {PROC("\"args\": \"sh\""), "config.json: process.args: expected an array of strings"},
    {PROC("\"args\": [\"sh\", 3]"), "config.json: process.args[1]: expected a string"},
    {PROC("\"terminal\": \"yes\""), "config.json: process.terminal: expected a boolean"},
    {PROC("\"env\": {}"), "config.json: process.env: expected an array of strings"},
    {"{" MIN ", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": -1, \"gid\": 0}}}",
     "config.json: process.user.uid: expected an unsigned 32-bit integer, got -1"},
    {"{" MIN ", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 4294967296, \"gid\": 0}}}",
     "config.json: process.user.uid: expected an unsigned 32-bit integer, got 4294967296"},
    {"{" MIN ", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 1.5, \"gid\": 0}}}",
     "config.json: process.user.uid: expected an unsigned 32-bit integer, got 1.5"},
    {"{" MIN ", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 0}}}",
     "config.json: process.user.gid: required field is missing"},
    {"{" MIN ", \"process\": {\"cwd\": \"/\"}}", "config.json: process.user: required field is missing"},
    {"{" MIN ", \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}}}",
     "config.json: process.cwd: required field is missing"},
    {"{" MIN ", \"process\": []}", "config.json: process: expected an object"},
    {PROC("\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [1, \"2\"]}"),
     "config.json: process.user.additionalGids[1]: expected an unsigned 32-bit integer"},
    {PROC("\"consoleSize\": {\"height\": 10}"),
     "config.json: process.consoleSize.width: required field is missing"},
    {PROC("\"capabilities\": {\"bounding\": [\"CAP_KILL\", null]}"),
     "config.json: process.capabilities.bounding[1]: expected a string"},
    {PROC("\"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]"),
     "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]"),
     "config.json: process.rlimits[0].hard: required field is missing"},
    {PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1, \"hard\": 1}]"),
     "config.json: process.rlimits[0].soft: expected an unsigned 64-bit integer, got -1"},
    {PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 18446744073709551616, \"hard\": 1}]"),
     "config.json: process.rlimits[0].soft: expected an unsigned 64-bit integer, got 18446744073709551616"},
    {PROC("\"oomScoreAdj\": 2147483648"),
     "config.json: process.oomScoreAdj: expected a signed 32-bit integer, got 2147483648"},
    {PROC("\"ioPriority\": {\"class\": \"IOPRIO_CLASS_FAST\"}"),
     "config.json: process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_FAST\""},
    {PROC("\"scheduler\": {\"nice\": 1}"), "config.json: process.scheduler.policy: required field is missing"},
    {PROC("\"ioPriority\": {\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 8}"),
     "config.json: process.ioPriority.priority: must be 0 (highest) to 7 (lowest), got 8"},
    {PROC("\"scheduler\": {\"policy\": \"SCHED_FIFO\", \"flags\": [\"SCHED_FLAG_RECLAIM\", \"SCHED_FLAG_FAST\"]}"),
     "config.json: process.scheduler.flags[1]: unknown scheduler flag \"SCHED_FLAG_FAST\""},
    {PROC("\"execCPUAffinity\": {\"initial\": \"0-\"}"),
     "config.json: process.execCPUAffinity.initial: invalid CPU list \"0-\" (expected a form like \"0-3,7\")"},
    {PROC("\"execCPUAffinity\": {\"final\": \"3-1\"}"),
     "config.json: process.execCPUAffinity.final: invalid CPU list \"3-1\" (expected a form like \"0-3,7\")"},
    {PROC("\"execCPUAffinity\": {\"final\": 1}"),
     "config.json: process.execCPUAffinity.final: expected a string"},
    {"{" MIN ", \"mounts\": {}}", "config.json: mounts: expected an array"},
    {"{" MIN ", \"mounts\": [\"/proc\"]}", "config.json: mounts[0]: expected an object"},
    {"{" MIN ", \"mounts\": [{\"source\": \"x\"}]}", "config.json: mounts[0].destination: required field is missing"},
    {"{" MIN ", \"mounts\": [{\"destination\": \"/x\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 0}]}]}",
     "config.json: mounts[0].uidMappings[0].size: required field is missing"},
    {"{" MIN ", \"root\": {\"readonly\": true}}", "config.json: root.path: required field is missing"},
    {"{" MIN ", \"hooks\": {\"poststop\": [{\"args\": []}]}}",
     "config.json: hooks.poststop[0].path: required field is missing"},
    {"{" MIN ", \"hooks\": {\"prestart\": [{\"path\": \"/x\", \"timeout\": 0}]}}",
     "config.json: hooks.prestart[0].timeout: must be at least 1 second, got 0"},
    {"{" MIN ", \"annotations\": {\"a\": 1}}", "config.json: annotations.a: expected a string"},
    {LINUX("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"uts\"}, {\"type\": \"foo\"}]"),
     "config.json: linux.namespaces[2].type: unknown namespace type \"foo\""},
    {LINUX("\"namespaces\": [{\"path\": \"/proc/1/ns/pid\"}]"),
     "config.json: linux.namespaces[0].type: required field is missing"},
    {LINUX("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]"),
     "config.json: linux.namespaces[1].type: duplicate namespace type \"pid\""},
    {LINUX("\"uidMappings\": [{\"containerID\": 0, \"hostID\": \"1000\", \"size\": 1}]"),
     "config.json: linux.uidMappings[0].hostID: expected an unsigned 32-bit integer"},
    {LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\"}]"),
     "config.json: linux.devices[0].type: unknown device type \"x\""},
    {LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": 1}]"),
     "config.json: linux.devices[0].minor: required field is missing"},
    {LINUX("\"devices\": [{\"type\": \"p\"}]"), "config.json: linux.devices[0].path: required field is missing"},
    {LINUX("\"rootfsPropagation\": \"everywhere\""),
     "config.json: linux.rootfsPropagation: unknown rootfs propagation \"everywhere\""},
    {LINUX("\"seccomp\": {\"syscalls\": []}"),
     "config.json: linux.seccomp.defaultAction: required field is missing"},
    {LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_KILL\"}]}"),
     "config.json: linux.seccomp.syscalls[0].names: expected at least one syscall name"},
    {LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_KILL\", \"args\": [{\"index\": 0, \"value\": 1}]}]}"),
     "config.json: linux.seccomp.syscalls[0].args[0].op: required field is missing"},
    {LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}"),
     "config.json: linux.seccomp.defaultErrnoRet: expected an unsigned 32-bit integer, got -1"},
    {LINUX("\"sysctl\": {\"net.ipv4.ip_forward\": 1}"),
     "config.json: linux.sysctl.net.ipv4.ip_forward: expected a string"},
    {LINUX("\"timeOffsets\": {\"realtime\": {\"secs\": 1}}"),
     "config.json: linux.timeOffsets.realtime: unknown clock \"realtime\" (expected \"monotonic\" or \"boottime\")"},
    {LINUX("\"personality\": {\"domain\": \"LINUX64\"}"),
     "config.json: linux.personality.domain: unknown personality domain \"LINUX64\""},
    {LINUX("\"memoryPolicy\": {\"nodes\": \"0\"}"),
     "config.json: linux.memoryPolicy.mode: required field is missing"},
    {LINUX("\"memoryPolicy\": {\"mode\": \"MPOL_SPREAD\"}"),
     "config.json: linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_SPREAD\""},
    {LINUX("\"memoryPolicy\": {\"mode\": \"MPOL_BIND\", \"flags\": [\"MPOL_F_STATIC\"]}"),
     "config.json: linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_STATIC\""},
    {LINUX("\"memoryPolicy\": {\"mode\": \"MPOL_BIND\", \"nodes\": \"0,,1\"}"),
     "config.json: linux.memoryPolicy.nodes: invalid node list \"0,,1\" (expected a form like \"0-3,7\")"},
    {LINUX("\"memoryPolicy\": {\"mode\": \"MPOL_BIND\", \"nodes\": \"1024\"}"),
     "config.json: linux.memoryPolicy.nodes: invalid node list \"1024\" (expected a form like \"0-3,7\")"},
    {LINUX("\"netDevices\": {\"eth0\": {\"name\": \"a/b\"}}"),
     "config.json: linux.netDevices.eth0.name: \"a/b\" is not a network interface name"},
    {LINUX("\"netDevices\": {\"averyveryverylongname\": {}}"),
     "config.json: linux.netDevices.averyveryverylongname: \"averyveryverylongname\" is not a network interface name"},
    {LINUX("\"maskedPaths\": \"/proc/kcore\""), "config.json: linux.maskedPaths: expected an array of strings"},
    {RES("\"memory\": {\"limit\": \"1G\"}"),
     "config.json: linux.resources.memory.limit: expected a signed 64-bit integer"},
    {RES("\"memory\": {\"limit\": 9223372036854775808}"),
     "config.json: linux.resources.memory.limit: expected a signed 64-bit integer, got 9223372036854775808"},
    {RES("\"memory\": {\"swappiness\": -1}"),
     "config.json: linux.resources.memory.swappiness: expected an unsigned 64-bit integer, got -1"},
    {RES("\"memory\": {\"disableOOMKiller\": 0}"),
     "config.json: linux.resources.memory.disableOOMKiller: expected a boolean"},
    {RES("\"cpu\": {\"shares\": -2}"),
     "config.json: linux.resources.cpu.shares: expected an unsigned 64-bit integer, got -2"},
    {RES("\"cpu\": {\"cpus\": 3}"), "config.json: linux.resources.cpu.cpus: expected a string"},
    {RES("\"blockIO\": {\"weight\": 65536}"),
     "config.json: linux.resources.blockIO.weight: expected an unsigned 16-bit integer, got 65536"},
    {RES("\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0}]}"),
     "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field is missing"},
    {RES("\"devices\": [{\"access\": \"rwm\"}]"),
     "config.json: linux.resources.devices[0].allow: required field is missing"},
    {RES("\"devices\": [{\"allow\": true, \"type\": \"p\"}]"),
     "config.json: linux.resources.devices[0].type: unknown device type \"p\""},
    {RES("\"devices\": [{\"allow\": true, \"access\": \"xa\"}]"),
     "config.json: linux.resources.devices[0].access: expected a combination of \"r\", \"w\" and \"m\", got \"xa\""},
    {RES("\"hugepageLimits\": [{\"pageSize\": \"2MB\"}]"),
     "config.json: linux.resources.hugepageLimits[0].limit: required field is missing"},
    {RES("\"network\": {\"priorities\": [{\"name\": \"eth0\"}]}"),
     "config.json: linux.resources.network.priorities[0].priority: required field is missing"},
    {RES("\"pids\": {\"limit\": true}"), "config.json: linux.resources.pids.limit: expected a signed 64-bit integer"},
    {RES("\"unified\": {\"memory.max\": 5}"), "config.json: linux.resources.unified.memory.max: expected a string"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    parse_fails(cases[i].json, cases[i].msg);
}

/* Values of the right type that the spec (or runc) still refuses, each
 * named by its path. A NUL inside a string would be silently cut off where
 * ocirun hands it to the kernel as a C string. */
static void test_invalid_values(void **state) {
  static const struct {
    const char *json, *msg;
  } cases[] = {
    {"{\"ociVersion\": \"\"}", "config.json: ociVersion: must not be empty"},
    {"{" MIN ", \"mounts\": [{\"destination\": \"/proc\"}, {\"destination\": \"\"}]}",
     "config.json: mounts[1].destination: must not be empty"},
    {"{" MIN ", \"hostname\": \"web\\u0000x\"}", "config.json: hostname: must not contain a NUL byte"},
    {PROC("\"cwd\": \"/srv\\u0000\""), "config.json: process.cwd: must not contain a NUL byte"},
    {PROC("\"env\": [\"A=1\", \"B=2\\u0000C=3\"]"),
     "config.json: process.env[1]: must not contain a NUL byte"},
    {"{" MIN ", \"mounts\": [{\"destination\": \"/mnt\\u0000/x\"}]}",
     "config.json: mounts[0].destination: must not contain a NUL byte"},
    {LINUX("\"sysctl\": {\"net\\u0000x\": \"1\"}"),
     "config.json: linux.sysctl: key \"net\\u0000...\": must not contain a NUL byte"},
    {LINUX("\"devices\": [{\"path\": \"dev/null\", \"type\": \"c\", \"major\": 1, \"minor\": 3}]"),
     "config.json: linux.devices[0].path: must be an absolute path, got \"dev/null\""},
    {PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}, "
          "{\"type\": \"RLIMIT_CORE\", \"soft\": 1, \"hard\": 1}, "
          "{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 2}]"),
     "config.json: process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {LINUX("\"intelRdt\": {\"closID\": \"../../tasks\"}"),
     "config.json: linux.intelRdt.closID: must be a plain name, not a path: \"../../tasks\""},
    {LINUX("\"intelRdt\": {\"closID\": \"..\"}"),
     "config.json: linux.intelRdt.closID: must be a plain name, not a path: \"..\""},
    {LINUX("\"intelRdt\": {\"closID\": 7}"), "config.json: linux.intelRdt.closID: expected a string"},
    {"// a comment\n{" MIN "}",
     "config.json: line 1: lexical error: probable comment found in input text, comments are not enabled."},
    {"{" MIN ", /* here */ \"hostname\": \"x\"}",
     "config.json: line 1: lexical error: probable comment found in input text, comments are not enabled."},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    parse_fails(cases[i].json, cases[i].msg);

  /* exec --process documents: the spec's rule on rlimits holds there too. */
  const char *json = "{\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, \"rlimits\": ["
                     "{\"type\": \"RLIMIT_NPROC\", \"soft\": 1, \"hard\": 1}, "
                     "{\"type\": \"RLIMIT_NPROC\", \"soft\": 2, \"hard\": 2}]}";
  struct oci_process *p = NULL;
  oci_error err = {0};
  assert_int_equal(oci_process_parse(json, strlen(json), "process.json", &p, &err), -1);
  assert_null(p);
  assert_string_equal(err.msg, "process.json: rlimits[1].type: duplicate rlimit \"RLIMIT_NPROC\"");

  /* The same kinds of values, valid, still load: a plain closID, NUL-free
   * escapes, a bind mount's destination. */
  struct oci_config *cfg = parse_ok(LINUX("\"intelRdt\": {\"closID\": \"guaranteed_group\"}, "
                                          "\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", "
                                          "\"major\": 10, \"minor\": 229}]"));
  oci_config_free(cfg);
  cfg = parse_ok("{" MIN ", \"hostname\": \"a\\u0041\\\\u0000\"}");
  assert_string_equal(cfg->hostname, "aA\\u0000");
  oci_config_free(cfg);
}

/* Parse json (it must parse) and run the create-time checks. */
static int validate(const char *json, oci_error *err) {
  struct oci_config *cfg = parse_ok(json);
  int r = oci_config_validate(cfg, err);
  oci_config_free(cfg);
  return r;
}

static void validate_ok(const char *json) {
  oci_error err = {0};
  if (validate(json, &err) < 0)
    fail_msg("unexpected error: %s\nfor: %s", err.msg, json);
}

static void validate_fails(const char *json, const char *want) {
  oci_error err = {0};
  if (validate(json, &err) == 0)
    fail_msg("validated, expected error \"%s\" for: %s", want, json);
  /* A field ocirun cannot apply anywhere is ENOTSUP, a wrong one EINVAL. */
  if (err.errnum != EINVAL && err.errnum != ENOTSUP)
    fail_msg("errnum %d for \"%s\"", err.errnum, err.msg);
  assert_string_equal(err.msg, want);
}

#define NS(...) "\"namespaces\": [" __VA_ARGS__ "]"
#define SYSCTL(k) "\"sysctl\": {\"" k "\": \"1\"}"

/* What the namespaces allow: id maps need a user namespace, time offsets a
 * time namespace, and a sysctl a namespace of the container's own, so no
 * config can change a host-global knob (runc refuses the same). */
static void test_config_validate(void **state) {
  static const struct {
    const char *json, *msg;
  } bad[] = {
    {LINUX(NS("{\"type\": \"mount\"}") ", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]"),
     "config.json: linux.uidMappings: needs a user namespace in linux.namespaces"},
    {LINUX("\"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]"),
     "config.json: linux.gidMappings: needs a user namespace in linux.namespaces"},
    {LINUX(NS("{\"type\": \"mount\"}") ", \"timeOffsets\": {\"boottime\": {\"secs\": 5}}"),
     "config.json: linux.timeOffsets: needs a time namespace in linux.namespaces"},
    {LINUX(NS("{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}") ", " SYSCTL("vm.overcommit_ratio")),
     "config.json: linux.sysctl: \"vm.overcommit_ratio\" is not in a separate kernel namespace; "
     "setting it would change the host"},
    {LINUX(NS("{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}") ", " SYSCTL("kernel.core_pattern")),
     "config.json: linux.sysctl: \"kernel.core_pattern\" is not in a separate kernel namespace; "
     "setting it would change the host"},
    {LINUX(NS("{\"type\": \"ipc\"}") ", " SYSCTL("net.ipv4.ip_forward")),
     "config.json: linux.sysctl: \"net.ipv4.ip_forward\" needs the container's own network "
     "namespace in linux.namespaces"},
    {LINUX(NS("{\"type\": \"network\", \"path\": \"/proc/self/ns/net\"}") ", " SYSCTL("net.core.somaxconn")),
     "config.json: linux.sysctl: \"net.core.somaxconn\" needs the container's own network "
     "namespace in linux.namespaces"},
    {LINUX(NS("{\"type\": \"network\"}") ", " SYSCTL("kernel.shmmax")),
     "config.json: linux.sysctl: \"kernel.shmmax\" needs the container's own ipc namespace in "
     "linux.namespaces"},
    {LINUX(NS("{\"type\": \"network\"}") ", " SYSCTL("kernel.domainname")),
     "config.json: linux.sysctl: \"kernel.domainname\" needs the container's own uts namespace "
     "in linux.namespaces"},
    {LINUX(NS("{\"type\": \"network\"}") ", " SYSCTL("net/../vm/overcommit_ratio")),
     "config.json: linux.sysctl: \"net/../vm/overcommit_ratio\" is not a sysctl name"},
    {LINUX(NS("{\"type\": \"network\"}") ", " SYSCTL("net.")),
     "config.json: linux.sysctl: \"net.\" is not a sysctl name"},
    /* What ocirun cannot apply is refused by name, never ignored. */
    {LINUX("\"mountLabel\": \"system_u:object_r:container_file_t:s0\""),
     "config.json: linux.mountLabel: SELinux is not enabled on this host"},
    {LINUX("\"intelRdt\": {\"closID\": \"c1\", \"l3CacheSchema\": \"L3:0=f\"}"),
     "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by ocirun"},
    {LINUX("\"intelRdt\": {}"),
     "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by ocirun"},
    {LINUX("\"personality\": {\"domain\": \"LINUX\", \"flags\": [\"ADDR_NO_RANDOMIZE\"]}"),
     "config.json: linux.personality.flags[0]: unsupported flag \"ADDR_NO_RANDOMIZE\" (no "
     "personality flag is supported)"},
    {LINUX(NS("{\"type\": \"mount\"}") ", \"netDevices\": {\"eth0\": {}}"),
     "config.json: linux.netDevices: needs the container's own network namespace in "
     "linux.namespaces"},
    {"{" MIN ", \"mounts\": [{\"destination\": \"/x\", \"gidMappings\": "
     "[{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]}]}",
     "config.json: mounts[0].gidMappings: needs uidMappings as well"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    validate_fails(bad[i].json, bad[i].msg);

  validate_ok("{" MIN "}");
  validate_ok(LINUX(NS("{\"type\": \"user\"}, {\"type\": \"time\"}")
                    ", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]"
                    ", \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]"
                    ", \"timeOffsets\": {\"monotonic\": {\"secs\": 5}}"));
  validate_ok(LINUX(NS("{\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}")
                    ", \"sysctl\": {\"net.ipv4.ip_forward\": \"1\", \"net/core/somaxconn\": \"256\", "
                    "\"kernel.msgmax\": \"8192\", \"kernel.sem\": \"250 32000 32 128\", "
                    "\"kernel.shm_rmid_forced\": \"1\", \"fs.mqueue.msg_max\": \"10\", "
                    "\"kernel.domainname\": \"example.org\", \"kernel.hostname\": \"web\"}"));
  /* A namespace joined by a path that is not ours is the container's own;
   * one that does not exist is for create to report when it opens it. */
  validate_ok(LINUX(NS("{\"type\": \"network\", \"path\": \"/run/netns/ocirun-unit-missing\"}")
                    ", " SYSCTL("net.ipv4.ip_forward")));
  struct oci_config *cfg = load_good("full.json");
  oci_error err = {0};
  /* Refused (no SELinux), checked above. */
  free(cfg->linux_->mount_label);
  cfg->linux_->mount_label = NULL;
  if (oci_config_validate(cfg, &err) < 0)
    fail_msg("full.json: %s", err.msg);
  oci_config_free(cfg);
}

/* The settings sched.c and netdev.c apply, kept as written. */
static void test_applied_settings(void **state) {
  struct oci_config *cfg = parse_ok(
      "{" MIN ", \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, "
      "\"execCPUAffinity\": {\"initial\": \"0\", \"final\": \"0-3,7\"}, "
      "\"scheduler\": {\"policy\": \"SCHED_FIFO\", \"priority\": 3, "
      "\"flags\": [\"SCHED_FLAG_RESET_ON_FORK\"]}}, "
      "\"linux\": {\"memoryPolicy\": {\"mode\": \"MPOL_BIND\", \"nodes\": \"0-1\", "
      "\"flags\": [\"MPOL_F_STATIC_NODES\"]}, \"namespaces\": [{\"type\": \"network\"}], "
      "\"netDevices\": {\"veth1\": {\"name\": \"eth%d\"}}}}");
  assert_string_equal(cfg->process->exec_cpu_affinity->initial, "0");
  assert_string_equal(cfg->process->exec_cpu_affinity->final, "0-3,7");
  assert_int_equal(cfg->process->scheduler->n_flags, 1);
  const struct oci_memory_policy *mp = cfg->linux_->memory_policy;
  assert_string_equal(mp->mode, "MPOL_BIND");
  assert_string_equal(mp->nodes, "0-1");
  assert_int_equal(mp->n_flags, 1);
  assert_string_equal(mp->flags[0], "MPOL_F_STATIC_NODES");
  assert_string_equal(cfg->linux_->net_devices[0].name, "eth%d");
  assert_false(cfg->linux_->intel_rdt);
  oci_error err = {0};
  if (oci_config_validate(cfg, &err) < 0)
    fail_msg("%s", err.msg);
  oci_config_free(cfg);
}

static void test_malformed_json_line(void **state) {
  parse_fails("{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": {\n    \"cwd\": \"/\",,\n  }\n}\n",
              "config.json: line 4: parse error: invalid object key (must be a string)");
  parse_fails("{\n\"ociVersion\": \"1.2.0\"\n", "config.json: line 3: parse error: premature EOF");
  parse_fails("{\"ociVersion\": \"1.2.0\"} {}",
              "config.json: line 1: parse error: trailing garbage");
  parse_fails("", "config.json: line 1: parse error: premature EOF");
}

static void test_unknown_fields_ignored(void **state) {
  struct oci_config *cfg = parse_ok("{" MIN ", \"future\": {\"x\": [1, 2]}, "
                                    "\"process\": {\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0, \"sid\": \"x\"}, "
                                    "\"execCPUAffinity\": {\"initial\": \"0\"}}, "
                                    "\"linux\": {\"intelRdt\": {\"closID\": \"a\"}, \"memoryPolicy\": {\"mode\": \"MPOL_LOCAL\", \"x\": 1}}, "
                                    "\"vm\": {\"hypervisor\": {}}}");
  assert_non_null(cfg->process);
  assert_non_null(cfg->linux_);
  oci_config_free(cfg);

  cfg = parse_ok("{\"ociVersion\": \"1.0.0\", \"ociVersion\": \"1.2.0\"}");
  assert_string_equal(cfg->oci_version, "1.2.0");
  oci_config_free(cfg);
}

/* Absent optional values are unset, not zero; zero is kept as set. */
static void test_absent_vs_zero(void **state) {
  struct oci_config *cfg = parse_ok(PROC("\"user\": {\"uid\": 0, \"gid\": 0, \"umask\": 0}") );
  assert_true(cfg->process->user.umask.set);
  assert_int_equal(cfg->process->user.umask.v, 0);
  assert_false(cfg->process->oom_score_adj.set);
  assert_false(cfg->process->console_height.set);
  assert_null(cfg->process->capabilities);
  assert_null(cfg->process->args);
  assert_null(cfg->root);
  assert_null(cfg->linux_);
  assert_null(cfg->hostname);
  oci_config_free(cfg);

  cfg = parse_ok(RES("\"pids\": {\"limit\": 0}, \"memory\": {\"swap\": 0}"));
  struct oci_resources *r = cfg->linux_->resources;
  assert_true(r->pids_limit.set);
  assert_int_equal(r->pids_limit.v, 0);
  assert_true(r->memory->swap.set);
  assert_false(r->memory->limit.set);
  assert_false(r->memory->use_hierarchy.set);
  assert_null(r->cpu);
  assert_null(r->block_io);
  oci_config_free(cfg);

  /* JSON null means "unset" too, as in Go runtimes. */
  cfg = parse_ok(RES("\"pids\": {\"limit\": null}, \"cpu\": null") );
  assert_false(cfg->linux_->resources->pids_limit.set);
  assert_null(cfg->linux_->resources->cpu);
  oci_config_free(cfg);

  /* An empty capability set is present; a missing one is not. */
  cfg = parse_ok(PROC("\"capabilities\": {\"bounding\": []}"));
  assert_true(cfg->process->capabilities->bounding.present);
  assert_int_equal(cfg->process->capabilities->bounding.n, 0);
  assert_false(cfg->process->capabilities->ambient.present);
  oci_config_free(cfg);
}

static void test_full_ranges(void **state) {
  struct oci_config *cfg = parse_ok(PROC(
      "\"user\": {\"uid\": 4294967295, \"gid\": 0}, "
      "\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": 18446744073709551615}], "
      "\"oomScoreAdj\": -1000, \"consoleSize\": {\"height\": 24, \"width\": 80}, "
      "\"ioPriority\": {\"class\": \"IOPRIO_CLASS_IDLE\", \"priority\": 7}, "
      "\"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"runtime\": 100, "
      "\"period\": 18446744073709551615, \"flags\": [\"SCHED_FLAG_RECLAIM\"]}"));
  struct oci_process *p = cfg->process;
  assert_int_equal(p->user.uid, 4294967295U);
  assert_true(p->rlimits[0].soft == UINT64_MAX);
  assert_int_equal(p->oom_score_adj.v, -1000);
  assert_int_equal(p->console_width.v, 80);
  assert_string_equal(p->io_priority->class_, "IOPRIO_CLASS_IDLE");
  assert_int_equal(p->io_priority->priority, 7);
  assert_string_equal(p->scheduler->policy, "SCHED_DEADLINE");
  assert_int_equal(p->scheduler->runtime.v, 100);
  /* uint64 in the spec: the kernel, not the parser, refuses 2^63 and up. */
  assert_true(p->scheduler->period.v == UINT64_MAX);
  assert_false(p->scheduler->deadline.set);
  assert_false(p->scheduler->nice.set);
  assert_string_equal(p->scheduler->flags[0], "SCHED_FLAG_RECLAIM");
  oci_config_free(cfg);

  cfg = parse_ok(LINUX("\"resources\": {\"memory\": {\"limit\": -9223372036854775808}}, "
                       "\"namespaces\": [{\"type\": \"network\", \"path\": \"/run/netns/x\"}], "
                       "\"rootfsPropagation\": \"rshared\", "
                       "\"devices\": [{\"path\": \"/dev/fifo\", \"type\": \"p\"}], "
                       "\"personality\": {\"domain\": \"LINUX32\"}, "
                       "\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1, "
                       "\"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"], \"listenerPath\": \"/run/l.sock\", "
                       "\"listenerMetadata\": \"meta\", \"syscalls\": [{\"names\": [\"read\"], "
                       "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"args\": [{\"index\": 1, "
                       "\"value\": 18446744073709551615, \"valueTwo\": 2, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}"));
  struct oci_linux *l = cfg->linux_;
  assert_true(l->resources->memory->limit.v == INT64_MIN);
  assert_string_equal(oci_config_namespace(cfg, OCI_NS_NETWORK)->path, "/run/netns/x");
  assert_null(oci_config_namespace(cfg, OCI_NS_PID));
  assert_int_equal(l->devices[0].type, 'p');
  assert_string_equal(l->personality->domain, "LINUX32");
  assert_int_equal(l->seccomp->default_errno_ret.v, 1);
  assert_string_equal(l->seccomp->flags[0], "SECCOMP_FILTER_FLAG_LOG");
  assert_string_equal(l->seccomp->listener_path, "/run/l.sock");
  assert_string_equal(l->seccomp->listener_metadata, "meta");
  assert_int_equal(l->seccomp->syscalls[0].errno_ret.v, 38);
  struct oci_seccomp_arg *a = &l->seccomp->syscalls[0].args[0];
  assert_int_equal(a->index, 1);
  assert_true(a->value == UINT64_MAX);
  assert_true(a->value_two.set);
  assert_string_equal(a->op, "SCMP_CMP_MASKED_EQ");
  oci_config_free(cfg);
}

static void test_process_json(void **state) {
  const char *json = "{\"cwd\": \"/tmp\", \"user\": {\"uid\": 5, \"gid\": 6}, \"args\": [\"ls\", \"-l\"]}";
  struct oci_process *p = NULL;
  oci_error err = {0};
  assert_int_equal(oci_process_parse(json, strlen(json), "process.json", &p, &err), 0);
  assert_string_equal(p->cwd, "/tmp");
  assert_int_equal(p->user.gid, 6);
  assert_string_equal(p->args[1], "-l");
  oci_process_free(p);

  json = "{\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, \"args\": 1}";
  p = NULL;
  assert_int_equal(oci_process_parse(json, strlen(json), "process.json", &p, &err), -1);
  assert_null(p);
  assert_string_equal(err.msg, "process.json: args: expected an array of strings");

  json = "\"sh\"";
  assert_int_equal(oci_process_parse(json, strlen(json), "process.json", &p, &err), -1);
  assert_string_equal(err.msg, "process.json: expected an object");
}

static void test_resources_json(void **state) {
  const char *json = "{\"memory\": {\"limit\": 1048576}, \"pids\": {\"limit\": 10}, "
                     "\"unified\": {\"memory.high\": \"max\"}}";
  struct oci_resources *r = NULL;
  oci_error err = {0};
  assert_int_equal(oci_resources_parse(json, strlen(json), "resources.json", &r, &err), 0);
  assert_int_equal(r->memory->limit.v, 1048576);
  assert_int_equal(r->pids_limit.v, 10);
  assert_string_equal(r->unified[0].key, "memory.high");
  assert_string_equal(r->unified[0].value, "max");
  oci_resources_free(r);

  json = "{\"cpu\": {\"quota\": \"lots\"}}";
  assert_int_equal(oci_resources_parse(json, strlen(json), "resources.json", &r, &err), -1);
  assert_string_equal(err.msg, "resources.json: cpu.quota: expected a signed 64-bit integer");
}

static void test_names(void **state) {
  for (int t = 0; t < OCI_NS_COUNT; t++)
    assert_int_equal(oci_ns_type_from_name(oci_ns_type_name(t)), t);
  assert_string_equal(oci_ns_type_name(OCI_NS_NETWORK), "network");
  assert_int_equal(oci_ns_type_from_name("net"), -1);
  assert_null(oci_ns_type_name(OCI_NS_COUNT));
  assert_int_equal(oci_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  assert_int_equal(oci_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  assert_int_equal(oci_rlimit_from_name("RLIMIT_MSGQUEUE"), RLIMIT_MSGQUEUE);
  assert_int_equal(oci_rlimit_from_name("NOFILE"), -1);
}

static void test_load_missing_file(void **state) {
  struct oci_config *cfg = NULL;
  oci_error err = {0};
  assert_int_equal(oci_config_load_file("/nonexistent/config.json", &cfg, &err), -1);
  assert_non_null(strstr(err.msg, "/nonexistent/config.json"));
  assert_int_equal(err.errnum, ENOENT);
}

/* ---------- spec.c: the default config ---------- */

static struct oci_config *parse_default_spec(bool rootless) {
  char *json = oci_spec_default_json(rootless);
  assert_non_null(json);
  struct oci_config *cfg = NULL;
  oci_error err = {0};
  if (oci_config_parse(json, strlen(json), "config.json", &cfg, &err) < 0)
    fail_msg("%s\n%s", err.msg, json);
  /* Pretty-printed with tabs, as runc writes it. */
  assert_non_null(strstr(json, "\n\t\"ociVersion\": \"" OCI_SPEC_VERSION "\""));
  free(json);
  return cfg;
}

static const struct oci_mount *find_mount(const struct oci_config *cfg, const char *dest) {
  for (size_t i = 0; i < cfg->n_mounts; i++)
    if (strcmp(cfg->mounts[i].destination, dest) == 0)
      return &cfg->mounts[i];
  return NULL;
}

static void test_spec_default(void **state) {
  struct oci_config *cfg = parse_default_spec(false);
  assert_string_equal(cfg->oci_version, OCI_SPEC_VERSION);
  struct oci_process *p = cfg->process;
  assert_true(p->terminal);
  assert_int_equal(p->n_args, 1);
  assert_string_equal(p->args[0], "sh");
  assert_int_equal(p->n_env, 2);
  assert_string_equal(p->env[1], "TERM=xterm");
  assert_string_equal(p->cwd, "/");
  assert_int_equal(p->user.uid, 0);
  assert_int_equal(p->capabilities->bounding.n, 3);
  assert_string_equal(p->capabilities->bounding.names[1], "CAP_KILL");
  assert_true(p->capabilities->ambient.present);
  assert_false(p->capabilities->inheritable.present);
  assert_int_equal(p->n_rlimits, 1);
  assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal(p->rlimits[0].soft, 1024);
  assert_true(p->no_new_privileges);
  assert_string_equal(cfg->root->path, "rootfs");
  assert_true(cfg->root->readonly);
  assert_string_equal(cfg->hostname, "ocirun");
  assert_int_equal(cfg->n_mounts, 7);
  assert_string_equal(find_mount(cfg, "/sys")->type, "sysfs");
  assert_string_equal(find_mount(cfg, "/dev/pts")->options[5], "gid=5");
  assert_string_equal(find_mount(cfg, "/sys/fs/cgroup")->type, "cgroup");
  assert_null(find_mount(cfg, "/proc")->options);
  struct oci_linux *l = cfg->linux_;
  assert_int_equal(l->resources->n_devices, 1);
  assert_false(l->resources->devices[0].allow);
  assert_string_equal(l->resources->devices[0].access, "rwm");
  /* runc 1.1's list: pid network ipc uts mount, no cgroup namespace. */
  assert_int_equal(l->n_namespaces, 5);
  assert_non_null(oci_config_namespace(cfg, OCI_NS_NETWORK));
  assert_null(oci_config_namespace(cfg, OCI_NS_CGROUP));
  assert_null(oci_config_namespace(cfg, OCI_NS_USER));
  assert_int_equal(l->n_uid_mappings, 0);
  assert_int_equal(l->n_masked_paths, 10);
  assert_string_equal(l->masked_paths[2], "/proc/kcore");
  assert_int_equal(l->n_readonly_paths, 5);
  assert_string_equal(l->readonly_paths[4], "/proc/sysrq-trigger");
  oci_config_free(cfg);
}

static void test_spec_rootless(void **state) {
  struct oci_config *cfg = parse_default_spec(true);
  struct oci_linux *l = cfg->linux_;
  assert_null(l->resources);
  /* runc 1.1's list: pid ipc uts mount user. */
  assert_int_equal(l->n_namespaces, 5);
  assert_non_null(oci_config_namespace(cfg, OCI_NS_USER));
  assert_null(oci_config_namespace(cfg, OCI_NS_NETWORK));
  assert_null(oci_config_namespace(cfg, OCI_NS_CGROUP));
  assert_int_equal(l->n_uid_mappings, 1);
  assert_int_equal(l->uid_mappings[0].container_id, 0);
  assert_int_equal(l->uid_mappings[0].host_id, geteuid());
  assert_int_equal(l->uid_mappings[0].size, 1);
  assert_int_equal(l->gid_mappings[0].host_id, getegid());
  const struct oci_mount *sys = find_mount(cfg, "/sys");
  assert_string_equal(sys->source, "/sys");
  assert_string_equal(sys->options[0], "rbind");
  const struct oci_mount *pts = find_mount(cfg, "/dev/pts");
  for (size_t i = 0; i < pts->n_options; i++)
    assert_true(strncmp(pts->options[i], "gid=", 4) != 0);
  oci_config_free(cfg);
}

/* ---------- features.c ---------- */

static bool json_array_has(yajl_val arr, const char *s) {
  assert_true(YAJL_IS_ARRAY(arr));
  for (size_t i = 0; i < arr->u.array.len; i++)
    if (YAJL_IS_STRING(arr->u.array.values[i]) && strcmp(arr->u.array.values[i]->u.string, s) == 0)
      return true;
  return false;
}

static yajl_val jpath(yajl_val root, const char *a, const char *b, const char *c) {
  const char *path[] = {a, b, c, NULL};
  return yajl_tree_get(root, path, yajl_t_any);
}

static void test_features(void **state) {
  struct oci_context ctx = {.criu = "/nonexistent/criu"};
  char *json = oci_features_json(&ctx);
  assert_non_null(json);
  char errbuf[256];
  yajl_val root = yajl_tree_parse(json, errbuf, sizeof(errbuf));
  if (root == NULL)
    fail_msg("features is not JSON: %s\n%s", errbuf, json);
  free(json);

  assert_string_equal(YAJL_GET_STRING(jpath(root, "ociVersionMin", NULL, NULL)), "1.0.0");
  assert_string_equal(YAJL_GET_STRING(jpath(root, "ociVersionMax", NULL, NULL)), OCI_SPEC_VERSION);
  yajl_val hooks = jpath(root, "hooks", NULL, NULL);
  assert_int_equal(YAJL_GET_ARRAY(hooks)->len, 6);
  assert_true(json_array_has(hooks, "createRuntime"));
  assert_true(json_array_has(hooks, "poststop"));

  /* Mount options come from the mount code: the ones it maps itself. */
  yajl_val mopts = jpath(root, "mountOptions", NULL, NULL);
  static const char *const must[] = {"ro", "rw", "nosuid", "nodev", "noexec", "bind", "rbind",
                                     "rprivate", "rslave", "relatime", "strictatime",
                                     "tmpcopyup", "idmap", "rro", NULL};
  for (const char *const *o = must; *o != NULL; o++)
    if (!json_array_has(mopts, *o))
      fail_msg("mountOptions lacks \"%s\"", *o);
  assert_false(json_array_has(mopts, "mode=755"));
  /* Options that are flags, not filesystem data. */
  static const char *const flags[] = {"nosymfollow", "rnosymfollow", "symfollow", "iversion",
                                      "noiversion", "loud", "silent", "defaults", NULL};
  for (const char *const *o = flags; *o != NULL; o++)
    if (!json_array_has(mopts, *o))
      fail_msg("mountOptions lacks \"%s\"", *o);

  yajl_val ns = jpath(root, "linux", "namespaces", NULL);
  assert_int_equal(YAJL_GET_ARRAY(ns)->len, OCI_NS_COUNT);
  for (size_t i = 0; i < YAJL_GET_ARRAY(ns)->len; i++)
    assert_true(oci_ns_type_from_name(YAJL_GET_STRING(ns->u.array.values[i])) >= 0);

  yajl_val caps = jpath(root, "linux", "capabilities", NULL);
  assert_string_equal(YAJL_GET_STRING(caps->u.array.values[0]), "CAP_CHOWN");
  assert_true(json_array_has(caps, "CAP_SYS_ADMIN"));
  assert_true(json_array_has(caps, "CAP_AUDIT_READ"));
  assert_true(YAJL_GET_ARRAY(caps)->len >= 38);

  assert_true(YAJL_IS_TRUE(jpath(root, "linux", "cgroup", "v1")));
  assert_true(YAJL_IS_TRUE(jpath(root, "linux", "cgroup", "v2")));
  assert_true(YAJL_IS_TRUE(jpath(root, "linux", "cgroup", "systemd")));
  assert_true(YAJL_IS_TRUE(jpath(root, "linux", "cgroup", "systemdUser")));

  assert_true(YAJL_IS_TRUE(jpath(root, "linux", "seccomp", "enabled")));
  assert_true(json_array_has(jpath(root, "linux", "seccomp", "actions"), "SCMP_ACT_NOTIFY"));
  assert_true(json_array_has(jpath(root, "linux", "seccomp", "operators"), "SCMP_CMP_MASKED_EQ"));
  assert_true(json_array_has(jpath(root, "linux", "seccomp", "archs"), "SCMP_ARCH_X86_64"));
  yajl_val known = jpath(root, "linux", "seccomp", "knownFlags");
  yajl_val supported = jpath(root, "linux", "seccomp", "supportedFlags");
  assert_true(json_array_has(known, "SECCOMP_FILTER_FLAG_LOG"));
  for (size_t i = 0; i < YAJL_GET_ARRAY(supported)->len; i++)
    assert_true(json_array_has(known, YAJL_GET_STRING(supported->u.array.values[i])));

  assert_true(YAJL_IS_FALSE(jpath(root, "linux", "apparmor", "enabled")));
  assert_true(YAJL_IS_FALSE(jpath(root, "linux", "selinux", "enabled")));
  assert_true(YAJL_IS_FALSE(jpath(root, "linux", "intelRdt", "enabled")));
  assert_true(YAJL_IS_TRUE(jpath(root, "linux", "netDevices", "enabled")));
  yajl_val modes = jpath(root, "linux", "memoryPolicy", "modes");
  assert_int_equal(YAJL_GET_ARRAY(modes)->len, 7);
  assert_true(json_array_has(modes, "MPOL_WEIGHTED_INTERLEAVE"));
  assert_true(json_array_has(jpath(root, "linux", "memoryPolicy", "flags"), "MPOL_F_NUMA_BALANCING"));
  const char *idmap[] = {"linux", "mountExtensions", "idmap", "enabled", NULL};
  assert_true(YAJL_IS_TRUE(yajl_tree_get(root, idmap, yajl_t_any)));
  const char *ver[] = {"annotations", "io.github.ocirun.version", NULL};
  assert_string_equal(YAJL_GET_STRING(yajl_tree_get(root, ver, yajl_t_string)), OCIRUN_VERSION);
  const char *keep[] = {"annotations", OCI_ANNOTATION_KEEP_ORIGINAL_GROUPS, NULL};
  assert_non_null(yajl_tree_get(root, keep, yajl_t_string));
  const char *fail[] = {"annotations", OCI_ANNOTATION_SECCOMP_FAIL_UNKNOWN, NULL};
  assert_non_null(yajl_tree_get(root, fail, yajl_t_string));
  const char *hout[] = {"annotations", OCI_ANNOTATION_HOOKS_STDOUT, NULL};
  assert_non_null(yajl_tree_get(root, hout, yajl_t_string));
  const char *herr[] = {"annotations", OCI_ANNOTATION_HOOKS_STDERR, NULL};
  assert_non_null(yajl_tree_get(root, herr, yajl_t_string));
  yajl_tree_free(root);
}

/* ---------- config.json.example (the example bundle) ---------- */

static void test_example_config(void **state) {
  struct oci_config *cfg = NULL;
  oci_error err = {0};
  if (oci_config_load_file(OCI_TOP_SRCDIR "/config.json.example", &cfg, &err) < 0)
    fail_msg("%s", err.msg);
  assert_string_equal(cfg->oci_version, OCI_SPEC_VERSION);
  assert_false(cfg->process->terminal);
  assert_int_equal(cfg->process->n_args, 3);
  assert_string_equal(cfg->process->args[2], "echo Hello from inside an ocirun container; hostname; id");
  assert_string_equal(cfg->process->cwd, "/");
  assert_true(cfg->process->no_new_privileges);
  assert_int_equal(cfg->process->capabilities->bounding.n, 3);
  assert_string_equal(cfg->root->path, "rootfs");
  assert_true(cfg->root->readonly);
  assert_string_equal(cfg->hostname, "ocirun-example");
  assert_int_equal(cfg->n_mounts, 7);
  assert_non_null(find_mount(cfg, "/sys/fs/cgroup"));
  /* `ocirun spec`'s namespaces, runc 1.1's: no cgroup namespace. */
  static const enum oci_ns_type want[] = {OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_IPC, OCI_NS_UTS,
                                          OCI_NS_MOUNT};
  assert_int_equal(cfg->linux_->n_namespaces, OCI_ARRAY_SIZE(want));
  for (size_t i = 0; i < OCI_ARRAY_SIZE(want); i++)
    assert_non_null(oci_config_namespace(cfg, want[i]));
  assert_null(oci_config_namespace(cfg, OCI_NS_CGROUP));
  assert_null(cfg->linux_->cgroups_path);
  assert_int_equal(cfg->linux_->n_masked_paths, 10);
  assert_int_equal(cfg->linux_->n_readonly_paths, 5);
  oci_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_files),
    cmocka_unit_test(test_bad_files),
    cmocka_unit_test(test_bad_files_reasons),
    cmocka_unit_test(test_minimal_files),
    cmocka_unit_test(test_full_process),
    cmocka_unit_test(test_full_top),
    cmocka_unit_test(test_full_linux),
    cmocka_unit_test(test_devices_as_runc_reads_them),
    cmocka_unit_test(test_namespace_empty_path_is_new),
    cmocka_unit_test(test_full_resources),
    cmocka_unit_test(test_rdma_good),
    cmocka_unit_test(test_netdevice_good),
    cmocka_unit_test(test_wrong_types),
    cmocka_unit_test(test_invalid_values),
    cmocka_unit_test(test_config_validate),
    cmocka_unit_test(test_applied_settings),
    cmocka_unit_test(test_malformed_json_line),
    cmocka_unit_test(test_unknown_fields_ignored),
    cmocka_unit_test(test_absent_vs_zero),
    cmocka_unit_test(test_full_ranges),
    cmocka_unit_test(test_process_json),
    cmocka_unit_test(test_resources_json),
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_load_missing_file),
    cmocka_unit_test(test_spec_default),
    cmocka_unit_test(test_spec_rootless),
    cmocka_unit_test(test_features),
    cmocka_unit_test(test_example_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
