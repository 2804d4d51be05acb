/* ocirun update — change a running container's cgroup limits. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocirun.h"
#include "ocirun/config.h"

struct update_args {
  const char *resources;
  const char *blkio_weight;
  const char *cpu_period, *cpu_quota, *cpu_shares, *cpu_rt_period, *cpu_rt_runtime;
  const char *cpuset_cpus, *cpuset_mems;
  const char *memory, *memory_reservation, *memory_swap, *kernel_memory, *kernel_memory_tcp;
  const char *pids_limit;
  const char *l3_cache_schema, *mem_bw_schema;
};

#define UPDATE_OPT(name, sh, field, arg, help) \
  CLI_OPT(name, sh, CLI_OPT_STRING, struct update_args, field, arg, help)

static const struct cli_option update_options[] = {
    UPDATE_OPT("resources", 'r', resources, "FILE",
               "read resources JSON from FILE ('-': stdin); other options are ignored"),
    UPDATE_OPT("blkio-weight", 0, blkio_weight, "N", "block IO weight, 10 to 1000"),
    UPDATE_OPT("cpu-period", 0, cpu_period, "USECS", "CPU CFS period (0: system default)"),
    UPDATE_OPT("cpu-quota", 0, cpu_quota, "USECS", "CPU CFS quota: CPU time allowed per period"),
    UPDATE_OPT("cpu-share", 0, cpu_shares, "N", "CPU shares (relative weight)"),
    UPDATE_OPT("cpu-shares", 0, cpu_shares, "N", "same as --cpu-share"),
    UPDATE_OPT("cpu-rt-period", 0, cpu_rt_period, "USECS", "CPU realtime period"),
    UPDATE_OPT("cpu-rt-runtime", 0, cpu_rt_runtime, "USECS",
               "CPU realtime runtime allowed per period"),
    UPDATE_OPT("cpuset-cpus", 0, cpuset_cpus, "LIST", "CPUs to use (0-3,5)"),
    UPDATE_OPT("cpuset-mems", 0, cpuset_mems, "LIST", "memory nodes to use"),
    UPDATE_OPT("memory", 0, memory, "SIZE", "memory limit (512m, 1g; -1: unlimited)"),
    UPDATE_OPT("memory-reservation", 0, memory_reservation, "SIZE", "memory soft limit"),
    UPDATE_OPT("memory-swap", 0, memory_swap, "SIZE", "memory + swap limit (-1: unlimited swap)"),
    UPDATE_OPT("kernel-memory", 0, kernel_memory, "SIZE", "kernel memory limit (cgroup v1)"),
    UPDATE_OPT("kernel-memory-tcp", 0, kernel_memory_tcp, "SIZE",
               "kernel TCP buffer memory limit (cgroup v1)"),
    UPDATE_OPT("pids-limit", 0, pids_limit, "N", "maximum number of pids (-1: unlimited)"),
    UPDATE_OPT("l3-cache-schema", 0, l3_cache_schema, "SCHEMA",
               "Intel RDT L3 cache schema (not supported: an error when given)"),
    UPDATE_OPT("mem-bw-schema", 0, mem_bw_schema, "SCHEMA",
               "Intel RDT memory bandwidth schema (not supported: an error when given)"),
};

/* docker/go-units RAMInBytes, as runc: "512m", "1.5g", "1 GiB", "100"
 * (binary multiples); "-1" means unlimited. */
static int parse_size(const char *s, int64_t *out) {
  if (strcmp(s, "-1") == 0) {
    *out = -1;
    return 0;
  }
  if (!isdigit((unsigned char)s[0]))
    return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || end[-1] == '.')
    return -1;
  if (*end == ' ')
    end++;
  static const char units[] = "kmgtp";
  double mult = 1;
  const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
  if (u) {
    for (const char *k = units; k <= u; k++)
      mult *= 1024;
    end++;
  }
  if (*end == 'i' || *end == 'I')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || v * mult >= 9.2e18)
    return -1;
  *out = (int64_t)(v * mult);
  return 0;
}

static int parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (s[0] == '-')
    return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end)
    return -1;
  *out = v;
  return 0;
}

#define BAD_VALUE(opt, val, what) \
  cli_usage_error(&cli_update, "invalid --%s \"%s\": expected %s", opt, val, what)

/* An int64 option: a size ("512m", "-1") or a plain integer. */
static int set_i64(const char *opt, const char *val, bool is_size, oci_opt_i64 *dst) {
  if (val == NULL)
    return 0;
  int r = is_size ? parse_size(val, &dst->v) : parse_i64(val, &dst->v);
  if (r < 0)
    return BAD_VALUE(opt, val, is_size ? "a size like 512m or 1g, or -1" : "an integer");
  dst->set = true;
  return 0;
}

static int set_u64(const char *opt, const char *val, oci_opt_u64 *dst) {
  if (val == NULL)
    return 0;
  if (parse_u64(val, &dst->v) < 0)
    return BAD_VALUE(opt, val, "an integer >= 0");
  dst->set = true;
  return 0;
}

