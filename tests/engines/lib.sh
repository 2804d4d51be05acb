# tests/engines/lib.sh — shared helpers for the engine end-to-end scripts.
#
# Sourced by podman.sh and containerd.sh. Gives them:
#   - TAP output: run_test DESC FUNC [ARGS], skip_test DESC REASON, tap_done;
#   - assertions for test functions: fail, assert_eq, assert_match;
#   - the runtime under test ($RUNTIME, from RUNTIME= or OCIRUN= or $1) and a
#     logging wrapper around it, so a failure shows which runtime commands the
#     engine ran and what they printed;
#   - a busybox rootfs made from Debian's busybox-static;
#   - a timeout for every engine command, so a hung runtime fails one check
#     instead of the whole run.
#
# Each test function runs in a subshell with `set -e`, its output going to a
# per-test log; on failure the log's tail is printed as TAP diagnostics
# ("# ..."), followed by the runtime calls made during the test.

set -uo pipefail

# Seconds one engine command may take.
ENGINE_TIMEOUT=${ENGINE_TIMEOUT:-30}

_tap_n=0
_tap_failed=0
_tap_skipped=0
_tap_failed_names=()

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# diag FILE [LINES]: print the tail of FILE as TAP diagnostics.
diag() {
	local file=$1 lines=${2:-40}
	[ -s "$file" ] || return 0
	tail -n "$lines" "$file" | tr -d '\000' | sed 's/^/#   /'
}

# run_test DESC FUNC [ARGS...]: run one check and print its TAP line.
run_test() {
	local desc=$1
	shift
	local log="$WORK/logs/$((_tap_n + 1)).log"
	local calls_before=0
	[ -f "$RUNTIME_CALLS" ] && calls_before=$(wc -l <"$RUNTIME_CALLS")
	local start=$SECONDS
	(set -e; "$@") >"$log" 2>&1 </dev/null
	local rc=$? took=$((SECONDS - start))
	_tap_n=$((_tap_n + 1))
	# slow checks say so, to keep the whole script well under 2 minutes
	[ "$took" -lt 5 ] || echo "# check $_tap_n took ${took}s"
	if [ "$rc" -eq 0 ]; then
		echo "ok $_tap_n - $desc"
		# lines a check wants shown even when it passes
		grep '^NOTE: ' "$log" | sed 's/^NOTE: /#   /'
		return 0
	fi
	_tap_failed=$((_tap_failed + 1))
	_tap_failed_names+=("$_tap_n - $desc")
	echo "not ok $_tap_n - $desc"
	echo "#   (exit status $rc) test output:"
	diag "$log"
	if [ -f "$RUNTIME_CALLS" ]; then
		echo "#   runtime calls during this test (last 15):"
		tail -n +"$((calls_before + 1))" "$RUNTIME_CALLS" | tail -n 15 | sed 's/^/#     /'
	fi
	return 1
}

