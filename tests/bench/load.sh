#!/bin/bash
# tests/bench/load.sh [OCIRUN_BINARY] — ocirun under load, and what it leaves.
#
#   concurrent  LOAD_CONCURRENT containers (default 50) created at once and
#               started, LOAD_EXECS execs (default 20) at once into the first,
#               then all killed and deleted at once; no command may fail,
#               and every init holds only fds 0-2 meanwhile
#   cycles      LOAD_CYCLES sequential `run` of /bin/true (default 1000)
#   scaling     create, state, list, delete of one more container in an
#               empty --root and in one holding LOAD_CONTAINERS (default
#               1000) created containers, interleaved: median ms of
#               LOAD_SAMPLES (default 9) each
# After each part: nothing left (state dirs, mounts, cgroups, processes
# named after the ids, fds of this shell). Prints the figures, and lines
# "scaling OP EXISTING MEDIAN_MS" for scripts (load.bats); exits non-zero
# when a command failed or something was left.
# Env: LOAD_ROOT (the --root; default a tmpfs of its own), LOAD_PREFIX
# (container ids start with it; default ocirun-load-PID).
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
OCIRUN_BIN=${1:-${OCIRUN:-$SRCDIR/ocirun}}
CONCURRENT=${LOAD_CONCURRENT:-50} EXECS=${LOAD_EXECS:-20} CYCLES=${LOAD_CYCLES:-1000}
CONTAINERS=${LOAD_CONTAINERS:-1000} SAMPLES=${LOAD_SAMPLES:-9}
PREFIX=${LOAD_PREFIX:-ocirun-load-$$}

die() { echo "load.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$OCIRUN_BIN" ] || die "$OCIRUN_BIN: not an executable (give the ocirun binary)"

WORK=$(mktemp -d /tmp/ocirun-load.XXXXXX)
chmod 755 "$WORK"
ROOT=${LOAD_ROOT:-} ROOT_MOUNTED=
if [ -z "$ROOT" ]; then
	# as on a real host, where /run is a tmpfs
	ROOT=$WORK/state
	mkdir "$ROOT" && mount -t tmpfs -o mode=700 ocirun-load "$ROOT" && ROOT_MOUNTED=1
fi
cleanup() {
	local id
	for id in $(oci list -q 2>/dev/null); do oci delete --force "$id" >/dev/null 2>&1; done
	[ -n "$ROOT_MOUNTED" ] && umount -l "$ROOT"
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

oci_at() { # ROOT ARGS...
	local root=$1
	shift
	timeout --kill-after=5 60 "$OCIRUN_BIN" --root "$root" "$@" </dev/null 3>&-
}
oci() { oci_at "$ROOT" "$@"; }
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); } # bash 5: no fork
errors=0
failed() { echo "load.sh: FAILED: $*" >&2; errors=$((errors + 1)); }

"$SRCDIR/tests/make-bundle.sh" "$WORK/sleep" -- sleep 600 >/dev/null || die "make-bundle.sh failed"
"$SRCDIR/tests/make-bundle.sh" --rootfs "$WORK/sleep/rootfs" "$WORK/true" -- true >/dev/null ||
	die "make-bundle.sh failed"
for b in sleep true; do
	jq '.process.terminal = false' "$WORK/$b/config.json" >"$WORK/c" && mv "$WORK/c" "$WORK/$b/config.json"
done
FDS_BEFORE=$(ls /proc/$$/fd | wc -l)

