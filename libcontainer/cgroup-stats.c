/* ocirun — the stats object `events` prints, in runc's JSON shape, filled
 * by the v1 and v2 drivers from their own files. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "config-json.h"
#include "cgroup-internal.h"
#include "ocirun/utils.h"

void oci_cg_stats_clear(struct cg_stats *s) {
  free(s->percpu);
  for (size_t i = 0; i < s->n_raw; i++)
    free(s->raw[i].key);
  free(s->raw);
  free(s->io_service_bytes.v);
  free(s->io_serviced.v);
  free(s->hugetlb);
  memset(s, 0, sizeof(*s));
}

void oci_cg_blkio_add(struct cg_blkio_list *l, uint64_t major, uint64_t minor,
                      const char *op, uint64_t value) {
  l->v = oci_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
  struct cg_blkio_entry *e = &l->v[l->n++];
  e->major = major;
  e->minor = minor;
  e->value = value;
  snprintf(e->op, sizeof(e->op), "%s", op);
}

void oci_cg_stats_read_raw(struct cg_stats *s, const char *dir, const char *file) {
  _cleanup_free_ char *text = NULL;
  if (oci_cg_read(dir, file, &text, NULL) < 0)
    return;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char key[128];
    uint64_t v;
    if (sscanf(line, "%127s %" SCNu64, key, &v) != 2)
      continue;
    s->raw = oci_xrealloc(s->raw, (s->n_raw + 1) * sizeof(*s->raw));
    s->raw[s->n_raw].key = oci_xstrdup(key);
    s->raw[s->n_raw++].value = v;
  }
}

/* "hugepages-2048kB" → "2MB", as hugetlb.<size>.* files are named. */
static void page_size_name(unsigned long kb, char out[16]) {
  if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
    snprintf(out, 16, "%luGB", kb / (1024 * 1024));
  else if (kb >= 1024 && kb % 1024 == 0)
    snprintf(out, 16, "%luMB", kb / 1024);
  else
    snprintf(out, 16, "%luKB", kb);
}

size_t oci_cg_hugepage_sizes(char sizes[][16], size_t max) {
  DIR *d = opendir("/sys/kernel/mm/hugepages");
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *de;
  while (n < max && (de = readdir(d)) != NULL) {
    unsigned long kb;
    if (sscanf(de->d_name, "hugepages-%lukB", &kb) == 1)
      page_size_name(kb, sizes[n++]);
  }
  closedir(d);
  return n;
}

/* ---- JSON --------------------------------------------------------------- */

static void key(yajl_gen g, const char *k) {
  yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void num(yajl_gen g, const char *k, uint64_t v) {
  key(g, k);
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
  yajl_gen_number(g, buf, (size_t)n);
}

static void gen_mem_entry(yajl_gen g, const char *k, const struct cg_mem_entry *e) {
  key(g, k);
  yajl_gen_map_open(g);
  num(g, "limit", e->limit);
  num(g, "usage", e->usage);
  num(g, "max", e->max);
  num(g, "failcnt", e->failcnt);
  yajl_gen_map_close(g);
}

static void gen_cpu(yajl_gen g, const struct cg_stats *s) {
  key(g, "cpu");
  yajl_gen_map_open(g);
  key(g, "usage");
  yajl_gen_map_open(g);
  num(g, "total", s->cpu_total);
  key(g, "percpu");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < s->n_percpu; i++) {
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, s->percpu[i]);
    yajl_gen_number(g, buf, (size_t)n);
  }
  yajl_gen_array_close(g);
  num(g, "kernel", s->cpu_kernel);
  num(g, "user", s->cpu_user);
  yajl_gen_map_close(g);
  key(g, "throttling");
  yajl_gen_map_open(g);
  num(g, "periods", s->periods);
  num(g, "throttledPeriods", s->throttled_periods);
  num(g, "throttledTime", s->throttled_time);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
}

static void gen_memory(yajl_gen g, const struct cg_stats *s) {
  key(g, "memory");
  yajl_gen_map_open(g);
  num(g, "cache", s->cache);
  gen_mem_entry(g, "usage", &s->mem);
  gen_mem_entry(g, "swap", &s->swap);
  gen_mem_entry(g, "kernel", &s->kernel);
  gen_mem_entry(g, "kernelTCP", &s->kernel_tcp);
  key(g, "raw");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < s->n_raw; i++)
    num(g, s->raw[i].key, s->raw[i].value);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *k, const struct cg_blkio_list *l) {
  key(g, k);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < l->n; i++) {
    yajl_gen_map_open(g);
    num(g, "major", l->v[i].major);
    num(g, "minor", l->v[i].minor);
    key(g, "op");
    key(g, l->v[i].op);
    num(g, "value", l->v[i].value);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_hugetlb(yajl_gen g, const struct cg_stats *s) {
  key(g, "hugetlb");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < s->n_hugetlb; i++) {
    key(g, s->hugetlb[i].size);
    yajl_gen_map_open(g);
    num(g, "usage", s->hugetlb[i].usage);
    num(g, "max", s->hugetlb[i].max);
    num(g, "failcnt", s->hugetlb[i].failcnt);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

char *oci_cg_stats_json(const struct cg_stats *s) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  gen_cpu(g, s);
  gen_memory(g, s);
  key(g, "pids");
  yajl_gen_map_open(g);
  num(g, "current", s->pids_current);
  num(g, "limit", s->pids_limit);
  yajl_gen_map_close(g);
  key(g, "blkio");
  yajl_gen_map_open(g);
  gen_blkio_list(g, "ioServiceBytesRecursive", &s->io_service_bytes);
  gen_blkio_list(g, "ioServicedRecursive", &s->io_serviced);
  yajl_gen_map_close(g);
  gen_hugetlb(g, s);
  yajl_gen_map_close(g);
  return j_gen_finish(g);
}
