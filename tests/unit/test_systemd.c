/* Unit tests for the systemd cgroup driver's pure parts
 * (libcontainer/cgroup-systemd.c): cgroupsPath "slice:prefix:name", slice
 * expansion, resources as unit properties, device rules as DeviceAllow,
 * and the state round trip. The driver against a real systemd is tested
 * in the VM (tests/vm/systemd.bats). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../libcontainer/cgroup-internal.h"
#include "../../libcontainer/systemd-bus.h"
#include "ocirun/utils.h"

static void check_path(const char *path, bool user, const char *slice, const char *unit) {
  char *s = NULL, *u = NULL;
  oci_error err = {0};
  int r = oci_cg_systemd_parse_path(path, "c1", user, &s, &u, &err);
  if (r < 0)
    fail_msg("%s: %s", path ? path : "(null)", err.msg);
  assert_string_equal(s, slice);
  assert_string_equal(u, unit);
  free(s);
  free(u);
}

static void check_path_error(const char *path, const char *want) {
  char *s = NULL, *u = NULL;
  oci_error err = {0};
  assert_int_equal(oci_cg_systemd_parse_path(path, "c1", false, &s, &u, &err), -1);
  if (strstr(err.msg, want) == NULL || strstr(err.msg, "linux.cgroupsPath") == NULL)
    fail_msg("%s: got \"%s\", want \"%s\"", path, err.msg, want);
}

static void test_parse_path(void **state) {
  (void)state;
  check_path("machine.slice:libpod:abc", false, "machine.slice", "libpod-abc.scope");
  check_path("system.slice:cri-containerd:x1", false, "system.slice", "cri-containerd-x1.scope");
  check_path("kubepods-burstable-pod12.slice:cri-containerd:x1", false,
             "kubepods-burstable-pod12.slice", "cri-containerd-x1.scope");
  check_path(":libpod:abc", false, "system.slice", "libpod-abc.scope");   /* runc's default slice */
  check_path("a.slice::abc", false, "a.slice", "abc.scope");             /* no prefix */
  check_path("a.slice:p:a-b.slice", false, "a.slice", "a-b.slice");      /* a slice of its own */
  check_path(NULL, false, "system.slice", "ocirun-c1.scope");
  check_path("", true, "user.slice", "ocirun-c1.scope");
  check_path_error("/machine/c1", "expects \"slice:prefix:name\"");
  check_path_error("a.slice:b", "expects \"slice:prefix:name\"");
  check_path_error("a.slice:b:c:d", "expects \"slice:prefix:name\"");
  check_path_error("machine:libpod:abc", "ends in \".slice\"");
  check_path_error("a--b.slice:p:c", "no empty part");
  check_path_error("-a.slice:p:c", "no empty part");
  check_path_error("a/b.slice:p:c", "letters, digits");
  check_path_error("a.slice:p:", "name part is empty");
  check_path_error("a.slice:p:x y", "character systemd refuses");
}

static void check_expand(const char *slice, const char *want) {
  char *out = NULL;
  oci_error err = {0};
  assert_int_equal(oci_cg_systemd_expand_slice(slice, &out, &err), 0);
  assert_string_equal(out, want);
  free(out);
}

static void test_expand_slice(void **state) {
  (void)state;
  check_expand("-.slice", "/");
  check_expand("system.slice", "/system.slice");
  check_expand("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice");
  check_expand("kubepods-besteffort.slice", "/kubepods.slice/kubepods-besteffort.slice");
  char *out = NULL;
  oci_error err = {0};
  assert_int_equal(oci_cg_systemd_expand_slice("a-.slice", &out, &err), -1);
  assert_int_equal(oci_cg_systemd_expand_slice(".slice", &out, &err), -1);
  assert_int_equal(oci_cg_systemd_expand_slice("a.scope", &out, &err), -1);
}