# leftovers: what is left of the containers named PREFIX*
leftovers() {
	ls -A "$ROOT"
	awk -v p="$PREFIX" 'index($0, p) { print "mount " $5 }' /proc/self/mountinfo
	find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "*$PREFIX*" 2>/dev/null
	grep -l -- "$PREFIX" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 |
		while read -r p; do [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "process $p"; done
	local fds
	fds=$(ls /proc/$$/fd | wc -l)
	[ "$fds" -le "$FDS_BEFORE" ] || echo "fds of this shell: $FDS_BEFORE before, $fds now"
}
check_nothing_left() { # PART
	local left i
	for ((i = 0; i < 40; i++)); do
		left=$(leftovers)
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	failed "$1 left behind: $(tr '\n' ' ' <<<"$left")"
}

# in_parallel OUT CMD...: CMD in the background, its status into OUT.
in_parallel() {
	local out=$1
	shift
	{ "$@" >"$out.log" 2>&1; echo $? >"$out"; } &
}
wait_all_ok() { # WHAT DIR
	wait
	local f bad=0
	for f in "$2"/*; do
		case "$f" in *.log) continue ;; esac
		[ "$(cat "$f")" = 0 ] || { bad=$((bad + 1)); sed 's/^/    /' "$f.log" >&2; }
	done
	[ "$bad" = 0 ] || failed "$1: $bad command(s) failed"
}

concurrent() {
	local d=$WORK/par i t0 id pid
	t0=$(now_ms)
	mkdir -p "$d/create" "$d/start" "$d/exec" "$d/kill" "$d/delete"
	for ((i = 0; i < CONCURRENT; i++)); do
		in_parallel "$d/create/$i" oci create --bundle "$WORK/sleep" "$PREFIX-c$i"
	done
	wait_all_ok "create x$CONCURRENT" "$d/create"
	for ((i = 0; i < CONCURRENT; i++)); do in_parallel "$d/start/$i" oci start "$PREFIX-c$i"; done
	wait_all_ok "start x$CONCURRENT" "$d/start"
	for ((i = 0; i < EXECS; i++)); do
		in_parallel "$d/exec/$i" oci exec "$PREFIX-c0" sh -c "test \$(ls /proc/self/fd | wc -l) -le 4"
	done
	wait_all_ok "exec x$EXECS into one" "$d/exec"
	for ((i = 0; i < CONCURRENT; i++)); do
		pid=$(oci state "$PREFIX-c$i" | jq -r .pid)
		[ "$(ls "/proc/$pid/fd" 2>/dev/null | tr '\n' ' ')" = "0 1 2 " ] ||
			failed "init of $PREFIX-c$i holds fds: $(ls -l "/proc/$pid/fd" | tail -n +2 | tr '\n' ';')"
	done
	for ((i = 0; i < CONCURRENT; i++)); do in_parallel "$d/kill/$i" oci kill "$PREFIX-c$i" KILL; done
	wait_all_ok "kill x$CONCURRENT" "$d/kill"
	for ((i = 0; i < CONCURRENT; i++)); do
		in_parallel "$d/delete/$i" oci delete --force "$PREFIX-c$i"
	done
	wait_all_ok "delete x$CONCURRENT" "$d/delete"
	check_nothing_left concurrent
	echo "concurrent: $CONCURRENT containers created, started, $EXECS execs at once into one, killed and deleted at once: $(( $(now_ms) - t0 )) ms"
}

cycles() {
	local i t0 t1 times=()
	t0=$(now_ms)
	for ((i = 0; i < CYCLES; i++)); do
		t1=$EPOCHREALTIME
		oci run --bundle "$WORK/true" "$PREFIX-r$i" >/dev/null 2>&1 || failed "run #$i"
		times+=($(( ${EPOCHREALTIME/./} - ${t1/./} )))
	done
	check_nothing_left cycles
	echo "cycles: $CYCLES sequential runs in $(( $(now_ms) - t0 )) ms, median $(median_ms "${times[@]}") ms"
}

# median_ms MICROSECONDS...: the median, in ms with one decimal.
median_ms() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; printf "%.1f", m / 1000 }'
}

# time_op ARGS...: time one command of the scaling part, in µs.
time_op() {
	local t=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || failed "$*"
	echo $(( ${EPOCHREALTIME/./} - ${t/./} ))
}
# sample ROOT NAME: create, state, list and delete one more container in
# ROOT, each time appended to the arrays NAME_create ... NAME_delete.
sample() {
	local -n c=$2_create s=$2_state l=$2_list d=$2_delete
	c+=($(time_op oci_at "$1" create --bundle "$WORK/sleep" "$PREFIX-x"))
	s+=($(time_op oci_at "$1" state "$PREFIX-x"))
	l+=($(time_op oci_at "$1" list))
	d+=($(time_op oci_at "$1" delete --force "$PREFIX-x"))
}
# The same operations in an empty root and in one holding CONTAINERS,
# interleaved in a new random order each sample so that the machine's
# drifting load hits both alike.
scaling() {
	local i t0 op empty=$WORK/empty-root
	local e_create=() e_state=() e_list=() e_delete=() f_create=() f_state=() f_list=() f_delete=()
	t0=$(now_ms)
	for ((i = 0; i < CONTAINERS; i++)); do
		oci create --bundle "$WORK/sleep" "$PREFIX-s$i" >/dev/null 2>&1 || failed "create #$i"
	done
	echo "scaling: $CONTAINERS containers created in $(( $(now_ms) - t0 )) ms"
	for ((i = 0; i < SAMPLES; i++)); do
		if ((RANDOM % 2)); then sample "$empty" e; sample "$ROOT" f; else sample "$ROOT" f; sample "$empty" e; fi
	done
	for op in create state list delete; do
		local -n e=e_$op f=f_$op
		echo "scaling $op 0 $(median_ms "${e[@]}")"
		echo "scaling $op $CONTAINERS $(median_ms "${f[@]}")"
	done
	[ "$(oci list -q | wc -l)" = "$CONTAINERS" ] || failed "list shows $(oci list -q | wc -l) containers, want $CONTAINERS"
	t0=$(now_ms)
	for ((i = 0; i < CONTAINERS; i++)); do
		oci delete --force "$PREFIX-s$i" >/dev/null 2>&1 || failed "delete #$i"
	done
	echo "scaling: $CONTAINERS containers deleted in $(( $(now_ms) - t0 )) ms"
	check_nothing_left scaling
	[ -z "$(ls -A "$empty")" ] || failed "the empty root holds $(ls -A "$empty")"
}

echo "load.sh: $("$OCIRUN_BIN" --version | head -n1), root $ROOT, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$CONCURRENT" -gt 0 ] && concurrent
[ "$CYCLES" -gt 0 ] && cycles
[ "$CONTAINERS" -gt 0 ] && scaling
echo "errors: $errors"
[ "$errors" = 0 ]
