/* ocirun — the OCI runtime-spec config.json as typed C structs.
 *
 * Parsed by libcontainer/config.c with yajl. Every string is owned by the
 * config and freed by oci_config_free(). Arrays are (pointer, count) pairs;
 * string arrays (char **) are also NULL-terminated, ready for execve.
 * Optional scalars use the oci_opt_* wrappers so "absent" differs from 0.
 * Absent optional objects are NULL pointers.
 */
#ifndef OCIRUN_CONFIG_H
#define OCIRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocirun/error.h"

typedef struct { bool set; int64_t v; } oci_opt_i64;
typedef struct { bool set; uint64_t v; } oci_opt_u64;
typedef struct { bool set; uint32_t v; } oci_opt_u32;
typedef struct { bool set; bool v; } oci_opt_bool;

struct oci_kv {             /* annotations, sysctl, unified, ... */
  char *key;
  char *value;
};

struct oci_id_mapping {
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct oci_mount {
  char *destination;        /* required */
  char *source;             /* may be NULL */
  char *type;               /* may be NULL (bind mounts) */
  char **options;
  size_t n_options;
  struct oci_id_mapping *uid_mappings; /* idmapped mounts */
  size_t n_uid_mappings;
  struct oci_id_mapping *gid_mappings;
  size_t n_gid_mappings;
};

struct oci_rlimit {
  char *type;               /* "RLIMIT_NOFILE" ... */
  int resource;             /* resolved RLIMIT_* number */
  uint64_t hard;
  uint64_t soft;
};

struct oci_user {
  uint32_t uid;
  uint32_t gid;
  oci_opt_u32 umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  char *username;
};

/* Capability names as written in config.json ("CAP_CHOWN"); resolved and
 * validated by caps.c so errors can name the field. A set that is absent
 * from the config has present == false. */
struct oci_cap_set {
  bool present;
  char **names;
  size_t n;
};

struct oci_capabilities {
  struct oci_cap_set bounding, effective, inheritable, permitted, ambient;
};

struct oci_io_priority {
  char *class_;             /* IOPRIO_CLASS_RT|BE|IDLE */
  int64_t priority;
};

struct oci_scheduler {
  char *policy;             /* SCHED_OTHER ... */
  oci_opt_i64 nice, priority;
  oci_opt_u64 runtime, deadline, period;  /* ns; uint64 in the spec */
  char **flags;
  size_t n_flags;
};

/* process.execCPUAffinity: CPU lists ("0-3,7"), exec'd processes only. */
struct oci_exec_cpu_affinity {
  char *initial;            /* before the move into the container's cgroup */
  char *final;              /* after it; NULL or "": left to the kernel */
};

struct oci_process {
  bool terminal;
  oci_opt_u32 console_height;   /* consoleSize.height */
  oci_opt_u32 console_width;    /* consoleSize.width */
  struct oci_user user;
  char **args;
  size_t n_args;
  char *command_line;           /* Windows only; kept for completeness */
  char **env;
  size_t n_env;
  char *cwd;                    /* required */
  struct oci_capabilities *capabilities;  /* NULL when absent */
  struct oci_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  oci_opt_i64 oom_score_adj;
  char *selinux_label;
  struct oci_io_priority *io_priority;    /* NULL when absent */
  struct oci_scheduler *scheduler;        /* NULL when absent */
  struct oci_exec_cpu_affinity *exec_cpu_affinity;  /* NULL when absent */
};

struct oci_hook {
  char *path;               /* required, absolute */
  char **args;
  size_t n_args;
  char **env;
  size_t n_env;
  oci_opt_i64 timeout;      /* seconds, > 0 */
};

struct oci_hook_list {
  struct oci_hook *items;
  size_t n;
};

struct oci_hooks {
  struct oci_hook_list prestart;          /* deprecated, still honoured */
  struct oci_hook_list create_runtime;
  struct oci_hook_list create_container;
  struct oci_hook_list start_container;
  struct oci_hook_list poststart;
  struct oci_hook_list poststop;
};

enum oci_ns_type {
  OCI_NS_PID,
  OCI_NS_NETWORK,
  OCI_NS_MOUNT,
  OCI_NS_IPC,
  OCI_NS_UTS,
  OCI_NS_USER,
  OCI_NS_CGROUP,
  OCI_NS_TIME,
  OCI_NS_COUNT
};

struct oci_namespace {
  enum oci_ns_type type;
  char *path;               /* NULL: create a new one; else join it */
};

struct oci_device {         /* linux.devices: nodes created in /dev */
  char *path;
  char type;                /* 'c', 'b', 'u' or 'p' */
  int64_t major, minor;     /* ignored for 'p' */
  oci_opt_u32 file_mode;
  oci_opt_u32 uid;
  oci_opt_u32 gid;
};

struct oci_device_rule {    /* linux.resources.devices: cgroup allow list */
  bool allow;
  char type;                /* 'a', 'c' or 'b'; 'a' when absent */
  oci_opt_i64 major;        /* unset = wildcard */
  oci_opt_i64 minor;
  char *access;             /* "rwm" subset; NULL = all */
};

struct oci_memory {
  oci_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
  oci_opt_u64 swappiness;
  oci_opt_bool disable_oom_killer, use_hierarchy, check_before_update;
};

struct oci_cpu {
  oci_opt_u64 shares;
  oci_opt_i64 quota;
  oci_opt_u64 burst;
  oci_opt_u64 period;
  oci_opt_i64 realtime_runtime;
  oci_opt_u64 realtime_period;
  char *cpus;
  char *mems;
  oci_opt_i64 idle;
};

struct oci_weight_device {
  int64_t major, minor;
  oci_opt_u32 weight;       /* uint16 in the spec */
  oci_opt_u32 leaf_weight;
};

struct oci_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct oci_blkio {
  oci_opt_u32 weight;
  oci_opt_u32 leaf_weight;
  struct oci_weight_device *weight_device;
  size_t n_weight_device;
  struct oci_throttle_device *throttle_read_bps, *throttle_write_bps,
      *throttle_read_iops, *throttle_write_iops;
  size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
      n_throttle_write_iops;
};

struct oci_hugepage_limit {
  char *page_size;          /* "2MB", "1GB" */
  uint64_t limit;
};

struct oci_net_priority {
  char *name;
  uint32_t priority;
};

struct oci_network {
  oci_opt_u32 class_id;
  struct oci_net_priority *priorities;
  size_t n_priorities;
};

struct oci_rdma {
  char *device;             /* the map key */
  oci_opt_u32 hca_handles;
  oci_opt_u32 hca_objects;
};

struct oci_resources {
  struct oci_device_rule *devices;
  size_t n_devices;
  struct oci_memory *memory;        /* NULL when absent */
  struct oci_cpu *cpu;              /* NULL when absent */
  oci_opt_i64 pids_limit;           /* pids.limit */
  struct oci_blkio *block_io;       /* NULL when absent */
  struct oci_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct oci_network *network;      /* NULL when absent */
  struct oci_rdma *rdma;
  size_t n_rdma;
  struct oci_kv *unified;
  size_t n_unified;
};

struct oci_seccomp_arg {
  uint32_t index;
  uint64_t value;
  oci_opt_u64 value_two;
  char *op;                 /* "SCMP_CMP_EQ" ... */
};

struct oci_seccomp_syscall {
  char **names;
  size_t n_names;
  char *action;             /* "SCMP_ACT_ERRNO" ... */
  oci_opt_u32 errno_ret;
  struct oci_seccomp_arg *args;
  size_t n_args;
};

struct oci_seccomp {
  char *default_action;     /* required */
  oci_opt_u32 default_errno_ret;
  char **architectures;
  size_t n_architectures;
  char **flags;
  size_t n_flags;
  char *listener_path;
  char *listener_metadata;
  struct oci_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

struct oci_time_offset {
  bool set;
  int64_t secs;
  uint32_t nanosecs;
};

struct oci_personality {
  char *domain;             /* "LINUX" or "LINUX32" */
  char **flags;
  size_t n_flags;
};

struct oci_memory_policy {  /* linux.memoryPolicy, for set_mempolicy(2) */
  char *mode;               /* "MPOL_BIND" ... */
  char *nodes;              /* "0-3,7"; NULL when absent */
  char **flags;             /* "MPOL_F_STATIC_NODES" ... */
  size_t n_flags;
};

struct oci_net_device {     /* one entry of linux.netDevices */
  char *host_name;          /* the key: the interface on the host */
  char *name;               /* its name in the container; NULL: the same */
};

struct oci_linux {
  struct oci_namespace *namespaces;
  size_t n_namespaces;
  struct oci_id_mapping *uid_mappings;
  size_t n_uid_mappings;
  struct oci_id_mapping *gid_mappings;
  size_t n_gid_mappings;
  struct oci_time_offset time_monotonic;  /* timeOffsets.monotonic */
  struct oci_time_offset time_boottime;   /* timeOffsets.boottime */
  struct oci_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct oci_resources *resources;        /* NULL when absent */
  struct oci_kv *sysctl;
  size_t n_sysctl;
  struct oci_seccomp *seccomp;            /* NULL when absent */
  char *rootfs_propagation;
  char **masked_paths;
  size_t n_masked_paths;
  char **readonly_paths;
  size_t n_readonly_paths;
  char *mount_label;
  struct oci_personality *personality;    /* NULL when absent */
  struct oci_memory_policy *memory_policy;  /* NULL when absent */
  struct oci_net_device *net_devices;
  size_t n_net_devices;
  bool intel_rdt;                         /* linux.intelRdt is present */
};

struct oci_root {
  char *path;               /* as written; relative to the bundle when relative */
  bool readonly;
};

struct oci_config {
  char *oci_version;        /* required */
  struct oci_root *root;    /* NULL when absent */
  struct oci_mount *mounts;
  size_t n_mounts;
  struct oci_process *process;  /* NULL when absent (allowed for create-less uses) */
  char *hostname;
  char *domainname;
  struct oci_hooks hooks;
  struct oci_kv *annotations;
  size_t n_annotations;
  struct oci_linux *linux_;     /* NULL when absent ("linux" is a GNU C macro) */
};

/* Parse config JSON text. `name` is used in messages ("config.json").
 * Errors read: "<name>: process.args: expected an array of strings" or
 * "<name>: line 12: parse error: ...". */
int oci_config_parse(const char *json, size_t len, const char *name,
                     struct oci_config **out, oci_error *err);

/* Read and parse <bundle>/config.json (or any path). */
int oci_config_load_file(const char *path, struct oci_config **out, oci_error *err);

void oci_config_free(struct oci_config *cfg);

/* The same grammar, for the process.json of `exec --process` and the
 * resources JSON of `update --resources`. */
int oci_process_parse(const char *json, size_t len, const char *name,
                      struct oci_process **out, oci_error *err);
void oci_process_free(struct oci_process *p);
int oci_resources_parse(const char *json, size_t len, const char *name,
                        struct oci_resources **out, oci_error *err);
void oci_resources_free(struct oci_resources *r);

/* Checks across fields, run by create before the host is touched: id
 * mappings and time offsets need their namespace, and each linux.sysctl
 * must be in a namespace of the container's own (never a host-global knob). */
int oci_config_validate(const struct oci_config *cfg, oci_error *err);

/* Names <-> enums used across libcontainer. */
const char *oci_ns_type_name(enum oci_ns_type t);     /* "pid", "network", ... */
int oci_ns_type_from_name(const char *name);          /* -1 when unknown */
int oci_rlimit_from_name(const char *name);           /* -1 when unknown */

/* Lookups. */
const struct oci_namespace *oci_config_namespace(const struct oci_config *cfg,
                                                 enum oci_ns_type t);
const char *oci_config_annotation(const struct oci_config *cfg, const char *key);
/* A switch annotation is on when present with any value but "0" (crun's
 * reading, which engines that set these keys rely on). */
bool oci_config_annotation_on(const struct oci_config *cfg, const char *key);

/* Annotations ocirun acts on: crun's keys, which engines (podman) set. */
#define OCI_ANNOTATION_KEEP_ORIGINAL_GROUPS "run.oci.keep_original_groups"
#define OCI_ANNOTATION_HOOKS_STDOUT "run.oci.hooks.stdout"
#define OCI_ANNOTATION_HOOKS_STDERR "run.oci.hooks.stderr"
#define OCI_ANNOTATION_SECCOMP_FAIL_UNKNOWN "run.oci.seccomp_fail_unknown_syscall"

#endif