# skip_test DESC REASON
skip_test() {
	_tap_n=$((_tap_n + 1))
	_tap_skipped=$((_tap_skipped + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

# bail DESC REASON: a set-up step failed; later checks cannot run.
bail() {
	echo "Bail out! $1: $2"
	exit 1
}

# tap_done: the plan line and a summary; returns non-zero if a check failed.
tap_done() {
	echo "1..$_tap_n"
	if [ "$_tap_failed" -gt 0 ]; then
		echo "# failed checks:"
		printf '#   %s\n' "${_tap_failed_names[@]}"
	fi
	echo "# $((_tap_n - _tap_failed - _tap_skipped)) passed, $_tap_failed failed, $_tap_skipped skipped (runtime: $RUNTIME)"
	[ "$_tap_failed" -eq 0 ]
}

# --- assertions (for use inside test functions) ---------------------------

fail() {
	echo "FAIL: $*"
	return 1
}

# qgrep ARGS: grep -q that reads all its input, so the writer of a pipe
# never dies of SIGPIPE (a failure under pipefail).
qgrep() {
	grep "$@" >/dev/null
}

# assert_eq GOT WANT WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# assert_match GOT ERE WHAT (case-insensitive extended regex)
assert_match() {
	printf '%s\n' "$1" | qgrep -iE -- "$2" || fail "$3: '$1' does not match /$2/"
}

# assert_no_match GOT ERE WHAT
assert_no_match() {
	if printf '%s\n' "$1" | qgrep -iE -- "$2"; then
		fail "$3: '$1' matches /$2/"
	fi
}

# note TEXT: a line printed under the check's TAP line even if it passes.
note() {
	printf '%s\n' "$*" | sed 's/^/NOTE: /'
}

# retry SECS CMD...: run CMD every 0.2 s until it succeeds or SECS pass.
retry() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# --- runtime under test ---------------------------------------------------

# setup_runtime ARG1: sets RUNTIME (absolute path), WORK (a private temp dir,
# removed by cleanup_work), RUNTIME_WRAPPER and RUNTIME_CALLS.
setup_runtime() {
	RUNTIME=${RUNTIME:-${OCIRUN:-${1:-}}}
	[ -n "$RUNTIME" ] || die "usage: RUNTIME=/path/to/runtime $0"
	case "$RUNTIME" in
	/*) ;;
	*) RUNTIME=$(command -v "$RUNTIME") || die "runtime not found" ;;
	esac
	[ -x "$RUNTIME" ] || die "runtime $RUNTIME is not executable"
	[ "$(id -u)" = 0 ] || die "must run as root"

	WORK=$(mktemp -d "/tmp/ocirun-engines-$(basename "$0" .sh).XXXXXX")
	chmod 755 "$WORK"
	mkdir -p "$WORK/logs"
	RUNTIME_CALLS=$WORK/runtime-calls.log
	: >"$RUNTIME_CALLS"
	RUNTIME_WRAPPER=$WORK/bin/runtime
	make_runtime_wrapper "$RUNTIME_WRAPPER"
}

# make_runtime_wrapper PATH: a script that records each call's arguments and
# exit status in $RUNTIME_CALLS and runs $RUNTIME. The engine is pointed at
# it, so failures come with the runtime commands that led to them.
make_runtime_wrapper() {
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<EOF
#!/bin/bash
"$RUNTIME" "\$@"
rc=\$?
printf '%s => %d\n' "\$*" "\$rc" >>"$RUNTIME_CALLS"
exit \$rc
EOF
	chmod 755 "$1"
}

# cleanup_work: remove $WORK unless something is still mounted under it
# (then keep it, rather than deleting through a mount).
cleanup_work() {
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
	if [ -n "$(mounts_under "$WORK")" ]; then
		echo "# keeping $WORK: still mounted there:" >&2
		mounts_under "$WORK" | sed 's/^/#   /' >&2
		return 1
	fi
	if [ -n "${KEEP_WORK:-}" ]; then
		echo "# kept $WORK (KEEP_WORK set)" >&2
		return 0
	fi
	rm -rf "$WORK"
}

# mounts_under DIR: mount points at or below DIR, deepest first.
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# cgroup_dirs_under NAME: every cgroup directory named NAME or below it, in
# every hierarchy (v1 controllers and the unified one), deepest first.
cgroup_dirs_under() {
	local h
	for h in /sys/fs/cgroup/*/; do
		[ -d "$h$1" ] && find "$h$1" -depth -type d
	done
	return 0
}

# pids_in_cgroups NAME: processes in any cgroup at or below NAME.
pids_in_cgroups() {
	local d
	cgroup_dirs_under "$1" | while read -r d; do
		cat "$d/cgroup.procs" 2>/dev/null
	done | sort -un
}

# remove_cgroups NAME: rmdir the cgroup trees named NAME (deepest first).
remove_cgroups() {
	local d
	cgroup_dirs_under "$1" | while read -r d; do
		rmdir "$d" 2>/dev/null || echo "# could not remove cgroup $d" >&2
	done
}

# write_bad_seccomp_profile FILE: a seccomp profile that engines pass on
# as is but whose action no runtime knows: the error must come from the
# runtime, naming SCMP_ACT_OCIRUN_BOGUS.
write_bad_seccomp_profile() {
	cat >"$1" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_OCIRUN_BOGUS"}]}
EOF
}

# --- image ----------------------------------------------------------------

# make_busybox_rootfs DIR: a minimal rootfs of Debian's static busybox with
# its applets as symlinks, /etc/passwd with root and nobody, and an
# unprivileged user "tester" (uid 1000).
make_busybox_rootfs() {
	local r=$1 bb
	bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
	mkdir -p "$r"/{bin,etc,tmp,proc,sys,dev,root,home/tester,var/tmp}
	cp "$bb" "$r/bin/busybox"
	# A dynamic busybox cannot run in the empty rootfs: this fails then.
	chroot "$r" /bin/busybox --install -s /bin ||
		die "$bb cannot run in an empty rootfs (apt-get install busybox-static)"
	cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
EOF
	printf 'root:x:0:\ntester:x:1000:\nnogroup:x:65534:\n' >"$r/etc/group"
	chown 1000:1000 "$r/home/tester"
	chmod 1777 "$r/tmp" "$r/var/tmp"
}
