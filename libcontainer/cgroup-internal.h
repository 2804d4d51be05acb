/* ocirun — what cgroup.c shares with its drivers (cgroup-v1.c, cgroup-v2.c,
 * cgroup-devices-bpf.c) and with the unit test. Not for other modules. */
#ifndef OCIRUN_CGROUP_INTERNAL_H
#define OCIRUN_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocirun/cgroup.h"
#include "ocirun/config.h"
#include "ocirun/error.h"

/* One line of /proc/self/cgroup: "4:memory:/a/b" or "0::/a". */
struct cg_proc_entry {
  int id;
  char *controllers;  /* "cpu,cpuacct", "name=systemd", "" for the unified one */
  char *path;         /* the caller's cgroup inside that hierarchy */
};

/* One v1 hierarchy the container lives in. */
struct cg_hier {
  char *controllers;  /* as in /proc/self/cgroup: "cpu,cpuacct" */
  char *mount;        /* where the hierarchy is mounted on the host */
  char *rel;          /* the container's cgroup, relative to the hierarchy root */
  char *dir;          /* mount + rel: the directory we create */
};

struct cg_driver;
struct oci_sdbus;

/* The systemd driver's part (cgroup-systemd.c): the unit that owns the
 * container's cgroup. */
struct cg_systemd {
  char *unit;            /* "libpod-ID.scope" or "ID.slice" */
  char *slice;           /* the parent slice, "machine.slice" */
  bool user;             /* the user's manager, not the system's */
  bool started;          /* started by this process: its properties are set */
  struct oci_sdbus *bus; /* connected on first use */
};

struct oci_cgroup {
  enum oci_cgroup_mode mode;
  const struct cg_driver *drv;
  struct cg_hier *v1;       /* v1 and hybrid */
  size_t n_v1;
  struct cg_hier *v2;       /* v2, and the unified side of hybrid; NULL if none */
  /* Device rules appended after the config's (runc's defaults), set by
   * create and update; apply() writes the device list
   * whenever these are pending or the resources carry rules. */
  struct oci_device_rule *extra_rules;
  size_t n_extra_rules;
  bool devices_pending;
  uint64_t oom_kills_seen;  /* v2: memory.events oom_kill at the last check */
  uint64_t pressure_seen;   /* v2: memory.events max + oom at the last check */
  uint64_t parent_kills;    /* v2: the parent's (hierarchical) oom_kill then */
  long long pressure_ms;    /* v2: when max or oom last went up (monotonic) */
  struct cg_systemd *sd;    /* NULL: cgroupfs */
  const struct oci_resources *initial; /* create: the config's, for the unit */
};

/* A driver: the version-specific half of each operation. */
struct cg_driver {
  int (*create)(struct oci_cgroup *cg, oci_error *err);
  int (*apply)(struct oci_cgroup *cg, const struct oci_resources *res,
               const struct oci_device_rule *rules, size_t n_rules, oci_error *err);
  int (*freeze)(struct oci_cgroup *cg, bool frozen, oci_error *err);
  int (*is_frozen)(struct oci_cgroup *cg, bool *frozen, oci_error *err);
  /* Kill everything inside with SIGKILL (cgroup.kill where possible). */
  int (*kill_all)(struct oci_cgroup *cg, oci_error *err);
  int (*stats_json)(struct oci_cgroup *cg, char **json, oci_error *err);
  int (*oom_fd)(struct oci_cgroup *cg, int *fd, oci_error *err);
  int (*oom_happened)(struct oci_cgroup *cg, int fd, bool *oom, oci_error *err);
  /* How many processes the OOM killer has killed in the cgroup so far. */
  int (*oom_kills)(struct oci_cgroup *cg, uint64_t *kills);
};

extern const struct cg_driver oci_cg_driver_v1;
extern const struct cg_driver oci_cg_driver_v2;

/* ---- cgroup-fs.c (the mode: cgroup.c): parsing and paths, pure ----- */

