# tests/integration/helpers.bash — shared set-up for every .bats file.
#
# Usage in a .bats file:
#
#     load helpers
#     setup()    { setup_bundle; }        # fresh bundle, state root and id
#     teardown() { teardown_bundle; }     # the default if you define none
#
#     @test "run prints from inside" {
#         set_args sh -c 'echo hi; exit 3'
#         run -3 ocirun run "$CID"
#         assert_output "hi"
#     }
#
# The binary under test is $OCIRUN (a path). tests/run.sh exports the freshly
# built ocirun; set OCIRUN=/usr/sbin/runc to run the same tests against runc
# as a control. Unset, it is the repo's ./ocirun, else `ocirun` on PATH.
#
# Variables set by setup_bundle:
#   $BUNDLE    the bundle dir (config.json + rootfs/, a private copy); the
#              test's working directory, so `ocirun run ID` finds it
#   $ROOT      a --root state dir private to this test (never /run/ocirun)
#   $CID       a container id unique on this machine (cgroup names use it)
#   $TEST_TMP  the test's own temp dir (holds BUNDLE and ROOT); put extra
#              files here, it is removed by teardown_bundle. It is made in
#              $OCIRUN_TEST_TMPDIR (tests/run.sh sets one per run), else /tmp
#   $OCIRUN_IMPL  "ocirun", "runc" or "crun": which runtime $OCIRUN is
#
# Functions (details at each definition below):
#   ocirun ARGS...            "$OCIRUN" --root "$ROOT" ARGS, with a timeout
#   update_config JQ [JQARGS] edit $BUNDLE/config.json in place
#   set_args ARG...           process.args = ARGS
#   container_status ID, container_pid ID, wait_for_status ID STATUS [SECS]
#   run_detached ARGS...      ocirun run -d ARGS, stdio away from bats
#   create_container ARGS...  ocirun create --bundle $BUNDLE ARGS, likewise
#   wait_for_file PATH [SECS] poll until PATH exists
#   cgroup_path_of PID CTRL   the PID's cgroup path for a controller
#   cgroup_dir_of PID CTRL    the same as a /sys/fs/cgroup/... directory
#   assert_no_leftovers [ID]  no state dir, mount, cgroup or process left
#   is_runtime NAME, skip_unless_ocirun REASON
#   assert_ocirun_output TEXT output contains TEXT, checked for ocirun only
#                             (runc's messages differ; keep shared checks to
#                             substrings both print, such as the id)
#   teardown_bundle           force-delete everything, check, clean up
#
# Rules for tests: never touch /run/ocirun or another test's files; anything
# you start in the background must be gone by teardown (teardown_bundle
# fails the test when a process, mount, cgroup or state dir of $CID is left,
# then removes it so later tests start clean).

bats_require_minimum_version 1.5.0

source /usr/lib/bats/bats-support/load.bash
source /usr/lib/bats/bats-assert/load.bash

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Seconds a single runtime command may take before it is killed; a hung
# runtime then fails one test instead of the whole CI run.
OCIRUN_TIMEOUT=${OCIRUN_TIMEOUT:-30}

_find_ocirun() {
	if [ -n "${OCIRUN:-}" ]; then
		echo "$OCIRUN"
	elif [ -x "$REPO_ROOT/ocirun" ]; then
		echo "$REPO_ROOT/ocirun"
	else
		command -v ocirun || true
	fi
}
OCIRUN=$(_find_ocirun)
export OCIRUN

# Which runtime is under test: the first word of `--version`, else the name.
_runtime_impl() {
	local first
	first=$("$OCIRUN" --version 2>/dev/null | awk 'NR == 1 { print $1 }')
	case "$first" in
	runc | crun | ocirun) echo "$first" ;;
	*) basename "$OCIRUN" ;;
	esac
}
if [ -n "$OCIRUN" ] && [ -x "$OCIRUN" ]; then
	OCIRUN_IMPL=${OCIRUN_IMPL:-$(_runtime_impl)}
else
	OCIRUN_IMPL=none
fi
export OCIRUN_IMPL

# is_runtime NAME: true when the runtime under test is NAME (ocirun/runc/crun).
is_runtime() { [ "$OCIRUN_IMPL" = "$1" ]; }

# skip_unless_ocirun REASON: for tests of ocirun's own behaviour or messages.
skip_unless_ocirun() { is_runtime ocirun || skip "${1:-ocirun-specific} (runtime is $OCIRUN_IMPL)"; }

