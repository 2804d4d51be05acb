#!/bin/bash
# tests/engines/containerd.sh — containerd + ctr end to end, with the runtime
# under test.
#
#   RUNTIME=/path/to/runtime tests/engines/containerd.sh
#
# Starts a private containerd (Debian 12's 1.6) with its own root, state and
# sockets under a temp dir and the CRI plugin disabled, imports a busybox OCI
# image built here from busybox-static, and drives it with ctr. Every
# container is run with `ctr run --runc-binary WRAPPER --runc-root DIR`:
# containerd-shim-runc-v2 then calls WRAPPER (which logs each call and runs
# $RUNTIME) for create/start/exec/ps/pause/resume/kill/delete, with a state
# root of our own. The cgroup manager is ENGINE_CGROUP_MANAGER:
#   cgroupfs (default): ctr's default cgroup path /<namespace>/<id>;
#   systemd: systemd as PID 1; each container is run with
#     --runc-systemd-cgroup (the shim runs the runtime with --systemd-cgroup)
#     and --cgroup machine.slice:ocirun-ctd-<pid>:<id>, a transient scope
#     ocirun-ctd-<pid>-<id>.scope in machine.slice, whose systemd state and
#     properties are checked too.
# The cgroup files checked are those of the host's hierarchy (v1 or v2).
# Prints TAP; exits non-zero when a check fails. At exit it deletes every
# container, stops containerd, kills the shims it started (found through its
# state dir), stops the run's units and removes mounts, cgroups and temp dirs.
#
# Environment: RUNTIME (or OCIRUN, or $1); ENGINE_CGROUP_MANAGER (cgroupfs or
# systemd); ENGINE_TIMEOUT seconds per ctr command; KEEP_WORK=1 keeps the
# temp dir.

source "$(dirname "$0")/lib.sh"

setup_cgroup_manager
setup_runtime "${1:-}"
for b in containerd ctr containerd-shim-runc-v2 script; do
	command -v "$b" >/dev/null || die "$b is needed: apt-get install -y containerd util-linux"
done

C=$WORK/containerd
SOCK=$C/containerd.sock
RUNC_ROOT=$C/runc-root
IMG=localhost/busybox:test
IMG_USER=localhost/busybox:user
# The namespace names our containers' cgroups too: ctr's default cgroup
# path is /<namespace>/<container id>.
NS=ocirun-engines-$$
# the shim adds the namespace to --runc-root: the runtime's --root is this
RSTATE=$RUNC_ROOT/$NS
# systemd mode: cgroupsPath $SLICE:$SCOPE_PREFIX:<id>, unit
# $SCOPE_PREFIX-<id>.scope (the pid keeps concurrent runs apart)
SLICE=machine.slice
SCOPE_PREFIX=ocirun-ctd-$$
# the global option the shim adds in systemd mode
SYSTEMD_FLAG=
systemd_mode && SYSTEMD_FLAG="--systemd-cgroup "
CONTAINERD_PID=
# shim v2 puts its sockets in /run/containerd/s whatever the state dir is
SHIM_SOCK_DIR=/run/containerd/s
shim_socks_before=$(ls "$SHIM_SOCK_DIR" 2>/dev/null | sort)
run_containerd_existed=0
[ -e /run/containerd ] && run_containerd_existed=1

ctrc() {
	timeout -k 5 "$ENGINE_TIMEOUT" ctr -a "$SOCK" -n "$NS" "$@"
}

# cgroup_opts ID: the ctr run options that place container ID's cgroup:
# none with cgroupfs (ctr's default /<namespace>/<id>); with systemd, the
# shim's systemd driver and a slice:prefix:name path.
cgroup_opts() {
	systemd_mode || return 0
	printf '%s\n' --runc-systemd-cgroup --cgroup "$SLICE:$SCOPE_PREFIX:$1"
}

# scope_of ID: the unit of container ID in systemd mode.
scope_of() { echo "$SCOPE_PREFIX-$1.scope"; }

