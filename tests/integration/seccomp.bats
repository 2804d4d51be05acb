#!/usr/bin/env bats
# linux.seccomp, checked from inside the container: the filter is there
# (/proc/self/status Seccomp: 2), denied syscalls fail with the configured
# errno or kill the process, and the rest works. Runs unchanged against runc
# (OCIRUN=/usr/sbin/runc) as a control; ocirun's error wording is checked
# through assert_ocirun_output.

load helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}

teardown() {
	stop_agent
	teardown_bundle
}

# seccomp JSON: linux.seccomp = JSON.
seccomp() {
	update_config '.linux.seccomp = $s' --argjson s "$1"
}

# deny_mkdir [EXTRA_RULE_FIELDS]: default allow, mkdir/mkdirat → ERRNO.
deny_mkdir() {
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO" '"${1:+, $1}"'}]}'
}

@test "ERRNO: mkdir fails with EPERM, everything else works, Seccomp is 2" {
	deny_mkdir
	set_args sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; touch /tmp/ok && echo touched; mkdir /tmp/d'
	run -1 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line "touched"
	assert_line --partial "mkdir: can't create directory '/tmp/d': Operation not permitted"
	assert_no_leftovers
}

@test "errnoRet gives the configured errno" {
	deny_mkdir '"errnoRet": 100'
	set_args mkdir /tmp/d
	run -1 ocirun run "$CID"
	assert_output --partial "Network is down"  # ENETDOWN = 100
}

@test "defaultErrnoRet: everything not allowed fails with it" {
	# busybox sh and runc's last steps after loading the filter (the exec
	# fifo) need these; all else gets ENETDOWN.
	seccomp '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 100,
	          "syscalls": [{"names": ["execve", "brk", "arch_prctl", "set_tid_address",
	                                  "set_robust_list", "rseq", "prlimit64", "readlink",
	                                  "mprotect", "getuid", "geteuid", "getgid", "getegid",
	                                  "getpid", "getppid", "rt_sigaction", "rt_sigprocmask",
	                                  "rt_sigreturn", "write", "writev", "exit_group", "exit",
	                                  "uname", "ioctl", "fcntl", "close", "dup2", "read",
	                                  "fstat", "newfstatat", "getcwd", "mmap", "munmap",
	                                  "futex", "sigaltstack", "wait4", "getrandom",
	                                  "capget", "capset", "prctl", "setgroups", "setresuid",
	                                  "setresgid", "setuid", "setgid", "fchdir", "chdir",
	                                  "close_range", "epoll_pwait", "poll", "select",
	                                  "open", "openat", "lseek", "access", "faccessat",
	                                  "faccessat2", "statx", "fstatfs", "getdents64",
	                                  "sched_yield", "nanosleep", "clock_nanosleep",
	                                  "clock_gettime", "gettid", "tgkill", "madvise",
	                                  "mincore", "epoll_ctl", "epoll_wait", "epoll_create1",
	                                  "clone", "clone3", "fork", "vfork", "pipe2",
	                                  "sched_getaffinity", "keyctl", "setsid", "getpgrp",
	                                  "setpgid", "umask", "kill", "pidfd_open", "pidfd_send_signal",
	                                  "waitid", "setns", "unshare", "fchown", "chown",
	                                  "sendmsg", "recvmsg", "sendto", "recvfrom"],
	                        "action": "SCMP_ACT_ALLOW"}]}'
	set_args sh -c 'echo before; mkdir /tmp/d; echo after $?'
	run ocirun run "$CID"
	assert_line "before"
	assert_line --partial "Network is down"
	assert_line "after 1"
}

@test "KILL_PROCESS: the process dies of SIGSYS" {
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	set_args mkdir /tmp/d
	run -159 ocirun run "$CID"  # 128 + SIGSYS (31)
	assert_no_leftovers
}