# assert_ocirun_output TEXT: $output contains TEXT when testing ocirun. Other
# runtimes word their messages differently, so for them this checks nothing.
assert_ocirun_output() {
	is_runtime ocirun || return 0
	assert_output --partial "$1"
}

# ocirun ARGS...: the runtime under test with this test's private --root.
# Use it with `run`: `run ocirun state "$CID"`; `run -1 ocirun start nope`.
# OCIRUN_CGROUP_MANAGER=systemd runs every test with the systemd cgroup
# driver (--systemd-cgroup, runc's flag; tests/vm runs the cgroup tests so).
ocirun() {
	if [ "${OCIRUN_CGROUP_MANAGER:-cgroupfs}" = systemd ]; then
		timeout --kill-after=5 "$OCIRUN_TIMEOUT" "$OCIRUN" --root "$ROOT" --systemd-cgroup "$@"
	else
		timeout --kill-after=5 "$OCIRUN_TIMEOUT" "$OCIRUN" --root "$ROOT" "$@"
	fi
}

# uses_systemd_driver: the tests run with the systemd cgroup driver.
uses_systemd_driver() { [ "${OCIRUN_CGROUP_MANAGER:-cgroupfs}" = systemd ]; }

# systemd_running: systemd is PID 1 here (tests/vm's systemd machines).
systemd_running() { [ -d /run/systemd/system ]; }

# The busybox rootfs is made once per bats run (make-bundle.sh takes ~0.4 s)
# and copied per test (cp -a, ~0.05 s): each test gets a writable rootfs of
# its own, so tests that write into it cannot disturb each other.
_rootfs_cache() {
	local cache="${BATS_RUN_TMPDIR:?not running under bats}/ocirun-rootfs"
	(
		flock 9
		if [ ! -x "$cache/rootfs/bin/busybox" ]; then
			rm -rf "$cache"
			"$REPO_ROOT/tests/make-bundle.sh" --rootfs-only "$cache" >&2
		fi
	) 9>"$BATS_RUN_TMPDIR/ocirun-rootfs.lock"
	echo "$cache/rootfs"
}

# setup_bundle [CONFIG]: a fresh bundle in a temp dir; cd into it.
# CONFIG defaults to the repo's config.json.example (or `runc spec`). The
# config is made non-terminal and its cgroupsPath is dropped, so the runtime
# names the container's cgroup after the unique $CID.
setup_bundle() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	if [ -z "$OCIRUN" ] || [ ! -x "$OCIRUN" ]; then
		echo "OCIRUN is not set to an executable runtime (got '${OCIRUN:-}'): build ocirun or export OCIRUN=/path/to/runtime" >&2
		return 1
	fi
	local cache
	cache=$(_rootfs_cache)
	TEST_TMP=$(mktemp -d "${OCIRUN_TEST_TMPDIR:-/tmp}/ocitest.XXXXXX")
	# Traversable by a container's mapped root (user namespaces).
	chmod 755 "$TEST_TMP"
	BUNDLE="$TEST_TMP/bundle"
	ROOT="$TEST_TMP/state"
	# Short and unique: tests of different runs may share the host's cgroups.
	CID="ocitest-$(basename "$TEST_TMP" | cut -d. -f2 | tr 'A-Z' 'a-z')-${BATS_TEST_NUMBER:-0}"
	export TEST_TMP BUNDLE ROOT CID
	# tests/run.sh looks for cgroups and state of these ids after the run.
	[ -n "${OCIRUN_TEST_TMPDIR:-}" ] && echo "$CID" >>"$OCIRUN_TEST_TMPDIR/.ids"
	"$REPO_ROOT/tests/make-bundle.sh" --from "$cache" "$BUNDLE" ${1:+"$1"} >&2
	update_config '.process.terminal = false | del(.linux.cgroupsPath)'
	cd "$BUNDLE"
}

