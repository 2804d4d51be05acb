#!/usr/bin/env bats
# Per-process settings applied with one system call each, observed from
# inside the container: process.ioPriority, process.scheduler and
# linux.memoryPolicy for the init and exec'd processes,
# process.execCPUAffinity and process.oomScoreAdj for exec'd ones. Each was
# ignored before (parsed or not).

load helpers
load plumbing_helpers

setup() {
	setup_bundle
	skip_unless_ocirun "runc 1.1 applies none of these (runc 1.2 and 1.3 added them)"
	set_args sleep 1000
}

teardown() { teardown_plumbing; }

# exec_process JSON ARG...: `exec --process` running ARGS, with the
# settings of JSON on top of a minimal process.
exec_process() {
	local extra=$1
	shift
	jq -n --argjson extra "$extra" \
		'{"cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"], "args": $ARGS.positional} + $extra' \
		--args -- "$@" >"$TEST_TMP/process.json"
	run -0 ocirun exec --process "$TEST_TMP/process.json" "$CID"
}

# /proc/self/sched of the process: its policy and prio (120 + nice for
# the normal policies).
SCHED_OF_SELF='grep -E "^(policy|prio) " /proc/self/sched | tr -s " :" " "'

@test "process.ioPriority applies to the init and to exec'd processes" {
	update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
	start_detached
	# The init itself, seen by busybox ionice from inside.
	run -0 ocirun exec "$CID" ionice -p 1
	assert_output "idle"
	# exec without --process takes the config's.
	run -0 ocirun exec "$CID" ionice
	assert_output "idle"
	exec_process '{"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 6}}' ionice
	assert_output "best-effort: prio 6"
}

@test "process.scheduler applies to the init and to exec'd processes" {
	update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	start_detached
	run -0 ocirun exec "$CID" sh -c "${SCHED_OF_SELF//self/1}"
	assert_line "policy 3"
	assert_line "prio 127"
	run -0 ocirun exec "$CID" sh -c "$SCHED_OF_SELF"
	assert_line "policy 3"
	# (A real-time policy would need cpu.rt_runtime_us in the container's
	# cgroup on a v1 host with RT group scheduling.)
	exec_process '{"scheduler": {"policy": "SCHED_IDLE"}}' sh -c "$SCHED_OF_SELF"
	assert_line "policy 5"
}

@test "process.scheduler SCHED_ISO is refused by name: Linux has no such policy" {
	update_config '.process.scheduler = {"policy": "SCHED_ISO"}'
	run -1 ocirun run "$CID" </dev/null
	assert_output --partial "process.scheduler.policy: SCHED_ISO is not implemented by Linux"
	assert_no_leftovers
}

@test "linux.memoryPolicy sets the NUMA policy of the init and of exec'd processes" {
	update_config '.linux.memoryPolicy = {"mode": "MPOL_INTERLEAVE", "nodes": "0"}'
	start_detached
	# numa_maps shows the policy each mapping runs under: the process's.
	run -0 ocirun exec "$CID" sh -c 'head -1 /proc/1/numa_maps; head -1 /proc/self/numa_maps'
	assert_line --index 0 --regexp '^[0-9a-f]+ interleave:0 '
	assert_line --index 1 --regexp '^[0-9a-f]+ interleave:0 '
}

@test "linux.memoryPolicy the kernel refuses is an error naming the field" {
	# MPOL_BIND needs nodes (set_mempolicy(2)).
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND"}'
	run -1 ocirun run "$CID" </dev/null
	assert_output --partial "linux.memoryPolicy: set_mempolicy MPOL_BIND"
	assert_no_leftovers
}

@test "process.oomScoreAdj applies to exec'd processes, not only to the init" {
	# Positive values only: lowering it needs CAP_SYS_RESOURCE, which a
	# test host may not give.
	update_config '.process.oomScoreAdj = 123'
	start_detached
	run -0 ocirun exec "$CID" cat /proc/1/oom_score_adj /proc/self/oom_score_adj
	assert_output "123
123"
	exec_process '{"oomScoreAdj": 456}' cat /proc/self/oom_score_adj
	assert_output "456"
}

@test "process.execCPUAffinity: initial then final for exec'd processes, never the init" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs, this host has $(nproc)"
	update_config '.process.execCPUAffinity = {"initial": "1"}'
	start_detached
	local all
	all=$(grep Cpus_allowed_list "/proc/$(container_pid "$CID")/status" | cut -f2)
	# exec without --process takes the config's: only initial, which the
	# kernel keeps through the move into the cgroup.
	run -0 ocirun exec "$CID" grep Cpus_allowed_list /proc/1/status /proc/self/status
	assert_line "/proc/1/status:Cpus_allowed_list:	$all"
	assert_line "/proc/self/status:Cpus_allowed_list:	1"
	exec_process '{"execCPUAffinity": {"initial": "1", "final": "0"}}' grep Cpus_allowed_list /proc/self/status
	assert_output "Cpus_allowed_list:	0"
}
