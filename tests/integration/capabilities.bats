#!/usr/bin/env bats
# process.capabilities and noNewPrivileges, checked from inside the
# container (/proc/self/status and operations that need a capability).
# Runs unchanged against runc (OCIRUN=/usr/sbin/runc) as a control; only
# ocirun's error wording is checked through assert_ocirun_output.

load helpers

# Bits of the capabilities used below (capability.h).
CAP_CHOWN=0
CAP_KILL=5
CAP_NET_BIND_SERVICE=10
CAP_SYS_ADMIN=21
CAP_AUDIT_WRITE=29

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}

# mask BIT...: the 16-hex-digit mask /proc/PID/status prints for those bits.
mask() {
	local m=0 b
	for b in "$@"; do m=$((m | (1 << b))); done
	printf '%016x' "$m"
}

# caps SET LIST: process.capabilities.SET = [LIST...] (comma separated).
caps() {
	update_config ".process.capabilities.$1 = (\$l | split(\",\") | map(select(. != \"\")))" \
		--arg l "$2"
}

# status_of FIELD: FIELD's value from the container's /proc/self/status
# (in $output from a run of `cat /proc/self/status`).
status_of() {
	echo "$output" | awk -v f="$1:" '$1 == f { print $2 }'
}

# run_status: run the container printing its /proc/self/status.
run_status() {
	set_args cat /proc/self/status
	run -0 ocirun run "$CID"
}

@test "the example config: exactly its three capabilities, no inheritable or ambient" {
	run_status
	local three
	three=$(mask $CAP_AUDIT_WRITE $CAP_KILL $CAP_NET_BIND_SERVICE)
	[ "$(status_of CapBnd)" = "$three" ]
	[ "$(status_of CapEff)" = "$three" ]
	[ "$(status_of CapPrm)" = "$three" ]
	# ambient is configured, but without inheritable the kernel refuses it
	[ "$(status_of CapInh)" = 0000000000000000 ]
	[ "$(status_of CapAmb)" = 0000000000000000 ]
	[ "$(status_of NoNewPrivs)" = 1 ]
	assert_no_leftovers
}

@test "no process.capabilities: root in the container has no capability at all" {
	update_config 'del(.process.capabilities)'
	run_status
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(status_of $f)" = 0000000000000000 ] || fail "$f is $(status_of $f)"
	done
	set_args chown 1 /etc/passwd
	run ocirun run "$CID"
	[ "$status" -ne 0 ]
	assert_output --partial "Operation not permitted"
}

