#!/usr/bin/env bats
# User namespaces run by root: id maps (ranges), file ownership through the
# mapping, setgroups, devices (made on the host for linux.devices, the
# host's bound for the default ones), joining a user namespace by path.

load helpers
load userns_helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}

teardown() { teardown_userns; }

@test "userns: a range mapping 0->100000 (65536) is written; root inside owns the mapped files" {
	userns_bundle 100000 65536
	set_args sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups
		stat -c "%u:%g" /bin /etc/passwd; touch /made-inside && stat -c "%u:%g" /made-inside'
	run -0 ocirun run "$CID"
	assert_line --index 0 0
	assert_line --index 1 0
	# uid_map then gid_map, each "0 100000 65536".
	[ "$(echo "${lines[2]}" | tr -s ' ')" = " 0 100000 65536" ]
	[ "$(echo "${lines[3]}" | tr -s ' ')" = " 0 100000 65536" ]
	# Root creating the namespace leaves setgroups usable.
	assert_line --index 4 allow
	assert_line --index 5 0:0
	assert_line --index 6 0:0
	assert_line --index 7 0:0
	# On the host the file belongs to the mapped id.
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/made-inside")" = 100000:100000 ]
}

@test "userns: the host sees the same mapping in /proc/PID/uid_map; ls -ln / shows 0 owners" {
	userns_bundle 100000 65536
	set_args sleep 100
	run_detached "$CID"
	local pid
	pid=$(container_pid "$CID")
	[ "$(tr -s ' ' <"/proc/$pid/uid_map")" = " 0 100000 65536" ]
	[ "$(tr -s ' ' <"/proc/$pid/gid_map")" = " 0 100000 65536" ]
	[ "$(stat -c %u "/proc/$pid")" = 100000 ]
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	run -0 ocirun exec "$CID" sh -c 'ls -ln / | awk "NR > 1 && \$9 == \"bin\" { print \$3, \$4 }"; id -u'
	assert_line --index 0 "0 0"
	assert_line --index 1 0
}

@test "userns: several ranges; an id of the second range lands on its host id" {
	chown -R 100000:100000 "$BUNDLE/rootfs"
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000},
		                        {"containerID": 1000, "hostID": 300000, "size": 10}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000},
		                        {"containerID": 1000, "hostID": 300000, "size": 10}]
		| .process.capabilities.effective += ["CAP_CHOWN"] | .process.capabilities.permitted += ["CAP_CHOWN"]
		| .process.capabilities.bounding += ["CAP_CHOWN"]'
	set_args sh -c 'cat /proc/self/uid_map; touch /f && chown 1005:1003 /f && stat -c %u:%g /f'
	run -0 ocirun run "$CID"
	[ "$(echo "${lines[0]}" | tr -s ' ')" = " 0 100000 1000" ]
	[ "$(echo "${lines[1]}" | tr -s ' ')" = " 1000 300000 10" ]
	assert_line --index 2 1005:1003
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/f")" = 300005:300003 ]
}

@test "userns: additionalGids work (setgroups is not denied when root writes the maps)" {
	userns_bundle 100000 65536
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20]}'
	set_args sh -c 'id -u; id -G'
	run -0 ocirun run "$CID"
	assert_line --index 0 1000
	assert_line --index 1 "1000 10 20"
}

@test "userns: a user outside the mapping is an error naming process.user" {
	userns_bundle 100000 1000
	update_config '.process.user = {"uid": 5000, "gid": 0}'
	run ! ocirun run "$CID"
	assert_ocirun_output "process.user.uid"
	assert_output --partial 5000
}

@test "userns: devices are bind mounts of the host's, usable as root inside" {
	userns_bundle 100000 65536
	# Reading and writing as the host allows "other" (root inside is not
	# the host root): /dev/zero is readable, /dev/null writable where the
	# host's is (a host may have a non-standard mode).
	set_args sh -c 'stat -c "%F %t,%T" /dev/null /dev/zero; head -c 5 /dev/zero | wc -c
		awk "\$5 == \"/dev/null\" { n++ } END { print n + 0 }" /proc/self/mountinfo
		echo x >/dev/null && echo wrote'
	run ocirun run "$CID"
	assert_line --index 0 "character special file 1,3"
	assert_line --index 1 "character special file 1,5"
	assert_line --index 2 5
	# mknod is not allowed in a user namespace: /dev/null is a mount point.
	assert_line --index 3 1
	if [ "$(stat -c %a /dev/null)" = 666 ]; then
		assert_success
		assert_line --index 4 wrote
	fi
}

