#!/usr/bin/env bats
# checkpoint and restore with CRIU, in the VM tier (tests/vm/check-host.sh).
#
# Why in the VM: CRIU 3.17 (Debian 12) cannot dump on the development
# host's 6.18 kernel ("Unexpected rt vDSO area bounds"); it works on Debian
# 12's own 6.1 kernel, which the VM boots. The error cases that never reach
# a dump run on the host: tests/integration/checkpoint.bats.
#
# The containers count in a shell loop, one number a line into a file on a
# bind mount (an external mount for CRIU): a restored loop goes on where it
# stopped, a restarted one would begin at 1 again. Emulation is slow (a
# dump or a restore takes 5-30 s), so each test checks several things
# with one checkpoint and one restore: three tests, about 3 minutes.

load ../integration/helpers
load ../integration/plumbing_helpers

# A dump or restore under emulation takes far longer than a create.
OCIRUN_TIMEOUT=180

setup() {
	command -v criu >/dev/null || {
		echo "criu is not installed (tests/deps.sh installs it)" >&2
		return 1
	}
	setup_bundle
	OUT="$TEST_TMP/out"
	IMG="$TEST_TMP/img"
	mkdir -p "$OUT"
	update_config '.mounts += [{"destination": "/out", "type": "bind", "source": $o, "options": ["rbind"]}]' \
		--arg o "$OUT"
	count_loop
}

teardown() {
	ocirun delete -f "$CID-2" >/dev/null 2>&1 || true
	teardown_plumbing
}

# count_loop [ECHO]: process.args count into /out/count every 0.2 s; ECHO
# also prints "tick N" on stdout.
count_loop() {
	set_args sh -c "i=0; while :; do i=\$((i+1)); ${1:+echo tick \$i;} echo \$i >>/out/count; sleep 0.2; done"
}

# start_counting [ID]: run -d with stdio on /dev/null: CRIU cannot dump a
# file of the host's (detach.out) the container cannot see.
start_counting() {
	ocirun run -d "${1:-$CID}" </dev/null >/dev/null 2>&1 3>&-
}

last_count() { tail -n 1 "$OUT/count" 2>/dev/null; }

# wait_for_count N: until the loop has written N or more (60 s: emulation).
wait_for_count() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(last_count)" -ge "$1" ] 2>/dev/null && return 0
		sleep 0.1
	done
	echo "the count did not reach $1: it is at '$(last_count)'" >&2
	return 1
}

# assert_counting_from FIRST FILE: FILE holds FIRST, FIRST+1, ... without a
# gap or a repeat.
assert_counting_from() {
	run awk -v first="$1" '$1 != first + NR - 1 { print "line " NR ": " $1 ", want " first + NR - 1; exit 1 }' "$2"
	assert_success
}

# assert_stands_still: the loop writes nothing for a second.
assert_stands_still() {
	local before
	before=$(last_count)
	sleep 1
	[ "$(last_count)" = "$before" ] || fail "the count went on from $before to $(last_count): still running"
}

@test "checkpoint stops the container; restore goes on counting and sending over TCP, in its cgroup with its memory limit" {
	update_config '.linux.resources.memory.limit = 268435456'
	# A listener and a client in the container's network namespace; the
	# client sends the count over the connection (--tcp-established). The
	# listener's stdin is a pipe that stays open: on /dev/null, as sh gives
	# a background job, it would close the connection at once.
	set_args sh -c 'sleep 1000000 | nc -l -p 5000 >/out/received &
		i=0; while :; do i=$((i+1)); echo $i; echo $i >>/out/count; sleep 0.2; done |
			sh -c "until nc 127.0.0.1 5000; do sleep 0.2; done"'
	start_counting
	wait_for_count 3
	run ocirun checkpoint --tcp-established --image-path "$IMG" "$CID"
	assert_success
	[ "$(container_status "$CID")" = stopped ]
	assert_stands_still
	local stopped_at
	stopped_at=$(last_count)
	[ -s "$IMG/inventory.img" ] && [ -s "$IMG/dump.log" ]

	# Into the same id: the stopped container is replaced.
	run ocirun restore -d --tcp-established --image-path "$IMG" "$CID" </dev/null
	assert_success
	[ "$(container_status "$CID")" = running ]
	wait_for_count $((stopped_at + 3))
	assert_counting_from 1 "$OUT/count"
	# What goes over the connection goes on too, through the same sockets.
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(tail -n 1 "$OUT/received")" -gt $((stopped_at + 1)) ] 2>/dev/null && break
		sleep 0.2
	done
	assert_counting_from 1 "$OUT/received"
	[ "$(tail -n 1 "$OUT/received")" -gt $((stopped_at + 1)) ]

	# The restored loop is in the container's cgroup, remade with the limit.
	local pid dir
	pid=$(container_pid "$CID")
	if is_cgroup_v2; then dir=$(cgroup_dir_of "$pid"); else dir=$(cgroup_dir_of "$pid" memory); fi
	[[ $dir == *"$CID"* ]] || fail "restored into cgroup $dir, not the container's"
	if is_cgroup_v2; then
		[ "$(cat "$dir/memory.max")" = 268435456 ]
	else
		[ "$(cat "$dir/memory.limit_in_bytes")" = 268435456 ]
	fi
	grep -qx "$pid" "$dir/cgroup.procs"
}