/* Parse the text of /proc/self/cgroup. */
int oci_cg_parse_proc_cgroup(const char *text, struct cg_proc_entry **out, size_t *n,
                             oci_error *err);
void oci_cg_proc_entries_free(struct cg_proc_entry *e, size_t n);

/* The container's cgroup inside one hierarchy, given the caller's own
 * cgroup there: absolute cgroups_path as given, relative ones below `own`,
 * NULL or "" → own + "/<id>" (runc's default). ".." cannot climb above
 * the start. */
char *oci_cg_resolve_path(const char *own, const char *cgroups_path, const char *id);

/* Lexically clean an absolute path: "//a/./b/../c/" → "/a/c". */
char *oci_cg_clean_path(const char *path);

/* Mode from the filesystem magic of /sys/fs/cgroup and whether a cgroup2
 * is mounted at /sys/fs/cgroup/unified. */
enum oci_cgroup_mode oci_cg_mode_from_magic(unsigned long root_magic, bool unified_is_cgroup2);

/* runc's documented v1 → v2 value conversions. */
uint64_t oci_cg_shares_to_weight(uint64_t shares);
uint64_t oci_cg_blkio_to_io_weight(uint64_t weight);
/* memory.swap.max from the spec's swap (memory+swap) and limit; -1 = max.
 * Fails when swap < limit or swap is set without a limit. */
int oci_cg_swap_to_v2(int64_t swap, int64_t limit, int64_t *out, oci_error *err);

/* ---- cgroup-fs.c (the config rules: cgroup.c): helpers for drivers - */

/* Write `value` to dir/file; on failure the error reads
 * `<what>: write "<value>" to <file>: <strerror>`. */
int oci_cg_write(const char *dir, const char *file, const char *what, const char *value,
                 oci_error *err);
int oci_cg_write_fmt(const char *dir, const char *file, const char *what, oci_error *err,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Read dir/file (NUL-terminated, trailing newline stripped). */
int oci_cg_read(const char *dir, const char *file, char **out, oci_error *err);
/* Read a file holding one number; "max" reads as UINT64_MAX. Missing → -1. */
int oci_cg_read_u64(const char *dir, const char *file, uint64_t *out);
/* Look a key up in a "key value" file (memory.stat, cpu.stat ...). */
int oci_cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out);
bool oci_cg_file_exists(const char *dir, const char *file);

/* Every pid in dir and its sub-cgroups. */
int oci_cg_read_pids(const char *dir, pid_t **pids, size_t *n, oci_error *err);
/* Remove dir and its sub-cgroups, deepest first; a missing dir is fine.
 * Retries EBUSY briefly (exiting tasks can hold a cgroup for a moment). */
int oci_cg_rmdir_tree(const char *dir, oci_error *err);
/* Sleep `ms` milliseconds; used by the bounded waits. */
void oci_cg_sleep_ms(unsigned ms);

/* The device rules to write: the resources', then cg->extra_rules. */
void oci_cg_device_defaults(struct oci_device_rule **rules, size_t *n);

/* Replace the extra device rules with runc's defaults (used by create, and
 * by update on a loaded cg). */
void oci_cg_set_default_rules(struct oci_cgroup *cg);

/* ---- cgroup-systemd.c ------------------------------------------------- */

struct sd_props;

/* "slice:prefix:name" (NULL or "": the default) -> parent slice and unit. */
int oci_cg_systemd_parse_path(const char *cgroups_path, const char *id, bool user,
                              char **slice, char **unit, oci_error *err);
/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "/". */
int oci_cg_systemd_expand_slice(const char *slice, char **out, oci_error *err);
/* A cpuset list ("0-3,8") as systemd's byte mask (bit i = cpu i). */
int oci_cg_cpuset_mask(const char *list, uint8_t **bytes, size_t *n, const char *what,
                       oci_error *err);
