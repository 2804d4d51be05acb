#!/usr/bin/env bats
# linux.rootfsPropagation: the propagation of the container's "/", seen in
# its own /proc/self/mountinfo, and the rootfs layouts engines use.

load helpers

setup() {
	setup_bundle
	set_args cat /proc/self/mountinfo
}

teardown() {
	# The test's own mounts (a shared parent, the rootfs bound onto
	# itself) go before teardown_bundle looks for leftovers.
	if [ -n "${TEST_TMP:-}" ]; then
		cd /
		umount -R "$TEST_TMP/peers" 2>/dev/null || true
	fi
	teardown_bundle
}

# The optional fields of the mountinfo line of "/" (shared:N, master:N,
# unbindable), from the container's own view.
root_propagation() {
	awk '$5 == "/" { s = ""; for (i = 7; $i != "-"; i++) s = s " " $i; print s }' <<<"$output" | tail -1
}

# The bundle moved to $TEST_TMP/peers/bundle, a shared mount (what the
# host's / is under systemd), with its rootfs a mount of its own (an
# engine's overlay snapshot); the test's working directory.
bundle_under_shared_mount() {
	mkdir "$TEST_TMP/peers"
	mount --bind "$TEST_TMP/peers" "$TEST_TMP/peers"
	mount --make-shared "$TEST_TMP/peers"
	mkdir "$TEST_TMP/peers/bundle"
	cp -a "$BUNDLE/config.json" "$BUNDLE/rootfs" "$TEST_TMP/peers/bundle/"
	BUNDLE="$TEST_TMP/peers/bundle"
	if [ "${1:-}" != --plain-rootfs ]; then
		mount --bind "$BUNDLE/rootfs" "$BUNDLE/rootfs"
		findmnt -no PROPAGATION "$BUNDLE/rootfs" | grep -q shared
	fi
	cd "$BUNDLE"
}

# A non-recursive value changes "/" alone: the mounts below it, the one
# holding the bundle included, stay shared with the host's. The rootfs's
# bind must not be made in that peer group: pivot_root refuses it
# (EINVAL), and the bind, the container's mounts with it, would appear in
# the host's mount table (systemd's /tmp, a shared tmpfs, is such a mount).
@test "non-recursive rootfsPropagation under a shared mount: runs, nothing reaches the host" {
	bundle_under_shared_mount --plain-rootfs
	local before p
	before=$(findmnt -rno TARGET -R "$TEST_TMP/peers")
	for p in private slave shared unbindable; do
		update_config ".linux.rootfsPropagation = \"$p\""
		run -0 ocirun run "$CID"
		assert_equal "$(findmnt -rno TARGET -R "$TEST_TMP/peers")" "$before"
	done
}

@test "rootfsPropagation unset: the container's / is a slave of the host's shared mount" {
	bundle_under_shared_mount
	run -0 ocirun run "$CID"
	[[ "$(root_propagation)" == *master:* ]]
	[[ "$(root_propagation)" != *shared:* ]]
}

@test "rootfsPropagation private: neither shared nor a slave" {
	update_config '.linux.rootfsPropagation = "private"'
	run -0 ocirun run "$CID"
	[[ "$(root_propagation)" != *master:* ]]
	[[ "$(root_propagation)" != *shared:* ]]
}

@test "rootfsPropagation rshared: the container's / is shared" {
	update_config '.linux.rootfsPropagation = "rshared"'
	run -0 ocirun run "$CID"
	[[ "$(root_propagation)" == *shared:* ]]
}

# containerd's layout for a pod with a Bidirectional mount: the rootfs is a
# mount of its own (the overlay snapshot) under a shared mount, and
# rootfsPropagation is rshared. pivot_root refuses a new root whose parent
# mount is shared: the rootfs's own mount must be made private too.
@test "rootfsPropagation rshared with a rootfs that is its own mount under a shared parent" {
	bundle_under_shared_mount
	update_config '.linux.rootfsPropagation = "rshared"'
	run -0 ocirun run "$CID"
	[[ "$(root_propagation)" == *shared:* ]]
	# The host's mount keeps its propagation: only the container's copy
	# was made private.
	findmnt -no PROPAGATION "$BUNDLE/rootfs" | grep -q shared
}

@test "rootfsPropagation unbindable: the container's / is unbindable" {
	update_config '.linux.rootfsPropagation = "unbindable"'
	run -0 ocirun run "$CID"
	[[ "$(root_propagation)" == *unbindable* ]]
}

@test "rootfsPropagation runbindable: the container runs and its / is unbindable" {
	update_config '.linux.rootfsPropagation = "runbindable"'
	run -0 ocirun run "$CID"
	[[ "$(root_propagation)" == *unbindable* ]]
}

@test "rootfsPropagation with an unknown value is an error naming the field, leaving nothing" {
	update_config '.linux.rootfsPropagation = "sideways"'
	run ! ocirun run "$CID"
	assert_output --partial "linux.rootfsPropagation"
	assert_no_leftovers
}
