/* ocirun — talking to systemd's manager over D-Bus (systemd-bus.c), for the
 * systemd cgroup driver (cgroup-systemd.c). Not for other modules.
 *
 * The unit properties are described here as plain data, so that the code
 * deciding them (cgroup-systemd.c) is pure and unit-tested, and only
 * systemd-bus.c knows sd-bus. */
#ifndef OCIRUN_SYSTEMD_BUS_H
#define OCIRUN_SYSTEMD_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocirun/error.h"

enum sd_prop_type {
  SD_PROP_U64,      /* "t" */
  SD_PROP_BOOL,     /* "b" */
  SD_PROP_STR,      /* "s" */
  SD_PROP_BYTES,    /* "ay": a CPU or NUMA node bitmask */
  SD_PROP_PIDS,     /* "au" */
  SD_PROP_DEVICES,  /* "a(ss)": DeviceAllow= entries */
};

struct sd_device_allow {
  char *path;    /* "/dev/char/1:3", "char-pts", "block-*" */
  char access[4];
};

struct sd_prop {
  const char *name;  /* a static string: "MemoryMax" */
  enum sd_prop_type type;
  uint64_t u64;
  bool b;
  char *s;
  uint8_t *bytes;
  size_t n_bytes;
  uint32_t *pids;
  size_t n_pids;
  struct sd_device_allow *devices;
  size_t n_devices;
};

struct sd_props {
  struct sd_prop *v;
  size_t n;
};

void oci_sd_props_free(struct sd_props *p);
struct sd_prop *oci_sd_props_add(struct sd_props *p, const char *name, enum sd_prop_type type);
const struct sd_prop *oci_sd_props_find(const struct sd_props *p, const char *name);

struct oci_sdbus;

/* Is libsystemd loadable here? (features) */
bool oci_sdbus_available(void);
/* Connect to the system manager (user = false) or to the caller's
 * `systemd --user`: its private socket when we may use it (no bus daemon
 * in between, no Hello round trip), else the system/session bus. */
int oci_sdbus_open(bool user, struct oci_sdbus **out, oci_error *err);
void oci_sdbus_close(struct oci_sdbus *bus);
/* Start connecting, as oci_sdbus_open(user) will, in a thread of its own;
 * the next oci_sdbus_open(user) takes that connection. The process must
 * call oci_sdbus_preconnect_join() before it forks or clones. */
void oci_sdbus_preconnect(bool user);
void oci_sdbus_preconnect_join(void);
/* StartTransientUnit(unit, "fail", props) and wait until its job is done.
 * A failed unit of that name left from an earlier run is reset first. */
int oci_sdbus_start_unit(struct oci_sdbus *bus, const char *unit, const struct sd_props *props,
                         oci_error *err);
/* SetUnitProperties(unit, runtime = true, props). */
int oci_sdbus_set_properties(struct oci_sdbus *bus, const char *unit,
                             const struct sd_props *props, oci_error *err);
/* StopUnit(unit, "replace"), wait for the job, and forget a failed result.
 * A unit systemd no longer knows is not an error. */
int oci_sdbus_stop_unit(struct oci_sdbus *bus, const char *unit, oci_error *err);
/* The manager's own cgroup ("/" for the system manager, ".../user@UID.service"
 * for a user's). */
int oci_sdbus_manager_cgroup(struct oci_sdbus *bus, char **out, oci_error *err);

#endif