@test "checkpoint --leave-running; restore into a new id from a copy of the image elsewhere" {
	start_counting
	wait_for_count 3
	run ocirun checkpoint --leave-running --image-path "$IMG" "$CID"
	assert_success
	[ "$(container_status "$CID")" = running ]
	local after
	after=$(last_count)
	wait_for_count $((after + 2))
	ocirun delete -f "$CID"
	mv "$OUT/count" "$OUT/count.before"

	mkdir "$TEST_TMP/elsewhere"
	cp -a "$IMG" "$TEST_TMP/elsewhere/img"
	rm -rf "$IMG"
	# As in a rootfs made anew on another host: no mount point for the bind
	# mount (create made it); restore makes it.
	rmdir "$BUNDLE/rootfs/out"
	run ocirun restore -d --image-path "$TEST_TMP/elsewhere/img" --work-path "$TEST_TMP/criu-work" "$CID-2" </dev/null
	assert_success
	[ -s "$TEST_TMP/criu-work/restore.log" ]
	[ "$(container_status "$CID-2")" = running ]
	wait_for_file "$OUT/count" 60
	wait_for_count 2
	# It goes on from where the checkpoint was taken: not from 1, and not
	# past what the original wrote by then.
	local first
	first=$(head -n 1 "$OUT/count")
	[ "$first" -gt 1 ] && [ "$first" -le $((after + 1)) ] ||
		fail "the restored loop began at $first; the checkpoint was taken at or before $after"
	assert_counting_from "$first" "$OUT/count"
	ocirun delete -f "$CID-2"
}

@test "a terminal: pre-dump, dump on top of it (--parent-path); restore passes the new pty master to --console-socket" {
	update_config '.process.terminal = true'
	count_loop tick
	start_recvtty() {
		run_bg "$1" "$RECVTTY" --mode print --pid-file "$TEST_TMP/$1.listening" "$TEST_TMP/$1.sock"
		wait_for_file "$TEST_TMP/$1.listening"
	}
	start_recvtty tty1
	ocirun run -d --console-socket "$TEST_TMP/tty1.sock" "$CID" </dev/null >/dev/null 2>&1 3>&-
	wait_for_text "$TEST_TMP/tty1.out" "tick 3" 60
	run ocirun checkpoint --pre-dump --image-path "$IMG/pre" "$CID"
	assert_success
	[ "$(container_status "$CID")" = running ]
	local after
	after=$(last_count)
	wait_for_count $((after + 2))
	run ocirun checkpoint --parent-path ../pre --image-path "$IMG/final" "$CID"
	assert_success
	[ "$(container_status "$CID")" = stopped ]
	# The dump refers to the pre-dump's pages rather than repeating them.
	[ "$(readlink "$IMG/final/parent")" = ../pre ]
	local stopped_at
	stopped_at=$(last_count)

	start_recvtty tty2
	run ocirun restore -d --console-socket "$TEST_TMP/tty2.sock" --image-path "$IMG/final" "$CID" </dev/null
	assert_success
	wait_for_count $((stopped_at + 3))
	assert_counting_from 1 "$OUT/count"
	# The loop's output arrives on the new master, going on from the checkpoint.
	wait_for_text "$TEST_TMP/tty2.out" "tick $((stopped_at + 2))" 60
	run grep -c "tick 1\$" "$TEST_TMP/tty2.out"
	assert_output 0
}
