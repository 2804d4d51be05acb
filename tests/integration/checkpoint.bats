#!/usr/bin/env bats
# checkpoint and restore: the failures, which never get to a dump and so
# run on any host. Dumps and restores themselves need a kernel CRIU 3.17
# supports: tests/vm/checkpoint.bats, in the VM tier.

load helpers

setup() {
	skip_unless_ocirun "ocirun's messages and --criu handling"
	command -v criu >/dev/null || {
		echo "criu is not installed (tests/deps.sh installs it)" >&2
		return 1
	}
	setup_bundle
}

teardown() { teardown_bundle; }

@test "checkpoint of a stopped container fails, says so and writes no image" {
	set_args true
	run_detached "$CID"
	wait_for_status "$CID" stopped
	run ocirun checkpoint --image-path "$TEST_TMP/img" "$CID"
	assert_failure
	assert_output --partial "checkpoint \"$CID\": container \"$CID\" is stopped, not running"
	[ ! -e "$TEST_TMP/img" ]
	[ "$(container_status "$CID")" = stopped ]
}

@test "bad CRIU options are usage errors naming the flag, before anything is done" {
	skip_unless_ocirun "message wording"
	set_args sleep 600
	run_detached "$CID"
	local flags
	for flags in "--manage-cgroups-mode hard|--manage-cgroups-mode \"hard\": expected soft, full, strict or ignore" \
		"--empty-ns ipc|--empty-ns \"ipc\": only \"network\" is supported" \
		"--page-server 10.0.0.1|--page-server \"10.0.0.1\": expected ADDRESS:PORT" \
		"--page-server :99|--page-server \":99\": expected ADDRESS:PORT" \
		"--page-server host:70000|--page-server \"host:70000\": expected ADDRESS:PORT" \
		"--status-fd x|--status-fd \"x\": not a file descriptor"; do
		# shellcheck disable=SC2086 # the flag and its value
		run ocirun checkpoint ${flags%%|*} --image-path "$TEST_TMP/img" "$CID"
		assert_failure
		assert_output --partial "checkpoint: ${flags#*|}"
		[ ! -e "$TEST_TMP/img" ]
	done
	run ocirun restore -d --manage-cgroups-mode hard --image-path "$TEST_TMP/img" "$CID-2"
	assert_failure
	assert_output --partial "restore: --manage-cgroups-mode \"hard\": expected soft, full, strict or ignore"
	assert_no_leftovers "$CID-2"
	[ "$(container_status "$CID")" = running ]
}

@test "restore from a directory without a checkpoint fails before anything is made" {
	mkdir "$TEST_TMP/empty"
	run ocirun restore -d --image-path "$TEST_TMP/empty" "$CID"
	assert_failure
	assert_output --partial "restore \"$CID\": checkpoint image directory \"$TEST_TMP/empty\": no checkpoint there"
	assert_no_leftovers
	run ocirun restore -d --image-path "$TEST_TMP/missing" "$CID"
	assert_failure
	assert_output --partial "\"$TEST_TMP/missing\": no checkpoint there"
	assert_no_leftovers
}

@test "a restore CRIU fails names CRIU's log in the work path and leaves nothing behind" {
	mkdir "$TEST_TMP/img"
	echo "not an image" >"$TEST_TMP/img/inventory.img"
	run ocirun restore -d --image-path "$TEST_TMP/img" --work-path "$TEST_TMP/criu-work" "$CID" </dev/null
	assert_failure
	assert_output --partial "restore \"$CID\": criu restore failed"
	assert_output --partial "(CRIU's log: \"$TEST_TMP/criu-work/restore.log\")"
	[ -s "$TEST_TMP/criu-work/restore.log" ]
	assert_no_leftovers
}

@test "without CRIU: checkpoint and restore say so and change nothing; features and --help too" {
	set_args sleep 600
	run_detached "$CID"
	run ocirun --criu /nonexistent/criu checkpoint --image-path "$TEST_TMP/img" "$CID"
	assert_failure
	assert_output --partial "checkpoint \"$CID\": checkpoint/restore needs CRIU: \"/nonexistent/criu\" is not an executable file; install it with apt-get install criu, or name it with --criu PATH"
	[ "$(container_status "$CID")" = running ]
	[ ! -e "$TEST_TMP/img" ]

	mkdir "$TEST_TMP/img2"
	touch "$TEST_TMP/img2/inventory.img"
	run ocirun --criu /nonexistent/criu restore -d --image-path "$TEST_TMP/img2" "$CID-2"
	assert_failure
	assert_output --partial "needs CRIU"
	assert_no_leftovers "$CID-2"

	run "$OCIRUN" --criu /nonexistent/criu features
	assert_success
	jq -e '.annotations["io.github.ocirun.checkpoint"] | startswith("unavailable: checkpoint/restore needs CRIU")' <<<"$output"
	jq -e '.annotations | has("org.criu.version") | not' <<<"$output"
	run "$OCIRUN" features
	jq -e '.annotations["io.github.ocirun.checkpoint"] | startswith("available: CRIU ")' <<<"$output"

	run "$OCIRUN" --criu /nonexistent/criu --help
	assert_output --partial "checkpoint and restore are unavailable"
	run "$OCIRUN" --help
	assert_output --partial "checkpoint and restore use CRIU: $(command -v criu)"
}

# What CRIU needs of a container, as runc's init gives it: a tree that leads
# its own session, and no stdio on a host file the container cannot see.
@test "the init leads a session of its own and has the container's /dev/null as stdio" {
	set_args sleep 600
	run_detached "$CID"
	local pid
	pid=$(container_pid "$CID")
	# field 6 of /proc/PID/stat: the session id (after "(comm)")
	run awk '{ sub(/.*\) /, ""); print $4 }' "/proc/$pid/stat"
	assert_output "$pid"
	# run_detached gives it the host's /dev/null as stdin: now the
	# container's own node, on the container's /dev mount
	local host_mnt fd0_mnt
	host_mnt=$(awk '/^mnt_id:/ { print $2 }' /proc/self/fdinfo/0 </dev/null)
	fd0_mnt=$(awk '/^mnt_id:/ { print $2 }' "/proc/$pid/fdinfo/0")
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ]
	[ "$fd0_mnt" != "$host_mnt" ] || fail "fd 0 is still the host's /dev/null (mount $fd0_mnt)"
	run awk -v m="$fd0_mnt" '$1 == m { print $5 }' "/proc/$pid/mountinfo"
	assert_output /dev
}
