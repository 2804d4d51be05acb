#!/bin/bash
# tests/cgroupv2.sh — the cgroup tests on a pure cgroup v2 machine.
#
#   tests/cgroupv2.sh /path/to/build/ocirun      (what `make check-v2` runs)
#
# This host is hybrid, so the v2 driver (controllers, eBPF devices,
# cgroup.freeze, cgroup.kill, memory.events) is only exercised inside the
# throwaway QEMU VM of /work/shared/v2vm (cgroup2 only, every controller).
# Build on the host first; the VM sees the host's files read-only (the build
# dir read-write). Slow: ~7 s per VM start, processes ~30x slower.
#
# Runs, inside one VM: the cgroup unit test (tests/unit/test_cgroup, built
# by `make check` or `make tests/unit/test_cgroup`), then
# tests/integration/cgroups.bats against $1 (the VM must see both: not
# under the host's /tmp, which the guest does not share).
# Exit status: 0 when everything passed, else the failing step's status.
set -euo pipefail

OCIRUN=${1:?usage: $0 /path/to/ocirun}
OCIRUN=$(realpath "$OCIRUN")
BUILDDIR=$(dirname "$OCIRUN")
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
V2VM=${V2VM:-/work/shared/v2vm/run-in-v2vm.sh}
UNIT=$BUILDDIR/tests/unit/test_cgroup
BATS_FILE=$SRCDIR/tests/integration/cgroups.bats

if [ ! -x "$UNIT" ]; then
  make -C "$BUILDDIR" tests/unit/test_cgroup >/dev/null
fi
[ -x "$V2VM" ] || { echo "cgroupv2.sh: $V2VM not found" >&2; exit 125; }

# One script for the guest: say where we are, then run each step.
inner=$(mktemp "$BUILDDIR/.cgroupv2-inner.XXXXXX")
trap 'rm -f "$inner"' EXIT
cat >"$inner" <<EOF
#!/bin/sh
set -e
fs=\$(stat -fc %T /sys/fs/cgroup)
echo "v2vm: /sys/fs/cgroup is \$fs; \$(cat /proc/self/cgroup)"
[ "\$fs" = cgroup2fs ] || { echo "v2vm: not cgroup v2" >&2; exit 1; }
echo "== unit: $UNIT"
"$UNIT"
if [ ! -f "$BATS_FILE" ] || ! command -v bats >/dev/null; then
  # The guest sees the host's files, but not its /tmp: a checkout there
  # would silently lose the integration half of this test.
  echo "v2vm: $BATS_FILE or bats is not visible in the VM (a source tree under /tmp?)" >&2
  exit 1
fi
echo "== bats: $BATS_FILE"
OCIRUN="$OCIRUN" bats "$BATS_FILE"
EOF
chmod +x "$inner"

"$V2VM" "$BUILDDIR" "$inner"