# update_config 'JQ EXPR' [JQ OPTIONS...]: edit $BUNDLE/config.json in place.
#   update_config '.hostname = $h' --arg h myhost
update_config() {
	local expr=$1
	shift
	jq "$@" "$expr" "$BUNDLE/config.json" >"$BUNDLE/config.json.new" &&
		mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# set_args ARG...: process.args = [ARG...] (arguments may start with "-").
set_args() {
	local json
	json=$(jq -nc '$ARGS.positional' --args -- "$@")
	update_config '.process.args = $a' --argjson a "$json"
}

# container_status ID: the status from `ocirun state ID` ("" if none).
container_status() {
	ocirun state "$1" 2>/dev/null | jq -r '.status // empty' 2>/dev/null
}

# container_pid ID: the init pid from `ocirun state ID`.
container_pid() {
	ocirun state "$1" 2>/dev/null | jq -r '.pid // empty' 2>/dev/null
}

# wait_for_status ID STATUS [TIMEOUT_SECONDS=5]: poll until the state says
# STATUS; fails naming the last status seen.
wait_for_status() {
	local id=$1 want=$2 timeout=${3:-5} got="" i
	for ((i = 0; i < timeout * 20; i++)); do
		got=$(container_status "$id")
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	echo "container $id: status '$got' after ${timeout}s, want '$want'" >&2
	return 1
}

# run_detached ARGS...: `ocirun run -d ARGS` with stdio away from bats' pipes
# (a container that outlives the command must not hold the test's output
# open, or bats waits for it). Its output goes to $TEST_TMP/detach.out.
run_detached() {
	ocirun run -d "$@" </dev/null >"$TEST_TMP/detach.out" 2>&1 3>&-
}

# create_container [OPTIONS] ID: `ocirun create --bundle $BUNDLE`, stdio
# likewise away from bats; output in $TEST_TMP/create.out.
create_container() {
	ocirun create --bundle "$BUNDLE" "$@" </dev/null >"$TEST_TMP/create.out" 2>&1 3>&-
}

# wait_for_file PATH [TIMEOUT_SECONDS=5]: poll until PATH exists.
wait_for_file() {
	local i
	for ((i = 0; i < ${2:-5} * 20; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "$1 did not appear" >&2
	return 1
}

# cgroup_path_of PID CONTROLLER: the PID's cgroup path (as in /proc/PID/cgroup)
# for a v1 CONTROLLER (memory, pids, cpu, name=systemd ...); CONTROLLER "" or
# "unified" gives the cgroup2 path ("0::/path").
cgroup_path_of() {
	local pid=$1 ctrl=${2:-} line hier ctrls path
	while IFS= read -r line; do
		hier=${line%%:*}
		ctrls=${line#*:}
		ctrls=${ctrls%%:*}
		path=${line#*:*:}
		if [ -z "$ctrl" ] || [ "$ctrl" = unified ]; then
			[ "$hier" = 0 ] && [ -z "$ctrls" ] && { echo "$path"; return 0; }
		elif [[ ",$ctrls," == *",$ctrl,"* ]]; then
			echo "$path"
			return 0
		fi
	done <"/proc/$pid/cgroup"
	echo "cgroup_path_of: pid $pid has no cgroup for '${ctrl}'" >&2
	return 1
}

# cgroup_dir_of PID CONTROLLER: the host directory of that cgroup, e.g.
# /sys/fs/cgroup/memory/ID (v1), /sys/fs/cgroup/unified/ID (hybrid cgroup2),
# /sys/fs/cgroup/ID (pure v2).
cgroup_dir_of() {
	local pid=$1 ctrl=${2:-} path
	path=$(cgroup_path_of "$pid" "$ctrl") || return 1
	if is_cgroup_v2; then
		echo "/sys/fs/cgroup$path"
	elif [ -z "$ctrl" ] || [ "$ctrl" = unified ]; then
		echo "/sys/fs/cgroup/unified$path"
	else
		echo "/sys/fs/cgroup/${ctrl#name=}$path"
	fi
}

# is_cgroup_v2: the host has a pure cgroup v2 hierarchy (e.g. tests/vm/run-vm.sh --mode v2).
is_cgroup_v2() { [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; }

# stop_agent: kill and reap the seccomp agent a test started in the
# background and saved in $AGENT_PID, if it did.
stop_agent() {
	[ -n "${AGENT_PID:-}" ] || return 0
	kill "$AGENT_PID" 2>/dev/null || true
	wait "$AGENT_PID" 2>/dev/null || true
}

# --- leftovers -------------------------------------------------------------

# Mount points at or below DIR (as seen from this mount namespace).
_mounts_under() {
	local dir=$1
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# cgroup directories named after ID anywhere under /sys/fs/cgroup.
_cgroups_of() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "*$1*" 2>/dev/null
}

# Live processes whose cgroup or command line names ID. The regex brackets
# the first character so grep never matches its own command line. Zombies
# are not counted: a killed container init lingers as one until the host's
# init (its new parent) reaps it, which is not the runtime's doing.
_pids_of() {
	local id=$1 re="[${1:0:1}]${1:1}" p state
	for p in $( {
		grep -l -- "$re" /proc/[0-9]*/cgroup 2>/dev/null
		grep -l -a -- "$re" /proc/[0-9]*/cmdline 2>/dev/null
	} | cut -d/ -f3 | sort -un); do
		[ "$p" = "$$" ] && continue
		state=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ -n "$state" ] && [ "$state" != Z ] && echo "$p"
	done
	return 0
}

# systemd units named after ID, loaded in any state (failed ones included).
_units_of() {
	systemd_running || return 0
	systemctl list-units --all --plain --no-legend --no-pager "*$1*" 2>/dev/null | awk '{ print $1 }'
}

# _leftovers ID: print one line per thing of container ID still present.
_leftovers() {
	local id=$1 m c p u
	[ -e "$ROOT/$id" ] && echo "state dir $ROOT/$id"
	for u in $(_units_of "$id"); do echo "systemd unit $u"; done
	for m in $(_mounts_under "$TEST_TMP"); do echo "mount $m"; done
	for c in $(_cgroups_of "$id"); do echo "cgroup $c"; done
	for p in $(_pids_of "$id"); do
		echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
	return 0
}

# _leftovers_settled ID: _leftovers, given up to 2 s to become empty: a
# killed process takes a moment to exit and leave its cgroup.
_leftovers_settled() {
	local id=$1 left i
	for ((i = 0; i < 40; i++)); do
		left=$(_leftovers "$id")
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	echo "$left"
}

# assert_no_leftovers [ID]: nothing of container ID (default $CID) remains:
# no state dir in $ROOT, no mount under $TEST_TMP, no cgroup, no process.
assert_no_leftovers() {
	local id=${1:-$CID} left
	left=$(_leftovers_settled "$id")
	if [ -n "$left" ]; then
		echo "leftovers of container $id:" >&2
		echo "$left" | sed 's/^/  /' >&2
		return 1
	fi
}

# _cleanup_by_force ID: remove what the runtime left: kill the processes,
# detach the mounts, remove the cgroups. Only things named after our unique
# id or under our own temp dir are touched.
_cleanup_by_force() {
	local id=$1 p m c i u
	for u in $(_units_of "$id"); do
		systemctl stop "$u" 2>/dev/null || true
		systemctl reset-failed "$u" 2>/dev/null || true
	done
	for p in $(_pids_of "$id"); do kill -9 "$p" 2>/dev/null || true; done
	for m in $(_mounts_under "$TEST_TMP" | sort -r); do umount -l "$m" 2>/dev/null || true; done
	for ((i = 0; i < 20; i++)); do
		[ -z "$(_pids_of "$id")" ] && break
		sleep 0.05
	done
	# Deepest first: a cgroup dir can only be removed once its children are.
	for c in $(_cgroups_of "$id" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
		rmdir "$c" 2>/dev/null || true
	done
}

# teardown_bundle: force-delete every container in $ROOT, fail the test if
# anything (state dir, mount, cgroup, process) is left, and clean up anyway.
teardown_bundle() {
	[ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ] || return 0
	cd /
	local ids id left="" status=0
	# Ids the runtime lists, plus any container dir it may no longer list.
	ids=$( {
		ocirun list -q 2>/dev/null
		find "$ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null
		echo "$CID"
	} | sort -u)
	for id in $ids; do
		ocirun delete --force "$id" >/dev/null 2>&1 || true
	done
	for id in $ids; do
		left+=$(_leftovers_settled "$id")
	done
	if [ -n "$left" ]; then
		echo "teardown: left behind by the test or the runtime:" >&2
		echo "$left" | sort -u | sed 's/^/  /' >&2
		status=1
		for id in $ids; do _cleanup_by_force "$id"; done
	fi
	if [ -n "$(_mounts_under "$TEST_TMP")" ]; then
		echo "teardown: mounts still under $TEST_TMP; not removing it" >&2
		return 1
	fi
	rm -rf --one-file-system "$TEST_TMP"
	TEST_TMP=
	return "$status"
}

# The default teardown; a .bats file that defines its own must call
# teardown_bundle from it.
teardown() { teardown_bundle; }
