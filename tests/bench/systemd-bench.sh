#!/bin/bash
# tests/bench/systemd-bench.sh [OCIRUN_BINARY] — the cost of the systemd
# cgroup driver, beside crun's and runc's, on a systemd host.
#
# Run it where systemd is PID 1 (`make bench-systemd` boots the project's
# systemd VM for it: tests/vm/run-vm.sh --mode systemd). Under QEMU's
# software emulation only ratios mean something. Each round runs, in a new
# random order, `run ID` of a busybox bundle whose process is /bin/true with:
#   ocirun-sd   ocirun --systemd-cgroup          (a transient scope)
#   crun-sd     crun --cgroup-manager=systemd
#   runc-sd     runc --systemd-cgroup
#   ocirun-fs   ocirun with its cgroupfs driver  (the same work minus systemd)
#   crun-fs     crun with its cgroupfs driver    (likewise for crun)
# and prints a markdown table of medians (ms), the ratios asked of ocirun,
# and, from ocirun's --debug log, where its systemd time goes: connecting
# (dlopen of libsystemd + the private socket), StartTransientUnit with its
# job, and StopUnit at delete.
# Env: BENCH_RUNS (rounds, default 15).
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${BENCH_RUNS:-15}
OCIRUN_BIN=$(realpath "${1:-${OCIRUN:-$SRCDIR/ocirun}}")

die() { echo "systemd-bench.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -d /run/systemd/system ] || die "systemd is not running here (run it through make bench-systemd)"
[ -x "$OCIRUN_BIN" ] || die "no ocirun binary at $OCIRUN_BIN"
for t in runc crun jq shuf; do command -v "$t" >/dev/null || die "$t not found"; done

WORK=$(mktemp -d /tmp/ocirun-sdbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# The config of bench.sh: `runc spec` (crun 1.8 refuses ociVersion 1.2's).
"$SRCDIR/tests/make-bundle.sh" --rootfs-only "$WORK/bundle" >/dev/null || die "make-bundle.sh failed"
(cd "$WORK/bundle" && runc spec) || die "runc spec failed"
jq '.process.args = ["/bin/true"] | .process.terminal = false | del(.linux.cgroupsPath)' \
	"$WORK/bundle/config.json" >"$WORK/c.json" && mv "$WORK/c.json" "$WORK/bundle/config.json"
mkdir -p "$WORK"/state/{ocirun-sd,crun-sd,runc-sd,ocirun-fs,crun-fs}
# Every runtime from local storage, as installed on a real host: crun and
# runc come from the page-cached root, while OCIRUN_BIN may lie on a share
# (the VM's build directory is 9p with cache=mmap, read again from the
# host at every exec: 70-100 ms more a run, measured on 2026-12-02).
install -m 0755 "$OCIRUN_BIN" "$WORK/ocirun" || die "cannot copy $OCIRUN_BIN"
OCIRUN_BIN=$WORK/ocirun

cmd_of() { # NAME -> the runtime command line (without the id)
	case $1 in
	ocirun-sd) echo "$OCIRUN_BIN --root $WORK/state/ocirun-sd --systemd-cgroup" ;;
	crun-sd) echo "crun --root $WORK/state/crun-sd --cgroup-manager=systemd" ;;
	runc-sd) echo "runc --root $WORK/state/runc-sd --systemd-cgroup" ;;
	ocirun-fs) echo "$OCIRUN_BIN --root $WORK/state/ocirun-fs" ;;
	crun-fs) echo "crun --root $WORK/state/crun-fs --cgroup-manager=cgroupfs" ;;
	esac
}


NAMES=(ocirun-sd crun-sd runc-sd ocirun-fs crun-fs)
cd "$WORK/bundle"
# one unmeasured run each: page cache, systemd's first slice activation
for n in "${NAMES[@]}"; do $(cmd_of "$n") run "warm-$n" >/dev/null 2>&1 || die "$n cannot run a container"; done
for ((r = 0; r < RUNS; r++)); do
	for n in $(printf '%s\n' "${NAMES[@]}" | shuf); do
		cmd=$(cmd_of "$n")
		# bash's own clock: forking date (and awk) around each run would
		# add ~100 ms under emulation to every runtime alike and flatten
		# the ratios.
		t0=${EPOCHREALTIME/./}
		$cmd run "b$r-$n" >/dev/null 2>&1 || echo "round $r: $n failed" >&2
		t1=${EPOCHREALTIME/./}
		echo "$(((t1 - t0) / 1000)).$(printf %03d $(((t1 - t0) % 1000)))" >>"$WORK/$n.ms"
	done
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A M
for n in "${NAMES[@]}"; do M[$n]=$(median "$WORK/$n.ms"); done

# Where ocirun's systemd time goes: its own --debug timings of a few runs.
for ((r = 0; r < 5; r++)); do
	$(cmd_of ocirun-sd) --debug run "d$r" 2>&1 >/dev/null | grep -E 'systemd: (started|stopped)'
done >"$WORK/debug.log"
connect=$(sed -nE 's/.*connect ([0-9]+) us.*/\1/p' "$WORK/debug.log" >"$WORK/c" && median "$WORK/c")
start=$(sed -nE 's/.*start and job ([0-9]+) us.*/\1/p' "$WORK/debug.log" >"$WORK/s" && median "$WORK/s")
stop=$(sed -nE 's/.*stopped .* \(([0-9]+) us\).*/\1/p' "$WORK/debug.log" >"$WORK/t" && median "$WORK/t")

echo "| run /bin/true, median of $RUNS (ms) | ocirun --systemd-cgroup | crun systemd | runc systemd | ocirun cgroupfs | crun cgroupfs |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| $(uname -r), $(nproc) CPUs | ${M[ocirun-sd]} | ${M[crun-sd]} | ${M[runc-sd]} | ${M[ocirun-fs]} | ${M[crun-fs]} |"
echo
awk -v o="${M[ocirun-sd]}" -v c="${M[crun-sd]}" -v r="${M[runc-sd]}" -v f="${M[ocirun-fs]}" -v cf="${M[crun-fs]}" 'BEGIN {
	printf "ocirun/crun (systemd): %.2f   ocirun/runc (systemd): %.2f   systemd over cgroupfs: ocirun %+.1f ms, crun %+.1f ms\n", o / c, o / r, o - f, c - cf }'
echo "ocirun's systemd steps (median of 5, us): connect (dlopen + private socket) $connect, StartTransientUnit + job $start, StopUnit + job $stop"
