#!/usr/bin/env bats
# Fault injection: the runtime killed part way through start, run, exec
# and delete; a state directory that fills up (a tiny tmpfs) or is
# read-only; the rootfs removed between create and start; the init killed
# from outside. After each, `delete --force` must succeed and leave nothing
# (state dir, cgroup, mount, process). create killed part way is in
# cgroups.bats (both cgroup drivers), a damaged state.json in faults.bats.

load helpers

setup() {
	setup_bundle
	set_args sleep 600
}

teardown() {
	if [ -n "${TINY:-}" ]; then
		# Thawed and killed by teardown_bundle's delete --force first.
		mount -o remount,rw "$TINY" 2>/dev/null || true
		teardown_bundle
		umount -l "$TINY" 2>/dev/null || true
		rmdir "$TINY"
	else
		teardown_bundle
	fi
}

# kill_after SECONDS ARGS...: the runtime with ARGS, SIGKILLed after
# SECONDS unless it ended before; its status is not checked.
kill_after() {
	local t=$1
	shift
	timeout -s KILL "$t" "$OCIRUN" --root "$ROOT" "$@" </dev/null >/dev/null 2>&1 3>&- || true
}

# force_delete_leaves_nothing [ID]: delete --force succeeds, nothing left.
force_delete_leaves_nothing() {
	run -0 ocirun delete --force "${1:-$CID}"
	assert_no_leftovers "${1:-$CID}"
}

# The instants, in seconds: before the runtime has done anything, during
# its work (a start takes ~5 ms here, run ~20, exec ~10) and after it.
INSTANTS="0.001 0.003 0.006 0.01 0.02 0.04"

@test "start killed at any instant: delete --force removes everything" {
	local t
	for t in $INSTANTS; do
		create_container "$CID"
		kill_after "$t" start "$CID"
		force_delete_leaves_nothing
	done
}

@test "run killed at any instant: delete --force removes everything" {
	local t
	for t in $INSTANTS 0.08; do
		kill_after "$t" run -d --bundle "$BUNDLE" "$CID"
		force_delete_leaves_nothing
	done
}

@test "exec killed at any instant: the container works on, delete --force removes everything" {
	local t
	run_detached "$CID"
	wait_for_status "$CID" running
	for t in $INSTANTS; do
		kill_after "$t" exec "$CID" sleep 600
	done
	# The container is still usable: a new exec works.
	run -0 ocirun exec "$CID" true
	run -0 ocirun state "$CID"
	force_delete_leaves_nothing
}

@test "delete --force killed at any instant: another delete --force removes everything" {
	local t
	for t in $INSTANTS; do
		set_args sh -c 'sleep 600 & exec sleep 600'
		run_detached "$CID"
		wait_for_status "$CID" running
		kill_after "$t" delete --force "$CID"
		force_delete_leaves_nothing
	done
}

# tiny_root OPTIONS: $ROOT becomes a tmpfs mounted with OPTIONS, outside
# $TEST_TMP (where any mount is a leftover to assert_no_leftovers).
tiny_root() {
	[ -n "${TINY:-}" ] || TINY=$(mktemp -d /tmp/ocitest-root.XXXXXX)
	mount -t tmpfs -o "$1" ocitest-tiny "$TINY"
	ROOT=$TINY
}

@test "a full state directory (tiny tmpfs): create fails naming what it could not write, and leaves nothing" {
	local opts
	# No room for state.json's data; for the container's dir; for
	# cgroup.json; for exec.fifo.
	for opts in size=4k nr_inodes=1 nr_inodes=2 nr_inodes=3; do
		tiny_root "$opts,mode=700"
		run ocirun create --bundle "$BUNDLE" "$CID" </dev/null 3>&-
		[ "$status" -ne 0 ] || {
			echo "create succeeded on a tmpfs with $opts" >&2
			return 1
		}
		assert_ocirun_output "No space left on device"
		assert_ocirun_output "$ROOT"
		# create's own rollback leaves nothing, not even a temporary
		assert_no_leftovers
		[ -z "$(ls -A "$ROOT")" ]
		force_delete_leaves_nothing
		umount "$TINY"
	done
}

@test "a read-only state root: create fails naming it; delete --force fails until it is writable, then removes everything" {
	tiny_root size=1m,mode=700
	mount -o remount,ro "$ROOT"
	run -1 ocirun create --bundle "$BUNDLE" "$CID" </dev/null 3>&-
	assert_ocirun_output "Read-only file system"
	assert_ocirun_output "$ROOT"
	assert_no_leftovers

	mount -o remount,rw "$ROOT"
	create_container "$CID"
	mount -o remount,ro "$ROOT"
	run -1 ocirun delete --force "$CID"
	assert_ocirun_output "Read-only file system"
	mount -o remount,rw "$ROOT"
	force_delete_leaves_nothing
}

@test "the rootfs removed between create and start: start or the process fails, delete --force removes everything" {
	create_container "$CID"
	rm -rf --one-file-system "$BUNDLE/rootfs"
	ocirun start "$CID" </dev/null >/dev/null 2>&1 3>&- || true
	# Nothing to run: the process cannot have started.
	wait_for_status "$CID" stopped
	force_delete_leaves_nothing
}

@test "the init killed from outside: created, running and paused containers are removed by delete --force" {
	local pid
	create_container "$CID"
	pid=$(container_pid "$CID")
	kill -9 "$pid"
	run -1 ocirun start "$CID"
	assert_output --partial "$CID"
	wait_for_status "$CID" stopped
	force_delete_leaves_nothing

	set_args sh -c 'sleep 600 & exec sleep 600'
	run_detached "$CID"
	wait_for_status "$CID" running
	kill -9 "$(container_pid "$CID")"
	wait_for_status "$CID" stopped
	force_delete_leaves_nothing

	run_detached "$CID"
	wait_for_status "$CID" running
	run -0 ocirun pause "$CID"
	pid=$(container_pid "$CID")
	kill -9 "$pid"
	force_delete_leaves_nothing
}