# crun_ ARGS: ctr run with the runtime under test (ARGS: options, then
# $IMG or $IMG_USER, the container id, the command).
crun_() {
	local a prev= cg=()
	for a in "$@"; do
		case $prev in
		"$IMG" | "$IMG_USER")
			mapfile -t cg < <(cgroup_opts "$a")
			break
			;;
		esac
		prev=$a
	done
	ctrc run --runc-binary "$RUNTIME_WRAPPER" --runc-root "$RUNC_ROOT" --fifo-dir "$C/fifo" "${cg[@]}" "$@"
}

# cexec ARGS: ctr task exec, its stdio fifos in our dir (the default is
# /run/containerd/fifo, where detached ones stay).
cexec() {
	ctrc task exec --fifo-dir "$C/fifo" "$@"
}

# on_tty CMD: run CMD on a new pseudo-terminal (ctr --tty wants its stdin
# to be one); prints what the terminal showed, without carriage returns.
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	# (the pty echoes a NUL that ctr sends as "^@")
	script -qec "$cmd" /dev/null </dev/null | tr -d '\r\0' | sed 's/\^@//g'
	return "${PIPESTATUS[0]}"
}

write_config() {
	mkdir -p "$C"/{root,state,opt} "$RUNC_ROOT"
	cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
EOF
}

start_containerd() {
	containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	retry 20 ctr -a "$SOCK" version >/dev/null 2>&1 ||
		{ diag "$C/containerd.log"; bail "containerd" "did not start"; }
}

# shim_pids: the shims of this containerd: one per bundle in its state dir,
# each checked to be a process whose working directory is that bundle.
shim_pids() {
	local f pid
	for f in "$C"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(dirname "$f")" ] && echo "$pid"
	done
	return 0
}

