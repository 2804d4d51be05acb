#!/usr/bin/env bats
# Namespaces joined by path and the root filesystem's mounts, in the cases
# where runc's behaviour is the reference. Runs unchanged against runc
# (OCIRUN=/usr/sbin/runc) as a control.

load helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
	HOLDER_PID=
}

teardown() {
	if [ -n "$HOLDER_PID" ]; then
		kill "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	teardown_bundle
}

# hold_uts_namespace: a process in a uts namespace of its own as
# $HOLDER_PID, killed by teardown.
hold_uts_namespace() {
	unshare --uts sleep 1000 3>&- &
	HOLDER_PID=$!
	local own
	own=$(readlink /proc/self/ns/uts)
	for _ in $(seq 50); do
		[ "$(readlink "/proc/$HOLDER_PID/ns/uts" 2>/dev/null)" != "$own" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "a hostname is set in a uts namespace joined by path" {
	hold_uts_namespace
	update_config '.hostname = "joined-host" |
		.linux.namespaces |= map(if .type == "uts" then .path = $p else . end)' \
		--arg p "/proc/$HOLDER_PID/ns/uts"
	set_args hostname
	run -0 ocirun run "$CID"
	assert_output joined-host
	[ "$(nsenter --uts --target "$HOLDER_PID" hostname)" = joined-host ]
}

@test "a missing process.cwd is made before the root becomes read-only" {
	update_config '.root.readonly = true | .process.cwd = "/missing/dir"'
	set_args sh -c 'pwd; touch /x 2>/dev/null && echo writable || echo read-only'
	run -0 ocirun run "$CID"
	assert_output $'/missing/dir\nread-only'
	[ -d "$BUNDLE/rootfs/missing/dir" ]
}

@test "a read-only /dev is made read-only after /dev/pts and the device nodes" {
	update_config '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]'
	set_args sh -c 'grep " /dev " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1
		mount | grep -c " /dev/pts "; echo hi >/dev/null && echo null-ok
		touch /dev/x 2>/dev/null && echo writable || echo read-only'
	run -0 ocirun run "$CID"
	assert_output $'ro\n1\nnull-ok\nread-only'
}

@test "a tmpfs without mode= takes the mode of the directory it is mounted on" {
	mkdir -p "$BUNDLE/rootfs/private" "$BUNDLE/rootfs/shared"
	chmod 0700 "$BUNDLE/rootfs/private"
	chmod 2770 "$BUNDLE/rootfs/shared"
	update_config '.mounts += [
		{"destination": "/private", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
		{"destination": "/shared", "type": "tmpfs", "source": "tmpfs"},
		{"destination": "/made", "type": "tmpfs", "source": "tmpfs"}]'
	set_args stat -c %a /private /shared /made
	run -0 ocirun run "$CID"
	# /made did not exist: the tmpfs default
	assert_output $'700\n2770\n1777'
}

@test "a bind mount onto a dangling symlink lands on its target inside the root" {
	mkdir -p "$TEST_TMP/src"
	echo from-host >"$TEST_TMP/src/f"
	echo file-src >"$TEST_TMP/file-src"
	# absolute and relative symlinks to paths that do not exist yet; the
	# absolute one must resolve in the root, never on the host
	ln -s /no/such/dir "$BUNDLE/rootfs/dangling-dir"
	ln -s ../nowhere/file "$BUNDLE/rootfs/etc/dangling-file"
	update_config '.mounts += [
		{"destination": "/dangling-dir", "type": "bind", "source": $d, "options": ["bind"]},
		{"destination": "/etc/dangling-file", "type": "bind", "source": $f, "options": ["bind"]}]' \
		--arg d "$TEST_TMP/src" --arg f "$TEST_TMP/file-src"
	set_args sh -c 'cat /no/such/dir/f /nowhere/file'
	run -0 ocirun run "$CID"
	assert_output $'from-host\nfile-src'
	[ ! -e /no/such/dir ] && [ ! -e /nowhere ]
}

@test "--no-pivot: a nested user namespace cannot mount a fresh proc" {
	# The container's /proc has masked paths: not fully visible, so no new
	# proc for a nested user namespace. After chroot the host's /proc would
	# still count (it is in the mount namespace) unless it is hidden.
	for s in bounding effective permitted; do
		update_config ".process.capabilities.$s = [\"CAP_SYS_ADMIN\", \"CAP_SETUID\", \"CAP_SETGID\"]"
	done
	set_args unshare -Umpf --mount-proc echo mounted
	run ocirun run --no-pivot "$CID"
	[ "$status" -ne 0 ]
	refute_output --partial mounted
	assert_output --partial "not permitted"
	# the host keeps its /proc
	[ -e /proc/self/status ]
}

# The spec lets a config leave out the mount namespace: the container shares
# the runtime's (runc runs it so). Its mounts go below a bind of the rootfs,
# never anywhere else in the host's table, and the host's own mounts keep
# their propagation; exec lands in the container's root; delete, and a
# create that fails, leave the host's table as it was.
@test "without a mount namespace: the host's, mounts only below the rootfs, all gone after delete" {
	skip_unless_ocirun "runc 1.1 makes the host's / rslave and leaves its mounts behind"
	update_config '.linux.namespaces |= map(select(.type != "mount")) | .root.readonly = true'
	set_args sh -c 'readlink /proc/self/ns/mnt; ls /; touch /x 2>&1; sleep 100'
	local before rootfs
	before=$(awk '{ print $5, $6, $7 }' /proc/self/mountinfo | sort)
	rootfs=$(realpath "$BUNDLE/rootfs")
	run_detached "$CID"
	wait_for_status "$CID" running
	run -0 ocirun exec "$CID" sh -c 'readlink /proc/self/ns/mnt; ls /bin/sh; touch /y 2>&1; true'
	assert_line --index 0 "$(readlink /proc/self/ns/mnt)"
	assert_line --index 1 /bin/sh
	assert_output --partial "Read-only file system"
	# Every new mount is the rootfs's bind or below it.
	local added
	added=$(comm -13 <(echo "$before") <(awk '{ print $5, $6, $7 }' /proc/self/mountinfo | sort) |
		awk '{ print $1 }')
	[ -n "$added" ]
	while read -r m; do
		[[ "$m" == "$rootfs" || "$m" == "$rootfs"/* ]] || fail "mount $m outside the rootfs"
	done <<<"$added"
	echo "$added" | grep -qx "$rootfs/proc"
	run -0 ocirun delete --force "$CID"
	assert_equal "$(awk '{ print $5, $6, $7 }' /proc/self/mountinfo | sort)" "$before"
	# A create that fails after the rootfs was bound takes its mounts along.
	update_config '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/nonexistent-ocitest"}]'
	run -1 ocirun run "$CID"
	assert_equal "$(awk '{ print $5, $6, $7 }' /proc/self/mountinfo | sort)" "$before"
}
