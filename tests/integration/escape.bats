#!/usr/bin/env bats
# Escapes: the runtime binary (CVE-2019-5736), leaked fds and cwd
# (CVE-2024-21626), symlinks planted in the rootfs.

load helpers
load userns_helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}

teardown() { teardown_userns; }

# --- CVE-2019-5736: the runtime binary ------------------------------------

# A container with every capability (CAP_SYS_PTRACE too) and no user
# namespace gets the runtime's init in its pid namespace: a second container
# created (not started) with linux.namespaces pid.path = the first one's. Its
# init is a fork of the runtime waiting for `start`, exactly what a process
# entering the container is before it execs. The attacker keeps
# /proc/<init>/exe open, waits until the runtime is gone (ETXTBSY no longer
# protects the file) and reopens it for writing through /proc/self/fd.
@test "CVE-2019-5736: the container cannot overwrite the runtime binary through /proc/PID/exe" {
	# A copy: an unprotected runtime must not be able to break the build.
	local copy="$TEST_TMP/ocirun-copy" sum0
	cp "$OCIRUN" "$copy"
	sum0=$(sha256sum <"$copy")
	local caps
	caps=$(all_caps_json)
	update_config '.process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}
		| .process.noNewPrivileges = false' --argjson c "$caps"
	set_args sleep 1000
	"$copy" --root "$ROOT" run -d "$CID" </dev/null >/dev/null 2>&1 3>&-
	local apid
	apid=$(container_pid "$CID")

	local b2="$TEST_TMP/victim"
	"$REPO_ROOT/tests/make-bundle.sh" --rootfs "$BUNDLE/rootfs" "$b2" "$BUNDLE/config.json" >&2
	jq --arg p "/proc/$apid/ns/pid" '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)' \
		"$b2/config.json" >"$b2/c" && mv "$b2/c" "$b2/config.json"
	timeout 20 "$copy" --root "$ROOT" create --bundle "$b2" "$CID-v" </dev/null >/dev/null 2>&1 3>&-
	local vpid n
	vpid=$(container_pid "$CID-v")
	n=$(ns_pid "$vpid")
	[ "$(readlink "/proc/$apid/ns/pid")" = "$(readlink "/proc/$vpid/ns/pid")" ]

	ocirun exec -d "$CID" sh -c "
		exec 3</proc/$n/exe || { echo cannot-open >/tmp/result; exit; }
		if echo x >>/proc/$n/exe; then echo written-while-running >/tmp/early; fi
		touch /tmp/opened
		while [ ! -e /tmp/go ]; do sleep 0.05; done
		if echo PWNED >>/proc/self/fd/3; then echo written >/tmp/result; else echo refused >/tmp/result; fi
	" </dev/null >/dev/null 2>&1 3>&-
	local r="$BUNDLE/rootfs/tmp" i
	for ((i = 0; i < 100; i++)); do [ -e "$r/opened" ] || [ -e "$r/result" ] && break; sleep 0.05; done
	# The runtime goes away: nothing runs the binary any more.
	ocirun delete --force "$CID-v"
	touch "$r/go"
	for ((i = 0; i < 100; i++)); do [ -e "$r/result" ] && break; sleep 0.05; done
	echo "attacker: $(cat "$r/result" 2>/dev/null) $(cat "$r/early" 2>/dev/null)"
	[ ! -e "$r/early" ]
	[ "$(sha256sum <"$copy")" = "$sum0" ]
	# It had the access it needed: the open worked, the write was refused.
	[ "$(cat "$r/result")" = refused ]
}