cleanup() {
	local rc=$? p id d s
	trap - EXIT INT TERM
	if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
		for id in $(ctrc task ls -q 2>/dev/null); do
			ctrc task kill -a -s SIGKILL "$id" >/dev/null 2>&1
		done
		sleep 0.3
		for id in $(ctrc task ls -q 2>/dev/null); do
			ctrc task delete -f "$id" >/dev/null 2>&1
		done
		for id in $(ctrc container ls -q 2>/dev/null); do
			ctrc container rm "$id" >/dev/null 2>&1
		done
	fi
	# processes still in our cgroups or units (containers), then shims:
	# ours only
	if systemd_mode; then
		stop_units $(units_like "$SCOPE_PREFIX-*")
	else
		for p in $(pids_in_cgroups "$NS"); do
			kill -9 "$p" 2>/dev/null
		done
	fi
	for p in $(shim_pids); do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$CONTAINERD_PID" ]; then
		kill "$CONTAINERD_PID" 2>/dev/null
		wait "$CONTAINERD_PID" 2>/dev/null
	fi
	sleep 0.2
	remove_cgroups "$NS"
	for d in $(mounts_under "$WORK"); do
		umount -l "$d" 2>/dev/null
	done
	# shim sockets that appeared during this run and whose shim is gone
	for s in $(comm -13 <(echo "$shim_socks_before") <(ls "$SHIM_SOCK_DIR" 2>/dev/null | sort)); do
		[ -S "$SHIM_SOCK_DIR/$s" ] && ! ss -xl 2>/dev/null | grep -q "$SHIM_SOCK_DIR/$s" &&
			rm -f "$SHIM_SOCK_DIR/$s"
	done
	if [ "$run_containerd_existed" = 0 ]; then
		rmdir "$SHIM_SOCK_DIR" /run/containerd/fifo /run/containerd 2>/dev/null
	fi
	cleanup_work || rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- image ------------------------------------------------------------------

# blob DIR FILE: move FILE into DIR/blobs/sha256 under its digest; prints
# "sha256:HEX SIZE".
blob() {
	local hex size
	hex=$(sha256sum "$2" | cut -d' ' -f1)
	size=$(stat -c %s "$2")
	mkdir -p "$1/blobs/sha256"
	mv "$2" "$1/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}

# make_oci_archive OUT ROOTFS: an OCI image layout tar holding two images of
# the same one-layer rootfs: $IMG (user root) and $IMG_USER (user 1000:1000).
make_oci_archive() {
	local out=$1 rootfs=$2 lay=$WORK/oci ldig lsize manifests="" user name cfg mdig msize
	mkdir -p "$lay"
	tar -C "$rootfs" -cf "$lay/layer.tar" .
	read -r ldig lsize < <(blob "$lay" "$lay/layer.tar")
	for user in "" "1000:1000"; do
		name=$IMG
		[ -n "$user" ] && name=$IMG_USER
		jq -n --arg d "$ldig" --arg u "$user" '{architecture: "amd64", os: "linux",
			config: {Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"], User: $u,
			WorkingDir: "/"}, rootfs: {type: "layers", diff_ids: [$d]}}' >"$lay/config.json"
		read -r cfg csize < <(blob "$lay" "$lay/config.json")
		jq -n --arg c "$cfg" --argjson cs "$csize" --arg l "$ldig" --argjson ls "$lsize" '{
			schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
			config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
			layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
			>"$lay/manifest.json"
		read -r mdig msize < <(blob "$lay" "$lay/manifest.json")
		manifests+=$(jq -n --arg m "$mdig" --argjson s "$msize" --arg n "$name" '{
			mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $s,
			platform: {architecture: "amd64", os: "linux"},
			annotations: {"io.containerd.image.name": $n,
				"org.opencontainers.image.ref.name": ($n | sub(".*:"; ""))}}')
	done
	echo "$manifests" | jq -s '{schemaVersion: 2, manifests: .}' >"$lay/index.json"
	echo '{"imageLayoutVersion": "1.0.0"}' >"$lay/oci-layout"
	tar -C "$lay" -cf "$out" oci-layout index.json blobs
	rm -rf "$lay"
}

# --- helpers for checks ---------------------------------------------------------

task_status() { ctrc task ls | awk -v id="$1" '$1 == id { print $3 }'; }
task_pid() { ctrc task ls | awk -v id="$1" '$1 == id { print $2 }'; }
is_status() { [ "$(task_status "$1")" = "$2" ]; }

# cg ID WHAT: a cgroup setting (lib.sh's cg_read: memory, pids, cpu,
# freezer) of a task, read from the host through its init's cgroup.
cg() {
	local pid
	pid=$(task_pid "$1")
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "task $1 has no pid"
	cg_read "$pid" "$2"
}

# assert_no_units_of ID...: (systemd mode) no unit of these containers is
# left, within 20 s.
assert_no_units_of() {
	local pats=() id
	systemd_mode || return 0
	for id in "$@"; do
		pats+=("$(scope_of "$id")")
	done
	assert_units_gone 20 "${pats[@]}"
}

# remove ID: kill, delete the task and the container.
remove() {
	ctrc task kill -a -s SIGKILL "$1" >/dev/null 2>&1 || true
	retry 10 sh -c "! ctr -a '$SOCK' -n '$NS' task ls | awk '\$1 == \"$1\" && \$3 != \"STOPPED\" { f = 1 } END { exit !f }'" || true
	ctrc task delete "$1" >/dev/null 2>&1 || ctrc task delete -f "$1" >/dev/null
	ctrc container rm "$1"
	assert_no_units_of "$1"
}

# --- set-up ---------------------------------------------------------------------

write_config
echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>&1 | head -n1))"
echo "# containerd: $(containerd --version), $(cgroup_mode_desc), work dir $WORK"
start_containerd
make_busybox_rootfs "$WORK/rootfs"
make_oci_archive "$WORK/busybox-oci.tar" "$WORK/rootfs"
ctrc images import "$WORK/busybox-oci.tar" >"$WORK/logs/import.log" 2>&1 ||
	{ diag "$WORK/logs/import.log"; bail "image" "ctr images import failed"; }
ctrc images ls -q | qgrep -x "$IMG" || { ctrc images ls; bail "image" "$IMG not imported"; }
rm -rf "$WORK/rootfs" "$WORK/busybox-oci.tar"

# --- checks -------------------------------------------------------------------

CTR=(ctr -a "$SOCK" -n "$NS")
RUNOPTS=(--runc-binary "$RUNTIME_WRAPPER" --runc-root "$RUNC_ROOT" --fifo-dir "$C/fifo")

# called WORDS-ERE: the runtime was called with arguments matching ERE.
called() {
	grep -qE -- "$1" "$RUNTIME_CALLS" || fail "no runtime call matching /$1/ in $RUNTIME_CALLS"
}

