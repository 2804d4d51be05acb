/* ocirun — libFuzzer target for config.json: the parser (config.c and
 * config-json.c) and every check create runs before it touches the host
 * (capabilities, the checks across fields, the seccomp profile compiled to
 * BPF). The input is the bytes of a config.json; the same bytes also go
 * through the process.json grammar of `exec --process` and the resources
 * JSON of `update --resources`, which share the parser's typed reads.
 *
 * A crash, an ASan/UBSan report, a leak (LSan, libFuzzer's -detect_leaks)
 * or an input taking longer than fuzz.sh's -timeout is a finding; each one
 * becomes a file in tests/fuzz/regressions/, replayed by tests/fuzz/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>

#include "ocirun/caps.h"
#include "ocirun/config.h"
#include "ocirun/error.h"
#include "ocirun/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What create's validate_config() asks of a parsed config, minus the
 * checks that need its command-line options. */
static void validate(const struct oci_config *cfg) {
  oci_error err = {0};
  if (cfg->process && cfg->process->capabilities &&
      oci_caps_validate(cfg->process->capabilities, "process.capabilities", &err) < 0)
    return;
  if (oci_config_validate(cfg, &err) < 0)
    return;
  struct oci_seccomp_filter *filter = NULL;
  if (cfg->linux_ && cfg->linux_->seccomp &&
      oci_seccomp_prepare(cfg->linux_->seccomp, &filter, &err) == 0)
    oci_seccomp_filter_free(filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *json = (const char *)data;
  oci_error err = {0};
  struct oci_config *cfg = NULL;
  if (oci_config_parse(json, size, "config.json", &cfg, &err) == 0) {
    validate(cfg);
    oci_config_free(cfg);
  }
  struct oci_process *p = NULL;
  if (oci_process_parse(json, size, "process.json", &p, &err) == 0)
    oci_process_free(p);
  struct oci_resources *r = NULL;
  if (oci_resources_parse(json, size, "resources", &r, &err) == 0)
    oci_resources_free(r);
  return 0;
}