@test "args: MASKED_EQ refuses only world-writable modes" {
	# chmod(path, mode), fchmodat(dirfd, path, mode): refuse mode & 0o002.
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [
	            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
	             "args": [{"index": 1, "value": 2, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]},
	            {"names": ["fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO",
	             "args": [{"index": 2, "value": 2, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
	set_args sh -c 'touch /tmp/f; chmod 0755 /tmp/f && echo 755 ok; chmod 0777 /tmp/f || echo 777 refused; stat -c %a /tmp/f'
	run -0 ocirun run "$CID"
	assert_line "755 ok"
	assert_line --partial "Operation not permitted"
	assert_line "777 refused"
	assert_line "755"
}

@test "args: two indexes in one rule must both match" {
	# kill(pid, sig): refuse only kill(1, SIGUSR1).
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
	             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
	                      {"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]}'
	# sh is pid 1 here; a background sleep is another target.
	set_args sh -c 'trap "" USR1 USR2; kill -USR1 1 || echo usr1 refused; kill -USR2 1 && echo usr2 ok; sleep 100 & kill -USR1 $! && echo other ok'
	run -0 ocirun run "$CID"
	assert_line "usr1 refused"
	assert_line "usr2 ok"
	assert_line "other ok"
}

@test "the filter holds for a non-root user, with and without noNewPrivileges" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	deny_mkdir
	set_args sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d'
	run -1 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_output --partial "Operation not permitted"

	# Without no_new_privs the filter must be loaded while still privileged.
	update_config '.process.noNewPrivileges = false'
	run -1 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
	assert_output --partial "Operation not permitted"
}

@test "unknown syscall names and extra architectures are accepted" {
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	          "syscalls": [{"names": ["no_such_syscall", "mkdir", "mkdirat"],
	                        "action": "SCMP_ACT_ERRNO"},
	                       {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}'
	set_args mkdir /tmp/d
	run -1 ocirun run "$CID"
	assert_output --partial "Operation not permitted"
}

@test "run.oci.seccomp_fail_unknown_syscall: an unknown syscall name is an error naming it" {
	skip_unless_ocirun "crun's annotation; runc has no such switch"
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["mkdir", "no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}'
	set_args mkdir /tmp/d
	update_config '.annotations["run.oci.seccomp_fail_unknown_syscall"] = "1"'
	run -1 ocirun run "$CID"
	assert_ocirun_output 'linux.seccomp.syscalls[0].names[1]: unknown syscall "no_such_syscall"'
	assert_no_leftovers
	# Also in a rule the default action makes a no-op.
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
	                       {"names": ["no_such_syscall"], "action": "SCMP_ACT_ALLOW"}]}'
	run -1 ocirun run "$CID"
	assert_ocirun_output 'linux.seccomp.syscalls[1].names[0]: unknown syscall "no_such_syscall"'
	assert_no_leftovers
	# "0" is off, as with crun: the name is skipped and the rule holds.
	update_config '.annotations["run.oci.seccomp_fail_unknown_syscall"] = "0"'
	deny_mkdir
	update_config '.linux.seccomp.syscalls[0].names += ["no_such_syscall"]'
	run -1 ocirun run "$CID"
	assert_output --partial "Operation not permitted"
}

@test "seccomp flags are accepted and the filter still applies" {
	skip_unless_ocirun "runc 1.1 supports no seccomp flags"
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
	          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	set_args sh -c 'grep Seccomp: /proc/self/status; mkdir /tmp/d'
	run -1 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_output --partial "Operation not permitted"

	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}'
	run -1 ocirun run "$CID"
	assert_output --partial 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NOPE"'
	assert_no_leftovers
}

@test "exec'd processes get the filter too" {
	deny_mkdir
	set_args sleep 100
	ocirun run -d "$CID" </dev/null >/dev/null 2>&1 3>&-
	wait_for_status "$CID" running
	run -1 ocirun exec "$CID" mkdir /tmp/d
	assert_output --partial "Operation not permitted"
	run -0 ocirun exec "$CID" grep Seccomp: /proc/self/status
	assert_output --regexp 'Seccomp:[[:space:]]+2'
	run -0 ocirun kill "$CID" KILL
}

# What `strace busybox grep|sleep` shows these make, and nothing else: a
# profile made by tracing the application. The runtime's own steps after
# loading the filter must fit in it (runc's rule: as late as possible).
strict_profile() {
	seccomp '{"defaultAction": "SCMP_ACT_ERRNO",
	          "syscalls": [{"names": ["execve", "arch_prctl", "brk", "close", "exit",
	                                  "exit_group", "getrandom", "getuid", "mprotect",
	                                  "newfstatat", "openat", "prctl", "prlimit64", "read",
	                                  "readlink", "rseq", "set_robust_list", "set_tid_address",
	                                  "write", "clock_nanosleep"],
	                        "action": "SCMP_ACT_ALLOW"}]}'
}

# The example config's capabilities: KILL, NET_BIND_SERVICE, AUDIT_WRITE.
EXAMPLE_CAPS=0000000020000420

@test "a profile allowing only the process's own system calls: run and exec work, with and without noNewPrivileges" {
	strict_profile
	set_args grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
	run -0 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	assert_line --regexp "^CapEff:[[:space:]]+$EXAMPLE_CAPS\$"
	assert_no_leftovers
	is_runtime ocirun || return 0  # runc makes more system calls without noNewPrivileges

	# The filter then needs CAP_SYS_ADMIN: loaded before it is gone, and
	# gone all the same.
	update_config '.process.noNewPrivileges = false'
	run -0 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
	assert_line --regexp "^CapEff:[[:space:]]+$EXAMPLE_CAPS\$"
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	run -0 ocirun run "$CID"
	assert_line --regexp '^CapEff:[[:space:]]+0000000000000000$'

	set_args sleep 100
	run_detached "$CID"
	wait_for_status "$CID" running
	for nnp in --no-new-privs ""; do
		run -0 ocirun exec $nnp "$CID" grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
		assert_line --regexp '^Seccomp:[[:space:]]+2$'
		assert_line --regexp '^CapEff:[[:space:]]+0000000000000000$'
	done
	run -0 ocirun exec --user 0:0 "$CID" grep CapEff: /proc/self/status
	assert_line --regexp "^CapEff:[[:space:]]+$EXAMPLE_CAPS\$"
	run -0 ocirun kill "$CID" KILL
}

@test "an unknown action is an error naming the field, and nothing is left" {
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
	                       {"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]}'
	run -1 ocirun run "$CID"
	assert_ocirun_output 'linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO"'
	assert_no_leftovers
}

@test "an unknown architecture or operator is an error naming the field" {
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_FOO"]}'
	run -1 ocirun run "$CID"
	assert_ocirun_output 'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_FOO"'
	assert_no_leftovers

	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
	                        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BAD"}]}]}'
	run -1 ocirun run "$CID"
	assert_ocirun_output 'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_BAD"'
	assert_no_leftovers
}

@test "the containers-common default profile: a shell works, sethostname is refused" {
	local prof=/usr/share/containers/seccomp.json
	[ -r "$prof" ] || skip "no $prof (golang-github-containers-common)"
	# That file is in moby's format; keep what applies to amd64 without
	# extra capabilities, which is what podman would hand the runtime.
	jq '{defaultAction, defaultErrnoRet,
	     architectures: [.archMap[] | select(.architecture == "SCMP_ARCH_X86_64")
	                     | .architecture, .subArchitectures[]],
	     syscalls: [.syscalls[]
	                | select((.includes.caps // []) | length == 0)
	                | select((.includes.arches // []) as $a
	                         | ($a | length == 0) or ($a | index("amd64")))
	                | select((.excludes.arches // []) | index("amd64") | not)
	                | del(.includes, .excludes, .comment)]}' "$prof" >"$TEST_TMP/profile.json"
	update_config '.linux.seccomp = $p[0]' --slurpfile p "$TEST_TMP/profile.json"
	# The rules kept are those for a container without CAP_SYS_ADMIN, which
	# refuse sethostname; granting the capability anyway means only the
	# filter can refuse it.
	update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
	set_args sh -c 'grep Seccomp: /proc/self/status; mkdir /tmp/x && rmdir /tmp/x && echo mkdir ok; hostname other || echo sethostname refused'
	run -0 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line "mkdir ok"
	assert_line --partial "Operation not permitted"
	assert_line "sethostname refused"
}

# The agent is built with ocirun (tests/helpers/seccomp-agent in the build
# dir); SECCOMP_AGENT overrides, e.g. when $OCIRUN is runc.
_seccomp_agent() {
	local a
	for a in "${SECCOMP_AGENT:-}" "$(dirname "$OCIRUN")/tests/helpers/seccomp-agent" \
		"$REPO_ROOT/tests/helpers/seccomp-agent"; do
		[ -n "$a" ] && [ -x "$a" ] && { echo "$a"; return 0; }
	done
	return 1
}

# _start_agent AGENT SOCK OUT: the agent in the background (AGENT_PID, which
# teardown kills), once its socket is there.
_start_agent() {
	"$1" "$2" "$3" 100 </dev/null >"$TEST_TMP/agent.log" 2>&1 3>&- &
	AGENT_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do [ -S "$2" ] && break; sleep 0.05; done
}

@test "NOTIFY: the agent gets the process state and the fd, and answers for the container" {
	# runc 1.1.5 hangs with this config: the agent never gets a connection.
	skip_unless_ocirun "runc 1.1.5 never connects to the agent here"
	local agent
	agent=$(_seccomp_agent) || skip "tests/helpers/seccomp-agent not built (set SECCOMP_AGENT)"
	local sock="$TEST_TMP/agent.sock" out="$TEST_TMP/agent.json"
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "listenerMetadata": "hello agent",
	          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	update_config '.linux.seccomp.listenerPath = $p' --arg p "$sock"
	_start_agent "$agent" "$sock" "$out"
	set_args sh -c 'mkdir /tmp/d; echo status $?; touch /tmp/f && echo touched'
	run -0 ocirun run "$CID"
	assert_line --partial "Network is down"  # the agent's answer: ENETDOWN
	assert_line "status 1"
	assert_line "touched"
	wait "$AGENT_PID"
	AGENT_PID=
	run -0 jq -r '[(.ociVersion | startswith("1.")), .fds[0], .metadata, .state.id, .state.bundle, (.pid > 0)] | join(" ")' "$out"
	assert_output "true seccompFd hello agent $CID $BUNDLE true"
	run -0 cat "$out.syscalls"
	assert_line --regexp '^mkdir(at)?$'
	assert_no_leftovers
}

# crun hands a listener to listenerPath even when no rule notifies (its
# test_seccomp.py waits for that message); runc 1.1.5 sends nothing. The
# agent gets the state and a listener on which nothing ever arrives.
@test "listenerPath without a NOTIFY rule: the agent still gets the state and a listener" {
	skip_unless_ocirun "runc 1.1.5 sends nothing without a NOTIFY rule"
	local agent
	agent=$(_seccomp_agent) || skip "tests/helpers/seccomp-agent not built (set SECCOMP_AGENT)"
	local sock="$TEST_TMP/agent.sock" out="$TEST_TMP/agent.json"
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "no rules"}'
	update_config '.linux.seccomp.listenerPath = $p' --arg p "$sock"
	_start_agent "$agent" "$sock" "$out"
	set_args sh -c 'grep -E "^Seccomp:" /proc/self/status; mkdir /tmp/d && echo mkdir ok'
	run -0 ocirun run "$CID"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line "mkdir ok"
	# The agent exits 0 once the listener it got is gone with the container.
	wait "$AGENT_PID"
	AGENT_PID=
	run -0 jq -r '[.fds[0], .metadata, .state.id, .state.status] | join(" ")' "$out"
	assert_output "seccompFd no rules $CID creating"
	assert_no_leftovers
}

@test "NOTIFY without listenerPath is an error" {
	skip_unless_ocirun "runc's check and message differ"
	seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
	          "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
	run -1 ocirun run "$CID"
	assert_output --partial 'linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath'
	assert_no_leftovers
}