# A device node never needs setuid or exec: the binds of the host's nodes
# are nosuid,noexec (as crun makes them), with a read-only rootfs too.
@test "userns: the device binds (default and linux.devices) are nosuid,noexec" {
	userns_bundle 100000 65536
	update_config '.root.readonly = true
		| .linux.devices += [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
	set_args awk '$5 == "/dev/null" || $5 == "/dev/fuse" || $5 == "/dev/tty" {
		n = split($6, o, ","); f = ""
		for (i = 1; i <= n; i++) if (o[i] == "nosuid" || o[i] == "noexec") f = f " " o[i]
		print $5 f }' /proc/self/mountinfo
	run -0 ocirun run "$CID"
	assert_equal "$(echo "$output" | sort)" "$(printf '%s\n' "/dev/fuse nosuid noexec" \
		"/dev/null nosuid noexec" "/dev/tty nosuid noexec")"
}

# mknod is refused in a user namespace, and the host's node, bound instead,
# has the host's mode and owner or does not exist: linux.devices nodes are
# made on the host (in a tmpfs attached nowhere) with the config's mode and
# owner mapped to host ids, and attached inside. /dev/ocitest-zero does not
# exist on the host.
@test "userns: linux.devices get the config's mode and owner, even without a host node" {
	skip_unless_ocirun "runc 1.1 binds the host's node"
	userns_bundle 100000 65536
	[ ! -e /dev/ocitest-zero ]
	update_config '.linux.devices += [{"path": "/dev/ocitest-zero", "type": "c", "major": 1,
		"minor": 5, "fileMode": 420, "uid": 10, "gid": 11}]'
	set_args sh -c 'stat -c "%F %t,%T %a %u:%g" /dev/ocitest-zero; head -c 3 /dev/ocitest-zero | wc -c'
	local mounts_before
	mounts_before=$(wc -l </proc/self/mountinfo)
	run -0 ocirun run "$CID"
	assert_line --index 0 "character special file 1,5 644 10:11"
	assert_line --index 1 3
	[ ! -e /dev/ocitest-zero ]
	assert_equal "$(wc -l </proc/self/mountinfo)" "$mounts_before"
	# An owner the mapping does not cover is an error naming the field.
	update_config '.linux.devices[-1].uid = 70000'
	run -1 ocirun run "$CID"
	assert_output --partial 'linux.devices[0].uid: 70000 is not mapped by linux.uidMappings'
	assert_no_leftovers
}

@test "userns: a second container joins the first one's user namespace by path" {
	userns_bundle 100000 65536
	set_args sleep 100
	run_detached "$CID"
	local pid
	pid=$(container_pid "$CID")

	local b2="$TEST_TMP/bundle2"
	"$REPO_ROOT/tests/make-bundle.sh" --from "$BUNDLE/rootfs" "$b2" "$BUNDLE/config.json" >&2
	jq --arg p "/proc/$pid/ns/user" '.linux.namespaces = (.linux.namespaces | map(if .type == "user" then .path = $p else . end))
		| del(.linux.uidMappings, .linux.gidMappings)
		| .process.args = ["sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; touch /joined"]' \
		"$b2/config.json" >"$b2/c" && mv "$b2/c" "$b2/config.json"
	run -0 ocirun run --bundle "$b2" "$CID-b"
	assert_line --index 0 "$(readlink "/proc/$pid/ns/user")"
	[ "$(echo "${lines[1]}" | tr -s ' ')" = " 0 100000 65536" ]
	assert_line --index 2 0
	[ "$(stat -c %u "$b2/rootfs/joined")" = 100000 ]
}

@test "userns: a bind source the container's root could not reach is opened from the host" {
	userns_bundle 100000 65536
	# the mapped root has no search permission on $TEST_TMP/locked
	mkdir -p "$TEST_TMP/locked/src"
	chmod 0700 "$TEST_TMP/locked"
	echo reached >"$TEST_TMP/locked/src/f"
	chmod 0755 "$TEST_TMP/locked/src"
	chmod 0644 "$TEST_TMP/locked/src/f"
	update_config '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind"]}]' \
		--arg s "$TEST_TMP/locked/src"
	set_args cat /mnt/f
	run -0 ocirun run "$CID"
	assert_output reached
}