t_run_exit() {
	local out rc=0
	out=$(crun_ --rm "$IMG" r1 sh -c 'echo hello; exit 3') || rc=$?
	assert_eq "$out" hello "output"
	assert_eq "$rc" 3 "exit status of ctr run"
	ctrc container ls -q | qgrep -x r1 && fail "container r1 left after --rm"
	called "^--root $RSTATE --log [^ ]*/r1/log.json --log-format json ${SYSTEMD_FLAG}create "
	called "^--root $RSTATE [^=]*delete r1 => 0"
	[ ! -e "$RSTATE/r1" ] || fail "runtime state $RSTATE/r1 left"
}

t_detach() {
	crun_ -d "$IMG" c1 sh -c 'echo started > /tmp/started; exec sleep 1000'
	retry 10 is_status c1 RUNNING || fail "c1 status: $(task_status c1)"
	[ -d "$RSTATE/c1" ] || fail "no runtime state dir $RSTATE/c1"
	retry 5 cexec --exec-id chk c1 test -f /tmp/started || fail "c1 did not run its command"
	assert_match "$(tr '\0' ' ' <"/proc/$(task_pid c1)/cmdline")" '^sleep 1000' "c1's init on the host"
}

# systemd mode: the shim ran the runtime with --systemd-cgroup; the task's
# init is in the active scope of its slice:prefix:name cgroupsPath.
t_systemd_scope() {
	local pid unit
	pid=$(task_pid c1)
	unit=$(scope_of c1)
	called "^--root $RSTATE [^=]*--systemd-cgroup create [^=]* c1 => 0"
	assert_eq "$(jq -r .linux.cgroupsPath "$C/state/io.containerd.runtime.v2.task/$NS/c1/config.json")" \
		"$SLICE:$SCOPE_PREFIX:c1" "cgroupsPath in the bundle's config.json"
	assert_eq "$(unit_prop "$unit" ActiveState)" active "ActiveState of $unit"
	assert_eq "$(unit_prop "$unit" Slice)" "$SLICE" "Slice of $unit"
	assert_eq "$(unit_prop "$unit" Delegate)" yes "Delegate of $unit"
	assert_eq "$(unit_prop "$unit" ControlGroup)" "/$SLICE/$unit" "ControlGroup of $unit"
	assert_eq "$(cgroup_path "$pid" name=systemd)" "/$SLICE/$unit" "cgroup of the task's init $pid"
}

t_tty() {
	local out
	local cg
	mapfile -t cg < <(cgroup_opts t1)
	out=$(on_tty "${CTR[@]}" run "${RUNOPTS[@]}" "${cg[@]}" --rm -t "$IMG" t1 sh -c 'tty; [ -t 0 ] && echo stdin-is-tty')
	echo "$out"
	assert_match "$out" '^/dev/pts/[0-9]+' "tty"
	assert_match "$out" 'stdin-is-tty' "stdin on the terminal"
}

t_exec() {
	local out rc=0
	out=$(cexec --exec-id e1 c1 sh -c 'echo in-exec; tr "\0" " " < /proc/1/cmdline')
	assert_match "$out" 'in-exec' "exec output"
	assert_match "$out" 'sleep 1000' "exec sees the container's pid 1"
	cexec --exec-id e2 c1 sh -c 'exit 5' || rc=$?
	assert_eq "$rc" 5 "exec exit status"
	called "^--root $RSTATE --log [^ ]* --log-format json ${SYSTEMD_FLAG}exec .*--process [^ ]* .*c1 => 0"
}

t_exec_tty() {
	local out
	out=$(on_tty "${CTR[@]}" task exec --fifo-dir "$C/fifo" -t --exec-id e3 c1 sh -c 'tty; [ -t 0 ] && echo stdin-is-tty')
	echo "$out"
	assert_match "$out" '^/dev/pts/[0-9]+' "exec --tty"
	assert_match "$out" 'stdin-is-tty' "exec --tty stdin"
}