static void test_cpuset_mask(void **state) {
  (void)state;
  uint8_t *m = NULL;
  size_t n = 0;
  oci_error err = {0};
  assert_int_equal(oci_cg_cpuset_mask("0-3,8", &m, &n, "cpus", &err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(m[0], 0x0f);
  assert_int_equal(m[1], 0x01);
  free(m);
  assert_int_equal(oci_cg_cpuset_mask("1", &m, &n, "cpus", &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(m[0], 0x02);
  free(m);
  assert_int_equal(oci_cg_cpuset_mask("3-1", &m, &n, "linux.resources.cpu.cpus", &err), -1);
  assert_non_null(strstr(err.msg, "linux.resources.cpu.cpus: \"3-1\""));
  assert_int_equal(oci_cg_cpuset_mask("a", &m, &n, "x", &err), -1);
}

static void test_quota_per_sec(void **state) {
  (void)state;
  assert_int_equal(oci_cg_systemd_quota_per_sec(50000, 100000), 500000);
  assert_int_equal(oci_cg_systemd_quota_per_sec(12345, 100000), 130000); /* 12.345% -> 13% */
  assert_int_equal(oci_cg_systemd_quota_per_sec(20000, 0), 200000);      /* default period */
  assert_true(oci_cg_systemd_quota_per_sec(-1, 100000) == UINT64_MAX);
}

static uint64_t prop_u64(const struct sd_props *p, const char *name) {
  const struct sd_prop *q = oci_sd_props_find(p, name);
  if (q == NULL)
    fail_msg("no property %s", name);
  assert_int_equal(q->type, SD_PROP_U64);
  return q->u64;
}

static void test_resource_props_v2(void **state) {
  (void)state;
  struct oci_memory mem = {.limit = {true, 64 << 20}, .reservation = {true, 32 << 20},
                           .swap = {true, 128 << 20}};
  struct oci_cpu cpu = {.shares = {true, 1024}, .quota = {true, 50000}, .period = {true, 100000},
                        .cpus = (char *)"0-1", .mems = (char *)"0"};
  struct oci_blkio bio = {.weight = {true, 500}};
  struct oci_kv unified[] = {{(char *)"memory.high", (char *)"100000000"},
                             {(char *)"pids.max", (char *)"max"}};
  struct oci_resources r = {.memory = &mem, .cpu = &cpu, .pids_limit = {true, 20},
                            .block_io = &bio, .unified = unified, .n_unified = 2};
  struct sd_props p = {0};
  oci_error err = {0};
  assert_int_equal(oci_cg_systemd_resource_props(&r, true, &p, &err), 0);
  assert_int_equal(prop_u64(&p, "MemoryMax"), 64 << 20);
  assert_int_equal(prop_u64(&p, "MemoryLow"), 32 << 20);
  assert_int_equal(prop_u64(&p, "MemorySwapMax"), 64 << 20); /* swap - limit */
  assert_int_equal(prop_u64(&p, "CPUWeight"), 39);
  assert_int_equal(prop_u64(&p, "CPUQuotaPerSecUSec"), 500000);
  assert_int_equal(prop_u64(&p, "CPUQuotaPeriodUSec"), 100000);
  assert_int_equal(prop_u64(&p, "IOWeight"), 4950);
  assert_int_equal(prop_u64(&p, "MemoryHigh"), 100000000);
  assert_true(prop_u64(&p, "TasksMax") == UINT64_MAX); /* unified pids.max wins */
  const struct sd_prop *cpus = oci_sd_props_find(&p, "AllowedCPUs");
  assert_non_null(cpus);
  assert_int_equal(cpus->n_bytes, 1);
  assert_int_equal(cpus->bytes[0], 0x03);
  assert_non_null(oci_sd_props_find(&p, "AllowedMemoryNodes"));
  oci_sd_props_free(&p);

  /* -1 is "no limit"; 0 is "not set", as runc reads them */
  mem = (struct oci_memory){.limit = {true, -1}};
  struct oci_resources r2 = {.memory = &mem, .pids_limit = {true, 0}};
  assert_int_equal(oci_cg_systemd_resource_props(&r2, true, &p, &err), 0);
  assert_true(prop_u64(&p, "MemoryMax") == UINT64_MAX);
  assert_null(oci_sd_props_find(&p, "TasksMax"));
  oci_sd_props_free(&p);

  /* swap below the limit is refused, naming the field */
  mem = (struct oci_memory){.limit = {true, 100}, .swap = {true, 50}};
  assert_int_equal(oci_cg_systemd_resource_props(&r2, true, &p, &err), -1);
  assert_non_null(strstr(err.msg, "linux.resources.memory.swap"));
  oci_sd_props_free(&p);
}

static void test_resource_props_v1(void **state) {
  (void)state;
  struct oci_memory mem = {.limit = {true, 64 << 20}, .reservation = {true, 1}};
  struct oci_cpu cpu = {.shares = {true, 512}, .cpus = (char *)"0"};
  struct oci_blkio bio = {.weight = {true, 500}};
  struct oci_resources r = {.memory = &mem, .cpu = &cpu, .block_io = &bio};
  struct sd_props p = {0};
  oci_error err = {0};
  assert_int_equal(oci_cg_systemd_resource_props(&r, false, &p, &err), 0);
  assert_int_equal(prop_u64(&p, "MemoryLimit"), 64 << 20);
  assert_int_equal(prop_u64(&p, "CPUShares"), 512);
  assert_int_equal(prop_u64(&p, "BlockIOWeight"), 500);
  assert_null(oci_sd_props_find(&p, "MemoryMax"));
  assert_null(oci_sd_props_find(&p, "MemoryLow"));
  assert_null(oci_sd_props_find(&p, "AllowedCPUs")); /* no cpuset property on v1 */
  oci_sd_props_free(&p);
}

static void test_device_props(void **state) {
  (void)state;
  const char *proc_devices = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n";
  struct oci_device_rule rules[] = {
      {.allow = false, .type = 'a', .access = (char *)"rwm"},
      {.allow = true, .type = 'c', .major = {true, 1}, .minor = {true, 3}, .access = (char *)"rwm"},
      {.allow = true, .type = 'c', .major = {true, 136}, .access = (char *)"rw"},
      {.allow = true, .type = 'b', .access = (char *)"m"},
      {.allow = true, .type = 'c', .major = {true, 250}, .access = (char *)"rw"}, /* unknown */
  };
  struct sd_props p = {0};
  oci_cg_systemd_device_props(rules, OCI_ARRAY_SIZE(rules), proc_devices, &p);
  const struct sd_prop *pol = oci_sd_props_find(&p, "DevicePolicy");
  assert_string_equal(pol->s, "strict");
  const struct sd_prop *allow = oci_sd_props_find(&p, "DeviceAllow");
  assert_int_equal(allow->n_devices, 3);
  assert_string_equal(allow->devices[0].path, "/dev/char/1:3");
  assert_string_equal(allow->devices[0].access, "rwm");
  assert_string_equal(allow->devices[1].path, "char-pts");
  assert_string_equal(allow->devices[1].access, "rw");
  assert_string_equal(allow->devices[2].path, "block-*");
  oci_sd_props_free(&p);

  /* allow everything: systemd's "auto" with an empty list */
  struct oci_device_rule all[] = {{.allow = true, .type = 'a', .access = (char *)"rwm"}};
  oci_cg_systemd_device_props(all, 1, proc_devices, &p);
  assert_string_equal(oci_sd_props_find(&p, "DevicePolicy")->s, "auto");
  assert_int_equal(oci_sd_props_find(&p, "DeviceAllow")->n_devices, 0);
  oci_sd_props_free(&p);
}

static void test_save_load_systemd(void **state) {
  (void)state;
  const char *saved =
      "{\"mode\":\"v2\",\"v1\":[],\"v2\":{\"controllers\":\"\",\"mount\":\"/sys/fs/cgroup\","
      "\"path\":\"/machine.slice/libpod-a.scope\",\"dir\":\"/sys/fs/cgroup/machine.slice/"
      "libpod-a.scope\"},\"systemd\":{\"unit\":\"libpod-a.scope\",\"slice\":\"machine.slice\","
      "\"user\":false}}";
  struct oci_cgroup *cg = NULL;
  oci_error err = {0};
  assert_int_equal(oci_cgroup_load(saved, &cg, &err), 0);
  assert_non_null(cg->sd);
  assert_string_equal(cg->sd->unit, "libpod-a.scope");
  assert_string_equal(cg->sd->slice, "machine.slice");
  assert_false(cg->sd->user);
  char *again = oci_cgroup_save(cg);
  assert_string_equal(again, saved);
  free(again);
  oci_cgroup_free(cg);
  assert_int_equal(oci_cgroup_load("{\"mode\":\"v2\",\"v2\":{\"controllers\":\"\",\"mount\":\"/m\","
                                   "\"path\":\"/a\",\"dir\":\"/m/a\"},\"systemd\":{}}",
                                   &cg, &err),
                   -1);
  assert_non_null(strstr(err.msg, "systemd needs unit and slice"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_path),        cmocka_unit_test(test_expand_slice),
      cmocka_unit_test(test_cpuset_mask),       cmocka_unit_test(test_quota_per_sec),
      cmocka_unit_test(test_resource_props_v2), cmocka_unit_test(test_resource_props_v1),
      cmocka_unit_test(test_device_props),      cmocka_unit_test(test_save_load_systemd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
