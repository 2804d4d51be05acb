# tests/engines/lib.sh — shared helpers for the engine end-to-end scripts.
#
# Sourced by podman.sh and containerd.sh. Gives them:
#   - TAP output: run_test DESC FUNC [ARGS], skip_test DESC REASON, tap_done
#     (ENGINE_ONLY=ERE: only the checks whose description matches);
#   - assertions for test functions: fail, assert_eq, assert_match;
#   - the runtime under test ($RUNTIME, from RUNTIME= or OCIRUN= or $1) and a
#     logging wrapper around it, so a failure shows which runtime commands the
#     engine ran and what they printed;
#   - a busybox rootfs made from Debian's busybox-static;
#   - a timeout for every engine command, so a hung runtime fails one check
#     instead of the whole run;
#   - the cgroup manager (ENGINE_CGROUP_MANAGER=cgroupfs|systemd), cgroup
#     files read the same way on v1 and v2, systemd unit helpers, and a
#     static sd_notify helper for containers.
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
	# ENGINE_ONLY=ERE runs only the checks whose description matches (while
	# working on one; some checks use what an earlier one started)
	[ -z "${ENGINE_ONLY:-}" ] || [[ $desc =~ $ENGINE_ONLY ]] || return 0
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

# --- cgroups and systemd ----------------------------------------------------
#
# ENGINE_CGROUP_MANAGER picks how the engines make cgroups: "cgroupfs" (the
# default; no systemd needed) or "systemd" (systemd must be PID 1; the
# runtime is run with --systemd-cgroup and each container becomes a
# transient scope). Either works on cgroup v1 (hybrid) and v2; the checks
# read the files of the hierarchy the host has.

ENGINE_CGROUP_MANAGER=${ENGINE_CGROUP_MANAGER:-cgroupfs}
CGROUP_V2=0
[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && CGROUP_V2=1

cgroup_v2() { [ "$CGROUP_V2" = 1 ]; }
systemd_mode() { [ "$ENGINE_CGROUP_MANAGER" = systemd ]; }

# setup_cgroup_manager: check ENGINE_CGROUP_MANAGER and what it needs.
setup_cgroup_manager() {
	case $ENGINE_CGROUP_MANAGER in
	cgroupfs) ;;
	systemd)
		[ -d /run/systemd/system ] && command -v systemctl >/dev/null ||
			die "ENGINE_CGROUP_MANAGER=systemd needs systemd as PID 1"
		systemctl show -P Version >/dev/null 2>&1 ||
			die "ENGINE_CGROUP_MANAGER=systemd: systemctl cannot reach systemd"
		;;
	*) die "ENGINE_CGROUP_MANAGER must be cgroupfs or systemd, not '$ENGINE_CGROUP_MANAGER'" ;;
	esac
}

# cgroup_mode_desc: one line for the header of a run.
cgroup_mode_desc() {
	local v=v1
	cgroup_v2 && v=v2
	echo "cgroup manager $ENGINE_CGROUP_MANAGER, cgroup $v"
}

# cgroup_path PID [CTRL]: the cgroup of PID: in the unified hierarchy on
# cgroup v2, else in the v1 hierarchy of controller CTRL.
cgroup_path() {
	if cgroup_v2; then
		awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup"
	else
		awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"
	fi
}

# cgroup_dir PID CTRL: the directory of that cgroup under /sys/fs/cgroup.
cgroup_dir() {
	local path
	[ -n "$1" ] && [ "$1" -gt 0 ] || fail "no pid to find the cgroup of"
	path=$(cgroup_path "$1" "$2")
	[ -n "$path" ] || fail "pid $1 has no ${2:-unified} cgroup"
	if cgroup_v2; then
		echo "/sys/fs/cgroup${path%/}"
	else
		echo "/sys/fs/cgroup/$2${path%/}"
	fi
}