t_exec_user_cwd() {
	local out
	out=$(cexec --exec-id e4 --user 1000 c1 id -u)
	assert_eq "$out" 1000 "exec --user 1000"
	out=$(cexec --exec-id e5 --cwd /tmp c1 pwd)
	assert_eq "$out" /tmp "exec --cwd"
}

t_ps() {
	local out pid
	cexec -d --exec-id bg1 c1 sleep 999
	out=$(ctrc task ps c1)
	echo "$out"
	pid=$(task_pid c1)
	printf '%s\n' "$out" | awk '{ print $1 }' | qgrep -x "$pid" || fail "task ps lacks init pid $pid"
	assert_eq "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" 2 "processes listed (init + exec)"
	called "ps --format json c1 => 0"
	ctrc task kill --exec-id bg1 -s SIGKILL c1
}

t_pause_resume() {
	ctrc task pause c1
	assert_eq "$(task_status c1)" PAUSED "status after pause"
	assert_eq "$(cg c1 freezer)" FROZEN "freezer state"
	ctrc task resume c1
	assert_eq "$(task_status c1)" RUNNING "status after resume"
	assert_eq "$(cg c1 freezer)" THAWED "freezer state after resume"
	assert_eq "$(cexec --exec-id e6 c1 echo alive)" alive "exec after resume"
	called "pause c1 => 0"
	called "resume c1 => 0"
}

# exec_pid_of ID CMDLINE: the pid in `task ps ID` whose command line (NULs
# as spaces) is CMDLINE.
exec_pid_of() {
	local p
	for p in $(ctrc task ps "$1" | awk 'NR > 1 { print $1 }'); do
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "$2" ] && { echo "$p"; return 0; }
	done
	return 1
}

t_kill() {
	local pid
	crun_ -d "$IMG" k1 sh -c 'trap "echo usr1 > /tmp/got" USR1; while :; do sleep 0.1; done'
	retry 10 is_status k1 RUNNING
	ctrc task kill -s SIGUSR1 k1
	retry 10 cexec --exec-id g1 k1 test -f /tmp/got || fail "USR1 not delivered"
	assert_eq "$(task_status k1)" RUNNING "status after USR1"
	# a second process, which only `kill --all` reaches
	cexec -d --exec-id bg2 k1 sleep 999
	# (a detached exec may return before its process has exec'd)
	retry 5 exec_pid_of k1 "sleep 999 " >/dev/null || fail "the exec'd sleep 999 is not in task ps"
	pid=$(exec_pid_of k1 "sleep 999 ")
	ctrc task kill -a -s SIGKILL k1
	retry 10 is_status k1 STOPPED || fail "status after kill --all: $(task_status k1)"
	retry 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "exec'd process $pid survived kill --all"
	called "kill --all k1 (9|KILL|SIGKILL) => 0"
	ctrc task delete k1
	ctrc container rm k1
	[ ! -e "$RSTATE/k1" ] || fail "runtime state $RSTATE/k1 left after delete"
	assert_no_units_of k1
}

t_delete_force() {
	local pid
	crun_ -d "$IMG" f1 sleep 1000
	retry 10 is_status f1 RUNNING
	pid=$(task_pid f1)
	ctrc task delete -f f1
	retry 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "init $pid survived delete -f"
	ctrc task ls -q | qgrep -x f1 && fail "task f1 still listed"
	ctrc container rm f1
	[ ! -e "$RSTATE/f1" ] || fail "runtime state $RSTATE/f1 left"
	assert_no_units_of f1
	# The shim runs `delete --force` after `delete`: on a container that is
	# gone already, runc exits 0 (nothing to do).
	called "delete --force f1 => 0"
}

t_resources() {
	local path unit
	crun_ -d --memory-limit 33554432 --cpus 0.5 "$IMG" m1 sleep 1000
	retry 10 is_status m1 RUNNING
	assert_eq "$(cg m1 memory)" 33554432 "memory limit"
	assert_eq "$(cg m1 cpu)" "50000 100000" "cpu quota and period"
	path=$(cgroup_path "$(task_pid m1)" memory)
	if systemd_mode; then
		unit=$(scope_of m1)
		assert_eq "$path" "/$SLICE/$unit" "cgroup path (the scope of $SLICE:$SCOPE_PREFIX:m1)"
		assert_eq "$(unit_prop "$unit" ActiveState)" active "ActiveState of $unit"
		assert_eq "$(unit_prop "$unit" MemoryMax)" 33554432 "MemoryMax of $unit"
		assert_eq "$(unit_prop "$unit" CPUQuotaPerSecUSec)" 500ms "CPUQuotaPerSecUSec of $unit"
	else
		assert_eq "$path" "/$NS/m1" "cgroup path (ctr's default /<namespace>/<id>)"
	fi
	remove m1
}

