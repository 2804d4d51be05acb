#!/usr/bin/env bats
# config.json values that must be refused before anything is made: each is
# an error naming the field, exit status 1, and nothing left behind (no
# state dir, cgroup, mount or process). Also two failures whose message
# used to hide the cause: a memory limit too low to start, a mount without
# a type. Runs against runc as a control; the cases runc 1.1 accepts (the
# spec or a later runc refuses them) are ocirun's only.

load helpers

setup() {
	setup_bundle
	set_args true
}

teardown() {
	# A failed run of the host-sysctl test on a broken runtime must not
	# leave the host changed.
	if [ -n "${HOST_SYSCTL_SAVED:-}" ]; then
		echo "$HOST_SYSCTL_SAVED" >/proc/sys/vm/overcommit_ratio
	fi
	teardown_bundle
}

# refused FIELD [COMMAND...]: COMMAND (default `run`) fails with status 1,
# ocirun's message names FIELD, and nothing of $CID is left.
refused() {
	local field=$1
	shift
	[ $# -gt 0 ] || set -- run
	run -1 ocirun "$@" "$CID" </dev/null
	assert_ocirun_output "$field"
	assert_no_leftovers
}

@test "without a mount namespace: rootfsPropagation and a user namespace are refused, nothing made" {
	skip_unless_ocirun "runc 1.1 changes the host's propagation"
	update_config '.linux.namespaces |= map(select(.type != "mount"))'
	local before
	before=$(awk '{ print $5, $6, $7 }' /proc/self/mountinfo | sort)
	update_config '.linux.rootfsPropagation = "rslave"'
	refused "config.json: linux.rootfsPropagation: needs a mount namespace"
	update_config 'del(.linux.rootfsPropagation) | .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	refused "config.json: linux.namespaces: a user namespace needs a mount namespace too"
	[ "$(awk '{ print $5, $6, $7 }' /proc/self/mountinfo | sort)" = "$before" ]
}

@test "an empty ociVersion is refused" {
	skip_unless_ocirun "runc 1.1 does not check ociVersion"
	update_config '.ociVersion = ""'
	refused "config.json: ociVersion: must not be empty"
}

@test "an empty mounts[].destination is refused, naming its index" {
	local n
	n=$(jq '.mounts | length' "$BUNDLE/config.json")
	update_config '.mounts += [{"destination": "", "type": "tmpfs", "source": "tmpfs"}]'
	refused "config.json: mounts[$n].destination: must not be empty"
}

# refused_nul JQ FIELD: after JQ (on the original config), `run` fails
# naming FIELD and the NUL byte.
refused_nul() {
	cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	update_config "$1"
	refused "config.json: $2"
	assert_output --partial "must not contain a NUL byte"
}

@test "a NUL byte inside a string is refused, naming the field" {
	skip_unless_ocirun "runc 1.1 passes a hostname with a NUL to the kernel"
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	local n
	n=$(jq '.mounts | length' "$BUNDLE/config.json")
	refused_nul '.hostname = "web\u0000evil"' "hostname"
	refused_nul '.process.cwd = "/tmp\u0000/x"' "process.cwd"
	refused_nul '.process.env += ["X=1\u0000Y=2"]' "process.env["
	refused_nul '.mounts += [{"destination": "/mnt\u0000x", "type": "tmpfs", "source": "tmpfs"}]' \
		"mounts[$n].destination"
}

@test "a relative linux.devices[].path is refused" {
	skip_unless_ocirun "runc 1.1 accepts a relative device path"
	update_config '.linux.devices = [{"path": "dev/ocitest", "type": "c", "major": 1, "minor": 3}]'
	refused 'config.json: linux.devices[0].path: must be an absolute path, got "dev/ocitest"'
}

@test "linux.uidMappings without a user namespace is refused" {
	skip_unless_ocirun "runc 1.1 ignores the mappings"
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	refused "config.json: linux.uidMappings: needs a user namespace"
}

@test "a new user namespace without uid or gid mappings is refused before anything is made" {
	update_config '.linux.namespaces += [{"type": "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
	refused "config.json: linux.uidMappings: a new user namespace needs uid mappings"
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	refused "config.json: linux.gidMappings: a new user namespace needs gid mappings"
}

@test "process.terminal with create and no --console-socket is refused" {
	update_config '.process.terminal = true'
	refused "config.json: process.terminal:" create --bundle "$BUNDLE"
	assert_ocirun_output "needs a console socket"
}

@test "duplicate process.rlimits types are refused" {
	skip_unless_ocirun "runc 1.1 applies the last one"
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024},
		{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512}]'
	refused 'config.json: process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"'
}

@test "linux.timeOffsets without a time namespace is refused" {
	skip_unless_ocirun "runc 1.1 ignores timeOffsets"
	update_config '.linux.timeOffsets = {"monotonic": {"secs": 3600}}'
	refused "config.json: linux.timeOffsets: needs a time namespace"
}

@test "a linux.intelRdt.closID that is a path is refused" {
	update_config '.linux.intelRdt = {"closID": "../../ocitest"}'
	refused "config.json: linux.intelRdt.closID: must be a plain name"
}

@test "linux.intelRdt is refused: ocirun cannot place a container in a resctrl group" {
	skip_unless_ocirun "runc 1.1 ignores intelRdt without resctrl"
	update_config '.linux.intelRdt = {"closID": "ocitest", "l3CacheSchema": "L3:0=f"}'
	refused "config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by ocirun"
}

@test "linux.mountLabel is refused on a host without SELinux" {
	skip_unless_ocirun "runc 1.1 ignores mountLabel without SELinux"
	update_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
	refused "config.json: linux.mountLabel: SELinux is not enabled on this host"
}