static int fill_memory(const struct update_args *a, struct oci_resources *r) {
  if (!a->memory && !a->memory_reservation && !a->memory_swap && !a->kernel_memory &&
      !a->kernel_memory_tcp)
    return 0;
  struct oci_memory *m = r->memory = oci_xmalloc0(sizeof(*m));
  if (set_i64("memory", a->memory, true, &m->limit) ||
      set_i64("memory-swap", a->memory_swap, true, &m->swap) ||
      set_i64("memory-reservation", a->memory_reservation, true, &m->reservation) ||
      set_i64("kernel-memory", a->kernel_memory, true, &m->kernel) ||
      set_i64("kernel-memory-tcp", a->kernel_memory_tcp, true, &m->kernel_tcp))
    return 1;
  return 0;
}

static int fill_cpu(const struct update_args *a, struct oci_resources *r) {
  if (!a->cpu_period && !a->cpu_quota && !a->cpu_shares && !a->cpu_rt_period &&
      !a->cpu_rt_runtime && !a->cpuset_cpus && !a->cpuset_mems)
    return 0;
  struct oci_cpu *c = r->cpu = oci_xmalloc0(sizeof(*c));
  if (set_u64("cpu-period", a->cpu_period, &c->period) ||
      set_i64("cpu-quota", a->cpu_quota, false, &c->quota) ||
      set_u64("cpu-share", a->cpu_shares, &c->shares) ||
      set_u64("cpu-rt-period", a->cpu_rt_period, &c->realtime_period) ||
      set_i64("cpu-rt-runtime", a->cpu_rt_runtime, false, &c->realtime_runtime))
    return 1;
  c->cpus = a->cpuset_cpus ? oci_xstrdup(a->cpuset_cpus) : NULL;
  c->mems = a->cpuset_mems ? oci_xstrdup(a->cpuset_mems) : NULL;
  return 0;
}

static int fill_blkio(const struct update_args *a, struct oci_resources *r) {
  if (a->blkio_weight == NULL)
    return 0;
  oci_opt_u64 w = {0};
  if (set_u64("blkio-weight", a->blkio_weight, &w) != 0)
    return 1;
  if (w.v > UINT16_MAX)
    return BAD_VALUE("blkio-weight", a->blkio_weight, "a weight from 10 to 1000");
  r->block_io = oci_xmalloc0(sizeof(*r->block_io));
  r->block_io->weight = (oci_opt_u32){.set = true, .v = (uint32_t)w.v};
  return 0;
}

/* The resources from the command-line options. */
static int resources_from_options(const struct update_args *a, struct oci_resources **out) {
  if (a->l3_cache_schema || a->mem_bw_schema)
    return cli_usage_error(&cli_update, "--%s: Intel RDT is not supported",
                           a->l3_cache_schema ? "l3-cache-schema" : "mem-bw-schema");
  struct oci_resources *r = *out = oci_xmalloc0(sizeof(*r));
  if (fill_memory(a, r) || fill_cpu(a, r) || fill_blkio(a, r) ||
      set_i64("pids-limit", a->pids_limit, false, &r->pids_limit))
    return 1;
  return 0;
}

/* -r FILE / -r - (containerd pipes the JSON in). */
static int resources_from_file(const char *path, struct oci_resources **out, oci_error *err) {
  _cleanup_free_ char *json = NULL;
  size_t len = 0;
  bool is_stdin = strcmp(path, "-") == 0;
  int r = is_stdin ? oci_read_fd(STDIN_FILENO, &json, &len, err)
                   : oci_read_file(path, &json, &len, err);
  if (r < 0)
    return oci_error_wrap(err, "update: read --resources");
  return oci_resources_parse(json, len, is_stdin ? "<stdin>" : path, out, err);
}

static int update_main(struct cli_global *g, int argc, char **argv) {
  struct update_args a = {0};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_update, argc, argv, &a, &args, &status))
    return status;
  struct oci_resources *res = NULL;
  oci_error err = {0};
  if (a.resources) {
    if (resources_from_file(a.resources, &res, &err) < 0)
      return cli_fail(&err);
  } else if (resources_from_options(&a, &res) != 0) {
    oci_resources_free(res);
    return 1;
  }
  int r = oci_container_update(&g->ctx, args.v[0], res, &err);
  oci_resources_free(res);
  return r < 0 ? cli_fail(&err) : 0;
}

const struct cli_command cli_update = {
    .name = "update",
    .summary = "update container resource constraints",
    .args_usage = "<container-id>",
    .description = "The update command changes the cgroup limits of a container. Only the\n"
                   "given values change. With --resources the limits come from a JSON\n"
                   "object in the format of config.json's linux.resources, for example:\n"
                   "  {\"memory\": {\"limit\": 536870912}, \"cpu\": {\"shares\": 512},\n"
                   "   \"pids\": {\"limit\": 100}}",
    .options = update_options,
    .n_options = OCI_ARRAY_SIZE(update_options),
    .min_args = 1,
    .max_args = 1,
    .run = update_main,
};
