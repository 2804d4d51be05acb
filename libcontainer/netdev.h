/* ocirun — linux.netDevices: host interfaces moved into the container's
 * network namespace. Private to libcontainer. */
#ifndef OCIRUN_NETDEV_H
#define OCIRUN_NETDEV_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

/* Move every linux.netDevices interface into the network namespace of
 * pid, renamed as asked, with its permanent global addresses, and up. Run
 * by the runtime, in the host's network namespace. */
int oci_netdev_move_all(const struct oci_config *cfg, pid_t pid, oci_error *err);

static inline bool oci_netdev_wanted(const struct oci_config *cfg) {
  return cfg->linux_ != NULL && cfg->linux_->n_net_devices > 0;
}

#endif