t_mount() {
	local dir=$WORK/bind out
	mkdir -p "$dir" && echo from-host >"$dir/in"
	out=$(crun_ --rm --mount "type=bind,src=$dir,dst=/data,options=rbind:rw" "$IMG" b1 \
		sh -c 'cat /data/in; echo from-ctr > /data/out')
	assert_eq "$out" from-host "file read through the bind"
	assert_eq "$(cat "$dir/out")" from-ctr "file written through the bind"
	out=$(crun_ --rm --mount "type=bind,src=$dir,dst=/data,options=rbind:ro" "$IMG" b2 \
		sh -c 'echo x > /data/z 2>&1 || echo refused')
	assert_match "$out" refused "write to a read-only bind"
	[ ! -e "$dir/z" ] || fail "read-only bind was writable"
}

t_env_cwd_user() {
	local out
	out=$(crun_ --rm --env FOO=bar --env 'BAZ=a b' "$IMG" v1 sh -c 'echo "$FOO|$BAZ"')
	assert_eq "$out" "bar|a b" "--env"
	out=$(crun_ --rm --cwd /home "$IMG" v2 pwd)
	assert_eq "$out" /home "--cwd"
	out=$(crun_ --rm "$IMG_USER" v3 sh -c 'id -u; id -g')
	assert_eq "$out" $'1000\n1000' "user 1000:1000 from the image config"
	out=$(crun_ --rm --read-only "$IMG" v4 sh -c 'touch /x 2>&1 || echo refused')
	assert_match "$out" refused "--read-only"
}

# wait_all WHAT PID...: wait for background jobs; fails if any failed.
wait_all() {
	local what=$1 p failed=0
	shift
	for p in "$@"; do
		wait "$p" || failed=$((failed + 1))
	done
	assert_eq "$failed" 0 "$what that failed"
}

t_many() {
	local i n pids=()
	# started concurrently: ten shims, ten runtime creates at once
	for i in $(seq 1 10); do
		crun_ -d "$IMG" "n$i" sleep 1000 &
		pids+=($!)
	done
	wait_all "ctr run -d" "${pids[@]}"
	n=$(ctrc task ls | awk '$1 ~ /^n[0-9]+$/ && $3 == "RUNNING"' | wc -l)
	assert_eq "$n" 10 "running tasks"
	if systemd_mode; then
		n=$(units_like "$SCOPE_PREFIX-n*" | wc -l)
		assert_eq "$n" 10 "scopes $SCOPE_PREFIX-n*"
	fi
	pids=()
	for i in $(seq 1 10); do
		remove "n$i" >"$WORK/logs/remove-n$i.log" 2>&1 &
		pids+=($!)
	done
	wait_all "removals" "${pids[@]}" || { cat "$WORK"/logs/remove-n*.log; return 1; }
	n=$(ctrc container ls -q | grep -c '^n[0-9]' || true)
	assert_eq "$n" 0 "containers left"
}

# run_must_fail ID WHAT ERE ARGS...: ctr run fails, its error matches ERE,
# and the runtime left no state for ID.
run_must_fail() {
	local id=$1 what=$2 re=$3 out rc=0
	shift 3
	out=$(crun_ --rm "$@" 2>&1) || rc=$?
	note "ctr run $* -> $rc: $out"
	[ "$rc" -ne 0 ] || fail "$what: ctr run succeeded"
	assert_match "$out" "$re" "$what: ctr's error output"
	# ctr leaves the container record after a failed start; the runtime must
	# leave no state
	ctrc container rm "$id" >/dev/null 2>&1 || true
	[ ! -e "$RSTATE/$id" ] || fail "$what: runtime state $RSTATE/$id left"
}

