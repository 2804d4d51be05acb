#!/usr/bin/env bats
# linux.netDevices: a host interface (one end of a veth pair made here) is
# moved into the container's network namespace, renamed, with its
# permanent addresses, and up; it is gone from the host; when the
# container's namespace dies with the container, the kernel destroys it
# (a virtual device; a physical one would come back to the host).

load helpers

setup() {
	setup_bundle
	skip_unless_ocirun "runc 1.1 has no netDevices (runc 1.3 added them)"
	# Interface names are at most 15 bytes: the test's number and a
	# random part, unique among tests running at once.
	IF_HOST="oct$(printf %04x $((RANDOM)))${BATS_TEST_NUMBER}a"
	IF_PEER="${IF_HOST%a}b"
	ip link add "$IF_HOST" type veth peer name "$IF_PEER"
	ip addr add 10.231.77.1/24 dev "$IF_HOST"
	set_args sleep 1000
}

teardown() {
	[ -z "${IF_HOST:-}" ] || ip link del "$IF_HOST" 2>/dev/null || true
	[ -z "${IF_PEER:-}" ] || ip link del "$IF_PEER" 2>/dev/null || true
	teardown_bundle
}

# gone_from_host IF [SECS]: wait until the host has no interface IF.
gone_from_host() {
	local i
	for ((i = 0; i < ${2:-5} * 20; i++)); do
		ip link show "$1" >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	echo "interface $1 is still on the host" >&2
	return 1
}

@test "netDevices: the interface moves in under its new name, with its address, and up" {
	update_config '.linux.netDevices = {($h): {"name": "ctr0"}}' --arg h "$IF_HOST"
	run_detached "$CID"
	run -0 ocirun exec "$CID" ip -o link show ctr0
	assert_output --regexp '[<,]UP[,>]'
	run -0 ocirun exec "$CID" ip -o -4 addr show ctr0
	assert_output --partial "inet 10.231.77.1/24"
	# Gone from the host; its peer is still there.
	run ip link show "$IF_HOST"
	[ "$status" -ne 0 ]
	ip link show "$IF_PEER" >/dev/null
	# The namespace dies with the container and takes the veth pair along.
	ocirun delete --force "$CID"
	gone_from_host "$IF_PEER"
	run ip link show "$IF_HOST"
	[ "$status" -ne 0 ]
}

@test "netDevices: without a name it keeps its own; a %d template gets a free number" {
	local second="${IF_PEER}"
	update_config '.linux.netDevices = {($h): {}, ($p): {"name": "eth%d"}}' \
		--arg h "$IF_HOST" --arg p "$second"
	set_args sh -c "ip -o link show | cut -d: -f2 | tr -d ' ' | cut -d@ -f1 | sort"
	run -0 ocirun run "$CID" </dev/null
	assert_line "$IF_HOST"
	assert_line "eth0"
	gone_from_host "$IF_HOST"
	gone_from_host "$IF_PEER"
}

@test "netDevices: a name taken in the container is an error naming the device; it stays on the host" {
	update_config '.linux.netDevices = {($h): {"name": "lo"}}' --arg h "$IF_HOST"
	run -1 ocirun run "$CID" </dev/null
	assert_ocirun_output "linux.netDevices.$IF_HOST: the container has an interface \"lo\" already"
	assert_no_leftovers
	ip link show "$IF_HOST" >/dev/null
}

@test "netDevices: a host interface that does not exist is an error naming it" {
	update_config '.linux.netDevices = {"octnosuchif0": {}}'
	run -1 ocirun run "$CID" </dev/null
	assert_ocirun_output "linux.netDevices.octnosuchif0: find it on the host"
	assert_no_leftovers
}