@test "linux.personality.flags are refused: the spec defines none" {
	skip_unless_ocirun "runc 1.1 ignores personality flags"
	update_config '.linux.personality = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}'
	refused 'config.json: linux.personality.flags[0]: unsupported flag "ADDR_NO_RANDOMIZE"'
}

@test "linux.netDevices without a network namespace of its own is refused" {
	skip_unless_ocirun "runc 1.1 ignores netDevices"
	update_config '.linux.namespaces |= map(select(.type != "network"))
		| .linux.netDevices = {"ocitest0": {}}'
	refused "config.json: linux.netDevices: needs the container's own network namespace"
}

@test "a mount with gidMappings but no uidMappings is refused, naming it" {
	skip_unless_ocirun "runc 1.1 ignores mount mappings"
	local n
	n=$(jq '.mounts | length' "$BUNDLE/config.json")
	update_config '.mounts += [{"destination": "/mnt", "source": "/tmp", "options": ["bind"],
		"gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}]'
	refused "config.json: mounts[$n].gidMappings: needs uidMappings as well"
}

@test "a comment in config.json is refused: it is strict JSON" {
	{ echo '// made by hand'; cat "$BUNDLE/config.json"; } >"$TEST_TMP/c" && mv "$TEST_TMP/c" "$BUNDLE/config.json"
	refused "config.json: line 1:"
	assert_ocirun_output "comment"
}

@test "a NUL byte after the JSON is refused, not cut off" {
	skip_unless_ocirun "runc decodes one JSON value and ignores what follows"
	printf '\0 trailing' >>"$BUNDLE/config.json"
	refused "config.json: line"
}

@test "a config.json nested 300000 levels deep is refused, not a crash" {
	skip_unless_ocirun "runc's Go decoder has its own depth limit and message"
	# yajl_tree_free recursed once per level: 600 KB of brackets in an
	# unknown field overflowed the stack (exit 139). Found by tests/fuzz.
	python3 -c 'import sys; n = 300000; sys.stdout.write("[" * n + "]" * n)' >"$TEST_TMP/deep"
	jq -cj . "$BUNDLE/config.json" | sed 's/}$//' >"$TEST_TMP/c"
	{ cat "$TEST_TMP/c"; printf ', "x-deep": '; cat "$TEST_TMP/deep"; printf '}'; } >"$BUNDLE/config.json"
	refused "config.json: line 1: nested more than 256 levels deep"
}

@test "a host-global linux.sysctl is refused and the host value is unchanged" {
	local before want
	before=$(cat /proc/sys/vm/overcommit_ratio)
	want=$(((before + 7) % 100))
	HOST_SYSCTL_SAVED=$before
	update_config '.linux.sysctl = {"vm.overcommit_ratio": $v}' --arg v "$want"
	refused 'config.json: linux.sysctl: "vm.overcommit_ratio" is not in a separate kernel namespace'
	assert_equal "$(cat /proc/sys/vm/overcommit_ratio)" "$before"

	# The host's own pattern: a runtime that wrongly applies it changes nothing.
	update_config '.linux.sysctl = {"kernel.core_pattern": $v}' --arg v "$(cat /proc/sys/kernel/core_pattern)"
	refused 'config.json: linux.sysctl: "kernel.core_pattern" is not in a separate kernel namespace'
}

@test "a net.* sysctl without a network namespace of its own is refused" {
	local cur
	cur=$(cat /proc/sys/net/ipv4/ip_forward)
	# The host's value: a runtime that wrongly applies it changes nothing.
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": $v}
		| .linux.namespaces |= map(select(.type != "network"))' --arg v "$cur"
	refused 'config.json: linux.sysctl: "net.ipv4.ip_forward" needs the container'"'"'s own network namespace'
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$cur"
}

@test "namespaced sysctls are applied inside the container" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234",
		"fs/mqueue/msg_max": "17", "kernel.domainname": "ocitest.example"}'
	set_args cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni \
		/proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname
	run -0 ocirun run "$CID" </dev/null
	assert_equal "$output" "$(printf '1\n1234\n17\nocitest.example')"
}

# Two values for one name: crun refuses it, runc 1.1 takes the sysctl.
@test "a kernel.hostname/kernel.domainname sysctl that differs from hostname/domainname is refused" {
	skip_unless_ocirun "runc takes a kernel.domainname sysctl that differs from domainname"
	update_config '.hostname = "hostmachine" | .domainname = "foomachine"
		| .linux.sysctl = {"kernel.domainname": "foo"}'
	refused 'config.json: linux.sysctl: "kernel.domainname" = "foo" conflicts with domainname "foomachine"'
	update_config '.linux.sysctl = {"kernel/hostname": "other"}'
	refused 'config.json: linux.sysctl: "kernel/hostname" = "other" conflicts with hostname "hostmachine"'

	# The same value in both is no conflict.
	update_config '.linux.sysctl = {"kernel.domainname": "foomachine", "kernel.hostname": "hostmachine"}'
	set_args sh -c 'hostname; cat /proc/sys/kernel/domainname'
	run -0 ocirun run "$CID" </dev/null
	assert_equal "$output" "$(printf 'hostmachine\nfoomachine')"
}

@test "a memory limit too low to start says the init was OOM-killed" {
	update_config '.linux.resources.memory = {"limit": 1}'
	refused "linux.resources.memory.limit"
	assert_ocirun_output "killed by the OOM killer"
}

@test "a mount without a type that is not a bind mount names mounts[N].type" {
	local n
	n=$(jq '.mounts | length' "$BUNDLE/config.json")
	update_config '.mounts += [{"destination": "/mnt", "source": "tmpfs"}]'
	refused "mounts[$n].type: missing, and it is not a bind mount"
}