# cg_read PID WHAT: a setting of the cgroup of PID, the same on v1 and v2:
#   memory   the limit in bytes (memory.limit_in_bytes | memory.max)
#   pids     pids.max
#   cpu      "QUOTA PERIOD" (cpu.cfs_quota_us, cpu.cfs_period_us | cpu.max)
#   freezer  FROZEN or THAWED (freezer.state | cgroup.freeze and the frozen
#            flag of cgroup.events, which must agree)
cg_read() {
	local pid=$1 d freeze frozen
	case $2 in
	memory)
		d=$(cgroup_dir "$pid" memory) || { echo "$d"; return 1; }
		if cgroup_v2; then cat "$d/memory.max"; else cat "$d/memory.limit_in_bytes"; fi
		;;
	pids)
		d=$(cgroup_dir "$pid" pids) || { echo "$d"; return 1; }
		cat "$d/pids.max"
		;;
	cpu)
		d=$(cgroup_dir "$pid" cpu) || { echo "$d"; return 1; }
		if cgroup_v2; then
			cat "$d/cpu.max"
		else
			echo "$(cat "$d/cpu.cfs_quota_us") $(cat "$d/cpu.cfs_period_us")"
		fi
		;;
	freezer)
		d=$(cgroup_dir "$pid" freezer) || { echo "$d"; return 1; }
		if cgroup_v2; then
			freeze=$(cat "$d/cgroup.freeze")
			frozen=$(awk '$1 == "frozen" { print $2 }' "$d/cgroup.events")
			case $freeze$frozen in
			11) echo FROZEN ;;
			00) echo THAWED ;;
			*) echo "cgroup.freeze $freeze, cgroup.events frozen $frozen" ;;
			esac
		else
			cat "$d/freezer.state"
		fi
		;;
	*) fail "cg_read: unknown setting $2" ;;
	esac
}

# cg_memory_file_inside: the memory limit file as a container with its own
# cgroup namespace sees it.
cg_memory_file_inside() {
	if cgroup_v2; then
		echo /sys/fs/cgroup/memory.max
	else
		echo /sys/fs/cgroup/memory/memory.limit_in_bytes
	fi
}

# unit_prop UNIT PROPERTY: the property's value as systemctl shows it.
unit_prop() {
	systemctl show -P "$2" "$1"
}

# units_like PATTERN...: loaded units (any state) matching a glob.
units_like() {
	systemctl list-units --all --plain --no-legend "$@" 2>/dev/null | awk '{ print $1 }'
}

# no_units_like PATTERN...: succeeds when no unit matches.
no_units_like() {
	[ -z "$(units_like "$@")" ]
}

# assert_units_gone SECS PATTERN...: within SECS no unit matches any PATTERN
# (a scope goes away once it is stopped or its last process is gone).
assert_units_gone() {
	local secs=$1
	shift
	retry "$secs" no_units_like "$@" ||
		fail "units left: $(systemctl list-units --all --plain --no-legend "$@" | tr '\n' ';')"
}

# stop_units UNIT...: kill the units' processes, stop them and forget their
# failures (for cleanups: only units this run made).
stop_units() {
	[ $# -gt 0 ] || return 0
	systemctl kill -s SIGKILL "$@" >/dev/null 2>&1
	timeout 60 systemctl stop "$@" >/dev/null 2>&1
	systemctl reset-failed "$@" >/dev/null 2>&1
	return 0
}

# build_sd_notify OUT: compile a static helper that sends one datagram
# (argument 1, default READY=1) to $NOTIFY_SOCKET, as sd_notify(3) does, for
# images without systemd-notify (busybox has no unix datagram client).
# Fails when gcc or a static libc is missing.
build_sd_notify() {
	local src=$1.c
	command -v gcc >/dev/null || return 1
	cat >"$src" <<'EOF'
/* sd-notify [MESSAGE]: send MESSAGE (default READY=1) to $NOTIFY_SOCKET. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	const char *msg = argc > 1 ? argv[1] : "READY=1";
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (path == NULL || path[0] == '\0') {
		fputs("sd-notify: NOTIFY_SOCKET is not set\n", stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sd-notify: NOTIFY_SOCKET %s: path too long\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	if (sa.sun_path[0] == '@') /* abstract socket */
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("sd-notify: socket");
		return 1;
	}
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, len) < 0) {
		fprintf(stderr, "sd-notify: send to %s: ", path);
		perror(NULL);
		return 1;
	}
	return 0;
}
EOF
	gcc -static -O2 -o "$1" "$src" && rm -f "$src"
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
	if cgroup_v2; then
		[ -d "/sys/fs/cgroup/$1" ] && find "/sys/fs/cgroup/$1" -depth -type d
		return 0
	fi
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
# A hierarchy the host does not mount (hugetlb and net_cls on the dev
# machine) is a plain tmpfs directory, where conmon still makes its cgroup
# and writes a "tasks" file: that file goes first, or rmdir fails.
remove_cgroups() {
	local d
	cgroup_dirs_under "$1" | while read -r d; do
		case $(stat -f -c %T "$d" 2>/dev/null) in
		cgroupfs | cgroup2fs) ;;
		*) find "$d" -maxdepth 1 -type f -delete 2>/dev/null ;;
		esac
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