/* CPUQuotaPerSecUSec for a quota and period (runc's rounding). */
uint64_t oci_cg_systemd_quota_per_sec(int64_t quota, uint64_t period);
/* The unit properties for linux.resources (v2: unified hierarchy names). */
int oci_cg_systemd_resource_props(const struct oci_resources *r, bool v2, struct sd_props *p,
                                  oci_error *err);
/* DevicePolicy and DeviceAllow for the rules (cgroup v1 only). */
void oci_cg_systemd_device_props(const struct oci_device_rule *rules, size_t n,
                                 const char *proc_devices, struct sd_props *p);
/* Set cg->sd and return the unit's cgroup path (absolute in each hierarchy). */
int oci_cg_systemd_prepare(struct oci_cgroup *cg, const char *cgroups_path, const char *id,
                           char **abs_path, oci_error *err);
/* Start the unit with pid in it and the resources as properties. */
int oci_cg_systemd_start(struct oci_cgroup *cg, const char *id, pid_t pid,
                         const struct oci_resources *res, const struct oci_device_rule *rules,
                         size_t n_rules, oci_error *err);
/* Set the resources as properties (update; no-op right after the start). */
int oci_cg_systemd_update(struct oci_cgroup *cg, const struct oci_resources *res,
                          const struct oci_device_rule *rules, size_t n_rules, oci_error *err);
int oci_cg_systemd_stop(struct oci_cgroup *cg, oci_error *err);
void oci_cg_systemd_free(struct cg_systemd *sd);

/* ---- cgroup-v2.c, used by the hybrid side of v1 ---------------------- */

/* Enable every available controller in each ancestor's
 * cgroup.subtree_control, from the hierarchy root down to h->dir's parent. */
int oci_cg_v2_enable_controllers(const struct cg_hier *h, oci_error *err);

/* ---- cgroup-stats.c: runc's stats shape, filled by the drivers ------- */

struct cg_mem_entry {
  uint64_t limit, usage, max, failcnt;
};
struct cg_blkio_entry {
  uint64_t major, minor, value;
  char op[16];
};
struct cg_blkio_list {
  struct cg_blkio_entry *v;
  size_t n;
};
struct cg_hugetlb_entry {
  char size[16];      /* "2MB" */
  uint64_t usage, max, failcnt;
};
struct cg_raw {
  char *key;
  uint64_t value;
};

struct cg_stats {
  uint64_t cpu_total, cpu_user, cpu_kernel;
  uint64_t *percpu;
  size_t n_percpu;
  uint64_t periods, throttled_periods, throttled_time;
  struct cg_mem_entry mem, swap, kernel, kernel_tcp;
  uint64_t cache;
  struct cg_raw *raw;
  size_t n_raw;
  uint64_t pids_current, pids_limit;
  struct cg_blkio_list io_service_bytes, io_serviced;
  struct cg_hugetlb_entry *hugetlb;
  size_t n_hugetlb;
};

void oci_cg_stats_clear(struct cg_stats *s);
char *oci_cg_stats_json(const struct cg_stats *s);
/* Every "key value" line of a file (memory.stat) into s->raw. */
void oci_cg_stats_read_raw(struct cg_stats *s, const char *dir, const char *file);
void oci_cg_blkio_add(struct cg_blkio_list *l, uint64_t major, uint64_t minor,
                      const char *op, uint64_t value);
/* The host's huge page sizes as the cgroup files name them ("2MB", "1GB"). */
size_t oci_cg_hugepage_sizes(char sizes[][16], size_t max);

/* ---- cgroup-devices-bpf.c ------------------------------------------- */

/* Build the eBPF program for the rules (default deny, last match wins per
 * access bit) into a malloc'd array of struct bpf_insn; *n = count. */
int oci_cg_bpf_build(const struct oci_device_rule *rules, size_t n_rules, void **insns,
                     size_t *n, oci_error *err);
/* Load the program and attach it to the cgroup dir with BPF_F_ALLOW_MULTI,
 * then detach the ones that were attached before (replace on update). */
int oci_cg_bpf_install(const char *dir, const struct oci_device_rule *rules, size_t n_rules,
                       oci_error *err);

#endif