@test "as root, exec gives (bounding | inheritable) capped by permitted under no_new_privs" {
	# execve(2) by uid 0 treats the program as having every file capability:
	# new permitted = bounding | inheritable, and no_new_privs (on in the
	# example config) caps that at the permitted set from before the exec.
	# Bounding, inheritable and ambient stay as configured.
	caps bounding CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE
	caps permitted CAP_CHOWN,CAP_KILL,CAP_SYS_ADMIN
	caps effective CAP_CHOWN
	caps inheritable CAP_KILL,CAP_CHOWN
	caps ambient CAP_CHOWN
	run_status
	[ "$(status_of NoNewPrivs)" = 1 ]
	[ "$(status_of CapBnd)" = "$(mask $CAP_CHOWN $CAP_KILL $CAP_NET_BIND_SERVICE)" ]
	[ "$(status_of CapInh)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	[ "$(status_of CapAmb)" = "$(mask $CAP_CHOWN)" ]
	[ "$(status_of CapPrm)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	[ "$(status_of CapEff)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
}

@test "as a user, bounding, inheritable and ambient are exactly as configured" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	caps bounding CAP_CHOWN,CAP_KILL,CAP_SYS_ADMIN,CAP_NET_BIND_SERVICE
	caps permitted CAP_CHOWN,CAP_KILL,CAP_SYS_ADMIN
	caps effective CAP_CHOWN,CAP_SYS_ADMIN
	caps inheritable CAP_KILL,CAP_CHOWN
	caps ambient CAP_CHOWN,CAP_KILL
	run_status
	[ "$(status_of CapBnd)" = "$(mask $CAP_CHOWN $CAP_KILL $CAP_SYS_ADMIN $CAP_NET_BIND_SERVICE)" ]
	[ "$(status_of CapInh)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	[ "$(status_of CapAmb)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	# a non-root exec keeps exactly the ambient set as permitted/effective
	[ "$(status_of CapPrm)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	[ "$(status_of CapEff)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
}

@test "CAP_SYS_ADMIN decides whether root may set the hostname" {
	set_args hostname changed-inside
	run ocirun run "$CID"
	[ "$status" -ne 0 ]
	assert_output --partial "Operation not permitted"

	for s in bounding effective permitted; do caps $s CAP_SYS_ADMIN; done
	set_args sh -c 'hostname changed-inside && hostname'
	run -0 ocirun run "$CID"
	assert_output "changed-inside"
}

@test "a non-root user keeps ambient capabilities across exec" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	for s in bounding effective permitted inheritable ambient; do caps $s CAP_CHOWN; done
	set_args sh -c 'touch /tmp/f && chown 1 /tmp/f && stat -c %u /tmp/f && cat /proc/self/status'
	run -0 ocirun run "$CID"
	assert_line --index 0 1
	[ "$(status_of CapAmb)" = "$(mask $CAP_CHOWN)" ]
	[ "$(status_of CapEff)" = "$(mask $CAP_CHOWN)" ]
	[ "$(status_of CapPrm)" = "$(mask $CAP_CHOWN)" ]
	[ "$(status_of CapBnd)" = "$(mask $CAP_CHOWN)" ]
}

@test "a non-root user without ambient capabilities loses them at exec" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	for s in bounding effective permitted; do caps $s CAP_CHOWN; done
	caps ambient ""
	set_args sh -c 'cat /proc/self/status; touch /tmp/f; chown 1 /tmp/f'
	run ocirun run "$CID"
	[ "$status" -ne 0 ]
	assert_output --partial "Operation not permitted"
	[ "$(status_of CapEff)" = 0000000000000000 ]
	[ "$(status_of CapPrm)" = 0000000000000000 ]
	[ "$(status_of CapBnd)" = "$(mask $CAP_CHOWN)" ]
	[ "$(status_of Uid | cut -f1)" = 1000 ]
}

@test "noNewPrivileges false leaves NoNewPrivs off" {
	update_config '.process.noNewPrivileges = false'
	run_status
	[ "$(status_of NoNewPrivs)" = 0 ]
}

@test "an unknown capability is an error naming the field, and nothing is left" {
	skip_unless_ocirun "runc only warns about unknown capabilities"
	caps bounding CAP_CHOWN,CAP_KILL,CAP_NO_SUCH_THING
	run -1 ocirun run "$CID"
	assert_output --partial 'process.capabilities.bounding[2]: unknown capability "CAP_NO_SUCH_THING"'
	assert_no_leftovers
}

@test "a capability name without the CAP_ prefix is refused" {
	skip_unless_ocirun "runc only warns about unknown capabilities"
	caps effective chown
	run -1 ocirun run "$CID"
	assert_output --partial 'process.capabilities.effective[0]: unknown capability "chown"'
	assert_no_leftovers
}

@test "exec gets the container's capabilities" {
	for s in bounding effective permitted; do caps $s CAP_KILL,CAP_CHOWN; done
	set_args sleep 100
	ocirun run -d "$CID" </dev/null >/dev/null 2>&1 3>&-
	wait_for_status "$CID" running
	run -0 ocirun exec "$CID" cat /proc/self/status
	[ "$(status_of CapEff)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	[ "$(status_of CapBnd)" = "$(mask $CAP_CHOWN $CAP_KILL)" ]
	run -0 ocirun kill "$CID" KILL
}

@test "CAP_DAC_OVERRIDE lets a user run a binary only its owner may execute" {
	# execve decides with the final credentials: the runtime's own check
	# must not judge by the real uid alone (access(2) ignores capabilities).
	printf '#!/bin/sh\necho ran\n' >"$BUNDLE/rootfs/bin/owner-only"
	chown 0:0 "$BUNDLE/rootfs/bin/owner-only"
	chmod 0700 "$BUNDLE/rootfs/bin/owner-only"
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	for s in bounding effective permitted inheritable ambient; do caps $s CAP_DAC_OVERRIDE; done
	set_args /bin/owner-only
	run -0 ocirun run "$CID"
	assert_output "ran"

	caps ambient ""
	caps inheritable ""
	run ocirun run "$CID"
	[ "$status" -ne 0 ]
	assert_output --partial "Permission denied"
}