t_runtime_errors() {
	local sec=$WORK/seccomp-bad-action.json
	write_bad_seccomp_profile "$sec"
	run_must_fail x1 "missing executable" 'no_such_binary.*(no such file|not found)' \
		"$IMG" x1 /bin/no_such_binary
	run_must_fail x2 "seccomp action unknown" 'SCMP_ACT_OCIRUN_BOGUS' \
		--seccomp --seccomp-profile "$sec" "$IMG" x2 true
	run_must_fail x3 "workdir is a file" '/etc/passwd' --cwd /etc/passwd "$IMG" x3 true
}

t_remove() {
	local pid
	pid=$(task_pid c1)
	ctrc task kill c1
	# SIGTERM to a pid 1 without a handler does nothing: the task lives on
	sleep 0.5
	assert_eq "$(task_status c1)" RUNNING "status after SIGTERM to sleep as pid 1"
	ctrc task kill -s SIGKILL c1
	retry 10 is_status c1 STOPPED || fail "status after SIGKILL: $(task_status c1)"
	ctrc task delete c1
	ctrc container rm c1
	! kill -0 "$pid" 2>/dev/null || fail "init $pid alive after delete"
	[ ! -e "$RSTATE/c1" ] || fail "runtime state $RSTATE/c1 left"
	assert_no_units_of c1
}

t_leftovers() {
	local d
	assert_eq "$(ctrc task ls -q | wc -l)" 0 "tasks left"
	assert_eq "$(ctrc container ls -q | wc -l)" 0 "containers left"
	d=$(ls -A "$RSTATE" 2>/dev/null)
	[ -z "$d" ] || fail "runtime state left in $RSTATE: $d"
	if systemd_mode; then
		retry 20 no_units_like "$SCOPE_PREFIX-*" ||
			fail "units left: $(units_like "$SCOPE_PREFIX-*" | tr '\n' ' ')"
		d=$(cgroup_dirs_under "$SLICE" | grep -F "/$SCOPE_PREFIX-" || true)
		[ -z "$d" ] || fail "container cgroups left: $d"
		# nor did anything fall back on ctr's cgroupfs path
		d=$(cgroup_dirs_under "$NS")
		[ -z "$d" ] || fail "cgroups left: $d"
	else
		d=$(cgroup_dirs_under "$NS" | grep -v "/$NS\$" || true)
		[ -z "$d" ] || fail "container cgroups left: $d"
		d=$(pids_in_cgroups "$NS" | tr '\n' ' ')
		[ -z "$d" ] || fail "processes left in our cgroups: $d"
	fi
	d=$(mounts_under "$C/state")
	[ -z "$d" ] || fail "mounts left: $d"
	retry 5 sh -c "[ -z \"\$(ls $C/state/io.containerd.runtime.v2.task/$NS 2>/dev/null)\" ]" ||
		fail "bundles left: $(ls "$C/state/io.containerd.runtime.v2.task/$NS")"
}

run_test "run --rm: output, exit status 3, --root/--log/--log-format json" t_run_exit
run_test "run -d: task RUNNING, state under --runc-root" t_detach
if systemd_mode; then
	run_test "systemd: the task's scope in $SLICE" t_systemd_scope
fi
run_test "run --tty" t_tty
run_test "task exec: output, pid namespace, exit status" t_exec
run_test "task exec --tty" t_exec_tty
run_test "task exec --user --cwd" t_exec_user_cwd
run_test "task ps (runtime ps --format json)" t_ps
run_test "task pause / resume" t_pause_resume
run_test "task kill -s USR1, kill --all" t_kill
run_test "task delete --force of a running task" t_delete_force
run_test "--memory-limit --cpus in the cgroup" t_resources
skip_test "task update (runtime update --resources -)" \
	"ctr 1.6 has no 'task update'; only CRI or an API client reaches the shim's update"
run_test "--mount type=bind (rw, ro)" t_mount
run_test "--env --cwd, image user, --read-only" t_env_cwd_user
run_test "10 containers at once" t_many
run_test "runtime errors reach the user" t_runtime_errors
run_test "task kill, delete, container rm" t_remove
run_test "nothing left behind" t_leftovers

tap_done