@test "CVE-2019-5736: ocirun run/exec run from a read-only clone of the binary" {
	skip_unless_ocirun "ocirun's binary protection"
	set_args sleep 1000
	ocirun run "$CID" </dev/null >/dev/null 2>&1 3>&- &
	local bg=$! p exes="" ro=""
	wait_for_status "$CID" running
	local ino f
	ino=$(stat -c %i "$OCIRUN")
	for p in $(pgrep -x ocirun -P "$(pgrep -f -- "--root $ROOT run $CID" | tr '\n' ',' | sed 's/,$//')"); do
		exes+="$(readlink "/proc/$p/exe") "
		# access(W_OK) sees the read-only mount (root passes every other check).
		[ -w "/proc/$p/exe" ] && ro+="writable:$p "
		# No mapping of the binary leads back to a writable path either.
		for f in /proc/"$p"/map_files/*; do
			[ "$(stat -L -c %i "$f" 2>/dev/null)" = "$ino" ] && [ -w "$f" ] && ro+="mapped-writable:$f "
		done
	done
	ocirun kill "$CID" KILL
	wait "$bg" || true
	echo "runtime exe: '$exes' $ro"
	[ -n "$exes" ]
	[ -z "$ro" ]
	[ "$(stat -c %s "$OCIRUN")" -gt 0 ]
}

# --- CVE-2024-21626: fds and cwd ------------------------------------------

# `ls /proc/$$/fd; true`: the shell forks ls with no pipe of its own open
# (a pipeline or $(...) would show the shell's pipe as fd 3).
@test "CVE-2024-21626: only fds 0 1 2 reach the container's process (run and exec)" {
	set_args sh -c 'ls /proc/$$/fd; sleep 1000'
	ocirun run -d "$CID" </dev/null >"$TEST_TMP/out" 2>&1 3>&-
	local i
	for ((i = 0; i < 100; i++)); do [ -s "$TEST_TMP/out" ] && break; sleep 0.05; done
	[ "$(echo $(cat "$TEST_TMP/out"))" = "0 1 2" ]
	run -0 ocirun exec "$CID" sh -c 'ls /proc/$$/fd; true'
	echo "exec: '${lines[*]}'"
	[ "${lines[*]}" = "0 1 2" ]
	# Foreground run too, with extra fds of the caller open: they are not
	# passed without --preserve-fds.
	set_args sh -c 'ls /proc/$$/fd; true'
	run -0 ocirun run "$CID-2" </dev/null 4</ 5>"$TEST_TMP/x"
	echo "run: '${lines[*]}'"
	[ "${lines[*]}" = "0 1 2" ]
	# The check sees an fd that is passed on purpose.
	run -0 ocirun run --preserve-fds 2 "$CID-3" </dev/null 3</ 4</
	[ "${lines[*]}" = "0 1 2 3 4" ]
}

# `..` repeated from the cwd ends at the container's root when the cwd is
# inside it; from a directory outside the root it walks up to the host's.
where_is_cwd='cd ../../../../../../../../../../.. 2>/dev/null
	if [ "$(stat -c %d:%i .)" = "$(stat -c %d:%i /)" ]; then echo INSIDE; else echo ESCAPED; fi'

@test "CVE-2024-21626: the cwd is inside the container for run and exec" {
	set_args sh -c "readlink /proc/self/cwd; $where_is_cwd"
	update_config '.process.cwd = "/tmp"'
	run -0 ocirun run "$CID"
	assert_line --index 0 /tmp
	assert_line --index 1 INSIDE
	set_args sleep 1000
	ocirun run -d "$CID" </dev/null >/dev/null 2>&1 3>&-
	run -0 ocirun exec --cwd /etc "$CID" sh -c "readlink /proc/self/cwd; $where_is_cwd"
	assert_line --index 0 /etc
	assert_line --index 1 INSIDE
}

# assert_cwd_refused STATUS PREFIX: the last `run` failed with STATUS
# because the chdir named by PREFIX found no directory behind the fd.
assert_cwd_refused() {
	[ "$status" -eq "$1" ]
	assert_output --regexp "$2: (Not a directory|No such file or directory)\$"
}

@test "CVE-2024-21626: cwd /proc/self/fd/N never lands outside the container (run and exec)" {
	# Control: a host directory handed over on purpose (--preserve-fds) is
	# outside, and the check sees it.
	set_args sh -c "$where_is_cwd"
	update_config '.process.cwd = "/proc/self/fd/3"'
	run ocirun run --preserve-fds 1 "$CID" 3</
	assert_output --partial ESCAPED

	# Without it no fd of the runtime's is there to chdir into: the chdir
	# itself fails (a start that failed for another reason, or a cwd that
	# worked, would print something else).
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		run ocirun run "$CID-$n" </dev/null
		refute_output --partial ESCAPED
		assert_cwd_refused 1 "process.cwd: chdir \"/proc/self/fd/$n\""
	done
	update_config '.process.cwd = "/"'
	set_args sleep 1000
	ocirun run -d "$CID" </dev/null >/dev/null 2>&1 3>&-
	for n in 3 4 5 6 7 8 9 10 11 12; do
		run ocirun exec --cwd "/proc/self/fd/$n" "$CID" sh -c "$where_is_cwd"
		refute_output --partial ESCAPED
		assert_cwd_refused 255 "cwd \"/proc/self/fd/$n\""
	done
}

# --- symlinks planted in the rootfs ---------------------------------------

# host_etc_snapshot: names and mtimes in the host's /etc (to see that
# nothing appeared or changed there).
host_etc_snapshot() { ls -la --time-style=+%s.%N /etc; sha256sum /etc/passwd; }

@test "symlink: a tmpfs on /mnt where rootfs/mnt -> /etc lands inside the rootfs" {
	rmdir "$BUNDLE/rootfs/mnt"
	ln -s /etc "$BUNDLE/rootfs/mnt"
	update_config '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs"}]'
	set_args sh -c 'stat -f -c %T /etc; touch /mnt/planted-'"$CID"' && echo planted
		awk "\$9 == \"tmpfs\" && (\$5 == \"/etc\" || \$5 == \"/mnt\") { print \$5 }" /proc/self/mountinfo'
	local before
	before=$(host_etc_snapshot)
	run ocirun run "$CID"
	[ ! -e "/etc/planted-$CID" ]
	[ "$(host_etc_snapshot)" = "$before" ]
	[ ! -e "$BUNDLE/rootfs/etc/planted-$CID" ]
	[ -z "$(_mounts_under /etc)" ]
	# It either refused the mount or put the tmpfs on the container's /etc.
	if [ "$status" = 0 ]; then
		assert_line --index 0 tmpfs
		assert_line --index 1 planted
		assert_line --index 2 /etc
	else
		assert_output --partial /mnt
	fi
}

@test "symlink: a tmpfs on /a/b where rootfs/a -> /etc creates nothing on the host" {
	ln -s /etc "$BUNDLE/rootfs/a"
	update_config '.mounts += [{"destination": "/a/b", "type": "tmpfs", "source": "tmpfs"}]'
	set_args sh -c 'stat -f -c %T /etc/b'
	local before
	before=$(host_etc_snapshot)
	run ocirun run "$CID"
	[ ! -e /etc/b ]
	[ "$(host_etc_snapshot)" = "$before" ]
	if [ "$status" = 0 ]; then
		assert_output tmpfs
		[ -d "$BUNDLE/rootfs/etc/b" ]
	else
		assert_output --partial /a/b
	fi
}

host_root_mounts() { awk '$5 == "/" || $5 == "/proc" { print $5, $9 }' /proc/self/mountinfo; }

@test "symlink: rootfs/proc -> / does not put proc over the host's or the container's root" {
	rmdir "$BUNDLE/rootfs/proc"
	ln -s / "$BUNDLE/rootfs/proc"
	set_args sh -c 'stat -f -c %T /; ls /bin/busybox'
	local before
	before=$(host_root_mounts)
	run ocirun run "$CID"
	[ "$(host_root_mounts)" = "$before" ]
	if [ "$status" = 0 ]; then
		refute_line --index 0 proc
		assert_line --index 1 /bin/busybox
	else
		assert_output --partial /proc
	fi
}

# runc's refusal, in runc's words (scripts and runc's mask.bats match them):
# proc and sysfs go on ordinary directories only, with nothing left behind.
@test "symlink: a rootfs/proc or rootfs/sys that is a symlink or a file is refused, in runc's words" {
	skip_unless_ocirun "message wording"
	local fs dir
	for fs in proc sysfs; do
		dir=${fs%fs}
		rmdir "$BUNDLE/rootfs/$dir"
		ln -s /symlink "$BUNDLE/rootfs/$dir"
		run ocirun run "$CID"
		assert_failure
		assert_output --partial "filesystem \"$fs\" must be mounted on ordinary directory"
		assert_no_leftovers
		rm "$BUNDLE/rootfs/$dir" && touch "$BUNDLE/rootfs/$dir"
		run ocirun run "$CID"
		assert_failure
		assert_output --partial "filesystem \"$fs\" must be mounted on ordinary directory"
		assert_no_leftovers
		rm "$BUNDLE/rootfs/$dir" && mkdir "$BUNDLE/rootfs/$dir"
	done
}

@test "symlink: rootfs/dev/null -> /etc/passwd: /dev/null is a device, host passwd untouched" {
	# Devices made in the rootfs's own /dev (no tmpfs hides the symlink).
	update_config '.mounts |= map(select(.destination != "/dev" and .destination != "/dev/pts"
		and .destination != "/dev/shm" and .destination != "/dev/mqueue"))'
	ln -s /etc/passwd "$BUNDLE/rootfs/dev/null"
	set_args sh -c 'stat -c "%F %t,%T" /dev/null; cat /etc/passwd | head -1'
	local before
	before=$(host_etc_snapshot)
	run ocirun run "$CID"
	[ "$(host_etc_snapshot)" = "$before" ]
	[ -z "$(_mounts_under /etc)" ]
	if [ "$status" = 0 ]; then
		assert_line --index 0 "character special file 1,3"
		assert_line --index 1 "root:x:0:0:root:/root:/bin/sh"
	else
		assert_output --partial /dev/null
	fi
	# Whatever happened stayed in the rootfs: its passwd is not a device.
	[ -f "$BUNDLE/rootfs/etc/passwd" ]
}

@test "symlink: rootfs/dev/null -> /etc/passwd in a user namespace (device bind mounts)" {
	update_config '.mounts |= map(select(.destination != "/dev" and .destination != "/dev/pts"
		and .destination != "/dev/shm" and .destination != "/dev/mqueue"))'
	ln -s /etc/passwd "$BUNDLE/rootfs/dev/null"
	userns_bundle 100000 65536
	set_args sh -c 'stat -c "%F %t,%T" /dev/null; head -1 /etc/passwd'
	local before
	before=$(host_etc_snapshot)
	run ocirun run "$CID"
	[ "$(host_etc_snapshot)" = "$before" ]
	if [ "$status" = 0 ]; then
		assert_line --index 0 "character special file 1,3"
		assert_line --index 1 "root:x:0:0:root:/root:/bin/sh"
	else
		assert_output --partial /dev/null
	fi
}

@test "a mount below /proc or /sys goes only over a procfs/sysfs file, never over the image's own" {
	# Before the proc mount, /proc/evil is a directory of the image.
	mkdir -p "$BUNDLE/rootfs/proc/evil"
	update_config '.mounts = [{destination: "/proc/evil", type: "tmpfs", source: "tmpfs"}] + .mounts'
	run ocirun run "$CID"
	assert_failure
	assert_output --partial /proc/evil
	assert_output --partial "not on procfs"
	assert_no_leftovers
	# After the sysfs mount, a tmpfs over one of its directories is fine.
	update_config '.mounts |= map(select(.destination != "/proc/evil"))
		| .mounts += [{destination: "/sys/kernel/mm", type: "tmpfs", source: "tmpfs"}]'
	set_args sh -c 'grep " /sys/kernel/mm " /proc/mounts'
	run -0 ocirun run "$CID"
	assert_output --partial tmpfs
}

@test "symlink: maskedPaths and readonlyPaths through symlinks stay in the container" {
	ln -s /etc/passwd "$BUNDLE/rootfs/secret"
	ln -s /etc "$BUNDLE/rootfs/rolink"
	update_config '.linux.maskedPaths += ["/secret"] | .linux.readonlyPaths += ["/rolink"]'
	set_args sh -c 'wc -c </etc/passwd; touch /etc/x 2>/dev/null && echo rw || echo ro'
	local before
	before=$(host_etc_snapshot)
	run ocirun run "$CID"
	[ "$(host_etc_snapshot)" = "$before" ]
	[ -z "$(_mounts_under /etc)" ]
	# The host's /etc is still writable (probe with a file of our own).
	touch "/etc/.ocirun-probe-$CID" && rm "/etc/.ocirun-probe-$CID"
	if [ "$status" = 0 ]; then
		# The container's own /etc/passwd masked, its /etc read-only.
		assert_line --index 0 0
		assert_line --index 1 ro
	else
		assert_output --regexp '/secret|/rolink'
	fi
}
