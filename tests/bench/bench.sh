#!/bin/bash
# tests/bench/bench.sh [OCIRUN_BINARY] — ocirun beside runc and crun.
#
# Prints a markdown table (also `make bench`). Every runtime runs the same
# bundle: the busybox rootfs of tests/make-bundle.sh (shared, read-only) and
# `runc spec`'s config made non-terminal with args ["/bin/true"]. Runs are
# interleaved (every runtime once per round, in a new random order each
# round) so drifting machine load hits all alike. Measured:
#   run       wall time of `RUNTIME run ID` (median, min-max, p25-p75)
#   c+s+d     wall time of create + start + delete --force
#   exec      wall time of `RUNTIME exec ID /bin/true` into a running
#             container (one per runtime, `sleep` as its init)
#   seq/par   throughput: 100 sequential runs, and 10 runs started at once
#             and waited for, timed as a whole (BENCH_TP_ROUNDS rounds)
#   RSS       peak RSS of `run` (/usr/bin/time %M: the runtime or its largest
#             waited-for child, e.g. its init helper), median
#   size      the binary stripped; libs: shared libraries `ldd` lists
#   resident  `run` again while one more cpuset cgroup exists (as on a host
#             with an engine's parent cgroups): no kernel code patching
#   floor     `unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS
#             /bin/true`: the same namespaces with no runtime at all
# crun 1.8 refuses this host's hybrid cgroups (it sees cgroup2 at
# /sys/fs/cgroup/unified); it runs in one private mount namespace made once,
# where unified is unmounted, and is timed from inside it, so no wrapper
# process is added to its times.
#
# ocirun-ro is the same ocirun binary on a read-only bind mount: there it
# has nothing to do to protect itself (CVE-2019-5736), so ocirun minus
# ocirun-ro is what that protection costs.
# Env: BENCH_RUNS (default 20), BENCH_RSS_RUNS (default 5), BENCH_TP_ROUNDS
# (default 3).
# Each runtime gets its own --root under a temp dir; everything is removed.
set -uo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${BENCH_RUNS:-20}
RSS_RUNS=${BENCH_RSS_RUNS:-5}
TP_ROUNDS=${BENCH_TP_ROUNDS:-3}

die() { echo "bench.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for tool in jq runc unshare chroot shuf /usr/bin/time strip ldd; do
	command -v "$tool" >/dev/null || die "$tool not found (run tests/deps.sh)"
done

OCIRUN_BIN=${1:-${OCIRUN:-}}
if [ -z "$OCIRUN_BIN" ]; then
	if [ -x "$SRCDIR/ocirun" ]; then OCIRUN_BIN="$SRCDIR/ocirun"; else OCIRUN_BIN=$(command -v ocirun || true); fi
fi

WORK=$(mktemp -d /tmp/ocirun-bench.XXXXXX)
chmod 755 "$WORK"
# Every runtime's --root on a tmpfs, where /run is on a real host (runc's
# /run/runc, crun's /run/crun): state files, fifos and their removal then
# cost what they cost there, not an ext4 journal commit.
STATE="$WORK/state" STATE_MOUNTED=
mkdir "$STATE"
mount -t tmpfs -o mode=755 ocibench-state "$STATE" && STATE_MOUNTED=1
BUNDLE="$WORK/bundle"
CRUN_PID=

# --- clean-up ------------------------------------------------------------------
cleanup() {
	local bin root id
	if [ -n "$CRUN_PID" ]; then
		# its exec container, if an interrupted run left it
		echo "down ocibench-crun-exec" >&"${CRUN[1]}" 2>/dev/null && read -r -t 10 _ <&"${CRUN[0]}"
		echo quit >&"${CRUN[1]}" 2>/dev/null
		wait "$CRUN_PID" 2>/dev/null
	fi
	for pair in "ocirun:$OCIRUN_BIN" "ocirun-ro:$OCIRUN_RO_BIN" "runc:$(command -v runc)"; do
		bin=${pair#*:}
		root="$STATE/root-${pair%%:*}"
		[ -n "$bin" ] && [ -d "$root" ] || continue
		for id in $("$bin" --root "$root" list -q 2>/dev/null); do
			"$bin" --root "$root" delete --force "$id" >/dev/null 2>&1
		done
	done
	[ -n "$OCIRUN_RO_BIN" ] && umount "$OCIRUN_RO_BIN" 2>/dev/null
	[ -n "$STATE_MOUNTED" ] && umount "$STATE" 2>/dev/null
	# crun's containers live in its private namespace; its cgroups and any
	# leftover cgroups of ours are named ocibench-*.
	# (ocibench-resident too, if we were interrupted while it stood.)
	find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name 'ocibench-*' 2>/dev/null |
		awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | xargs -r rmdir 2>/dev/null
	if awk -v d="$WORK" 'index($5, d) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		echo "bench.sh: mounts left under $WORK; not removing it" >&2
	else
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the bundle -------------------------------------------------------------------
"$SRCDIR/tests/make-bundle.sh" --rootfs-only "$WORK/common" || die "make-bundle.sh failed"
ROOTFS="$WORK/common/rootfs"
mkdir -p "$BUNDLE"
(cd "$WORK" && runc spec --bundle "$WORK") || die "runc spec failed"
jq --arg r "$ROOTFS" '.process.terminal = false | .process.args = ["/bin/true"]
	| .root = {path: $r, readonly: true}' "$WORK/config.json" >"$BUNDLE/config.json"
mkdir -p "$BUNDLE-sleep"
jq '.process.args = ["/bin/sleep", "3600"]' "$BUNDLE/config.json" >"$BUNDLE-sleep/config.json"
rm -f "$WORK/config.json"

# ocirun-ro: a copy of the binary, bind-mounted read-only onto itself.
OCIRUN_RO_BIN=
if [ -n "$OCIRUN_BIN" ] && [ -x "$OCIRUN_BIN" ]; then
	mkdir -p "$WORK/robin"
	cp "$OCIRUN_BIN" "$WORK/robin/ocirun"
	if mount --bind "$WORK/robin/ocirun" "$WORK/robin/ocirun"; then
		OCIRUN_RO_BIN="$WORK/robin/ocirun"
		mount -o remount,bind,ro "$OCIRUN_RO_BIN" || true
	fi
fi

# --- measuring (this function also runs inside crun's namespace) -------------------
# measure OP BIN ROOT ID BUNDLE ROOTFS: print milliseconds (or KiB for rss),
# or "fail: message".
measure() {
	local op=$1 bin=$2 root=$3 id=$4 bundle=$5 rootfs=$6 t0 t1 err
	err="$root.err"
	mkdir -p "$root"
	t0=${EPOCHREALTIME/./}
	case "$op" in
	run)
		"$bin" --root "$root" run --bundle "$bundle" "$id" </dev/null >/dev/null 2>"$err" ||
			{ echo "fail: exit status $?: $(tail -n1 "$err")"; return; }
		;;
	csd)
		"$bin" --root "$root" create --bundle "$bundle" "$id" </dev/null >/dev/null 2>"$err" &&
			"$bin" --root "$root" start "$id" </dev/null >/dev/null 2>>"$err" &&
			"$bin" --root "$root" delete --force "$id" </dev/null >/dev/null 2>>"$err" ||
			{ echo "fail: $(tail -n1 "$err")"; "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1; return; }
		;;
	floor)
		unshare --pid --fork --mount --uts --ipc --net chroot "$rootfs" /bin/true ||
			{ echo "fail: unshare"; return; }
		;;
	up) # a long-running container for exec; not timed
		"$bin" --root "$root" run -d --bundle "$bundle-sleep" "$id" </dev/null >/dev/null 2>"$err" ||
			{ echo "fail: $(tail -n1 "$err")"; return; }
		echo 0
		return
		;;
	down)
		"$bin" --root "$root" delete --force "$id" </dev/null >/dev/null 2>&1
		echo 0
		return
		;;
	exec)
		"$bin" --root "$root" exec "$id" /bin/true </dev/null >/dev/null 2>"$err" ||
			{ echo "fail: exit status $?: $(tail -n1 "$err")"; return; }
		;;
	seq)
		local k
		for ((k = 0; k < 100; k++)); do
			if [ "$bin" = - ]; then
				unshare --pid --fork --mount --uts --ipc --net chroot "$rootfs" /bin/true
			else
				"$bin" --root "$root" run --bundle "$bundle" "$id-$k" </dev/null >/dev/null 2>"$err"
			fi || { echo "fail: run $k of 100: $(tail -n1 "$err" 2>/dev/null)"; return; }
		done
		;;
	par)
		local k pids=() bad=0
		for ((k = 0; k < 10; k++)); do
			if [ "$bin" = - ]; then
				unshare --pid --fork --mount --uts --ipc --net chroot "$rootfs" /bin/true &
			else
				"$bin" --root "$root" run --bundle "$bundle" "$id-$k" </dev/null >/dev/null 2>"$err.$k" &
			fi
			pids+=($!)
		done
		for k in "${pids[@]}"; do wait "$k" || bad=$((bad + 1)); done
		[ $bad = 0 ] || { echo "fail: $bad of 10 concurrent runs failed: $(cat "$err".* 2>/dev/null | tail -n1)"; return; }
		;;
	rss)
		/usr/bin/time -f %M -o "$root.rss" "$bin" --root "$root" run --bundle "$bundle" "$id" \
			</dev/null >/dev/null 2>"$err" || { echo "fail: $(tail -n1 "$err")"; return; }
		cat "$root.rss"
		return
		;;
	floor-rss)
		/usr/bin/time -f %M -o "$root.rss" unshare --pid --fork --mount --uts --ipc --net \
			chroot "$rootfs" /bin/true || { echo "fail: unshare"; return; }
		cat "$root.rss"
		return
		;;
	esac
	t1=${EPOCHREALTIME/./}
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1000 }'
}

# crun's helper: a shell in a private mount namespace without cgroup2 at
# /sys/fs/cgroup/unified, reading "OP ID" lines and answering with measure's
# result. Started once; its start-up is not timed.
start_crun_helper() {
	local script
	script="$(declare -f measure)
		umount /sys/fs/cgroup/unified 2>/dev/null
		while read -r op id; do
			[ \"\$op\" = quit ] && break
			measure \"\$op\" \"\$CRUN_BIN\" \"\$CRUN_ROOT\" \"\$id\" \"\$BUNDLE\" \"\$ROOTFS\"
		done"
	coproc CRUN { CRUN_BIN=$(command -v crun) CRUN_ROOT="$STATE/root-crun" BUNDLE="$BUNDLE" ROOTFS="$ROOTFS" \
		unshare --mount --propagation private bash -c "$script" 2>/dev/null; }
}

# one RUNTIME OP ID: a measurement for RUNTIME (ocirun, crun, runc, floor).
one() {
	local rt=$1 op=$2 id=$3 line
	case "$rt" in
	crun)
		echo "$op $id" >&"${CRUN[1]}"
		read -r line <&"${CRUN[0]}" || line="fail: crun helper died"
		echo "$line"
		;;
	floor)
		[ "$op" = run ] && op=floor
		case "$op" in seq | par) measure "$op" - "$STATE/root-floor" "$id" "$BUNDLE" "$ROOTFS"; return ;; esac
		measure "$op" - "$STATE/root-floor" "$id" "$BUNDLE" "$ROOTFS"
		;;
	ocirun) measure "$op" "$OCIRUN_BIN" "$STATE/root-ocirun" "$id" "$BUNDLE" "$ROOTFS" ;;
	ocirun-ro) measure "$op" "$OCIRUN_RO_BIN" "$STATE/root-ocirun-ro" "$id" "$BUNDLE" "$ROOTFS" ;;
	runc) measure "$op" "$(command -v runc)" "$STATE/root-runc" "$id" "$BUNDLE" "$ROOTFS" ;;
	esac
}

# --- which runtimes ---------------------------------------------------------------------
runtimes=()
notes=()
smoke() { # RUNTIME: one run that must work
	local r
	r=$(one "$1" run "ocibench-$1-smoke")
	case "$r" in fail*) notes+=("$1: not measured, a smoke run failed: ${r#fail: }"); return 1 ;; esac
}
if [ -n "$OCIRUN_BIN" ] && [ -x "$OCIRUN_BIN" ]; then
	smoke ocirun && runtimes+=(ocirun)
	[ -n "$OCIRUN_RO_BIN" ] && smoke ocirun-ro && runtimes+=(ocirun-ro)
else
	notes+=("ocirun: not measured, no binary (give its path as the argument or build it)")
fi
if command -v crun >/dev/null; then
	start_crun_helper
	smoke crun && runtimes+=(crun)
else
	notes+=("crun: not installed")
fi
smoke runc && runtimes+=(runc)
runtimes+=(floor)

# --- the measurements ---------------------------------------------------------------------
DATA="$WORK/data"
mkdir -p "$DATA"
# A new order every round: a run leaves work behind (the kernel tears its
# namespaces and cgroups down asynchronously) that the next run pays for,
# and in a fixed order each runtime would always follow the same one.
shuffled() { shuf -e "${runtimes[@]}"; }
echo "bench.sh: $RUNS interleaved runs of ${runtimes[*]} ..." >&2
for ((i = 0; i < RUNS; i++)); do
	for rt in $(shuffled); do
		for op in run csd; do
			[ "$rt" = floor ] && [ "$op" = csd ] && continue
			r=$(one "$rt" "$op" "ocibench-$rt-$op-$i")
			case "$r" in
			fail*) echo "$rt $op: $r" >>"$DATA/failures" ;;
			*) echo "$r" >>"$DATA/$rt.$op" ;;
			esac
		done
	done
done
# run again with one more cpuset cgroup resident on the host, as on any
# host where an engine keeps its parent cgroups (containerd's /default,
# podman's libpod_parent). On a v1 cpuset hierarchy with no child, the
# kernel patches its code (the cpusets_enabled static key) when a
# container's cpuset cgroup appears and again when it goes: every runtime
# pays that here, none would there.
RESIDENT=/sys/fs/cgroup/cpuset/ocibench-resident
if [ -d /sys/fs/cgroup/cpuset ] && mkdir "$RESIDENT" 2>/dev/null; then
	for ((i = 0; i < RUNS; i++)); do
		for rt in $(shuffled); do
			r=$(one "$rt" run "ocibench-$rt-res-$i")
			case "$r" in fail*) echo "$rt run (resident): $r" >>"$DATA/failures" ;; *) echo "$r" >>"$DATA/$rt.res" ;; esac
		done
	done
	rmdir "$RESIDENT"
fi
# exec: one running container per runtime, execs interleaved
for rt in "${runtimes[@]}"; do
	[ "$rt" = floor ] && continue
	r=$(one "$rt" up "ocibench-$rt-exec")
	case "$r" in fail*) echo "$rt exec: $r" >>"$DATA/failures" ;; esac
done
for ((i = 0; i < RUNS; i++)); do
	for rt in $(shuffled); do
		[ "$rt" = floor ] && continue
		r=$(one "$rt" exec "ocibench-$rt-exec")
		case "$r" in fail*) echo "$rt exec: $r" >>"$DATA/failures" ;; *) echo "$r" >>"$DATA/$rt.exec" ;; esac
	done
done
for rt in "${runtimes[@]}"; do
	[ "$rt" = floor ] || one "$rt" down "ocibench-$rt-exec" >/dev/null
done
# throughput
echo "bench.sh: $TP_ROUNDS rounds of 100 sequential and 10 concurrent runs ..." >&2
for ((i = 0; i < TP_ROUNDS; i++)); do
	for rt in $(shuffled); do
		for op in seq par; do
			r=$(one "$rt" "$op" "ocibench-$rt-$op-$i")
			case "$r" in fail*) echo "$rt $op: $r" >>"$DATA/failures" ;; *) echo "$r" >>"$DATA/$rt.$op" ;; esac
		done
	done
done
for ((i = 0; i < RSS_RUNS; i++)); do
	for rt in "${runtimes[@]}"; do
		op=rss
		[ "$rt" = floor ] && op=floor-rss
		r=$(one "$rt" "$op" "ocibench-$rt-rss-$i")
		case "$r" in fail*) echo "$rt rss: $r" >>"$DATA/failures" ;; *) echo "$r" >>"$DATA/$rt.rss" ;; esac
	done
done

# --- the table -------------------------------------------------------------------------------
# stats FILE: "median min max p25 p75 n" of the numbers in FILE.
stats() {
	[ -s "$1" ] || { echo "- - - - - 0"; return; }
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		n = NR
		med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		p25 = v[int((n - 1) * 0.25) + 1]; p75 = v[int((n - 1) * 0.75) + 1]
		printf "%.1f %.1f %.1f %.1f %.1f %d\n", med, v[1], v[n], p25, p75, n }'
}
binary_of() {
	case "$1" in ocirun) echo "$OCIRUN_BIN" ;; ocirun-ro) echo "$OCIRUN_RO_BIN" ;; crun) command -v crun ;; runc) command -v runc ;; esac
}
size_and_libs() { # BINARY -> "SIZE LIBS"
	local bin=$1 copy="$WORK/stripped" size libs
	cp "$bin" "$copy" && strip "$copy" 2>/dev/null
	size=$(stat -c %s "$copy")
	rm -f "$copy"
	libs=$(ldd "$bin" 2>/dev/null | grep -c '=>' || true)
	awk -v s="$size" -v l="$libs" 'BEGIN { printf "%.2f MiB %d\n", s / 1048576, l }'
}

echo
echo "| runtime | run: median ms | run: min–max (p25–p75) | create+start+delete: median ms (min–max) | peak RSS of run | stripped size | shared libs |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for rt in ocirun ocirun-ro crun runc floor; do
	if [[ " ${runtimes[*]} " != *" $rt "* ]]; then
		echo "| $rt | not measured | | | | | |"
		continue
	fi
	read -r rmed rmin rmax rp25 rp75 _ < <(stats "$DATA/$rt.run")
	rss=$(stats "$DATA/$rt.rss" | awk '{ printf($1 == "-") ? "-" : "%.1f MiB", $1 / 1024 }')
	if [ "$rt" = floor ]; then
		csd="—"
		sl="— | —"
		label="floor (unshare+chroot)"
	else
		read -r cmed cmin cmax _ < <(stats "$DATA/$rt.csd")
		csd="$cmed ($cmin–$cmax)"
		read -r size unit libs < <(size_and_libs "$(binary_of "$rt")")
		sl="$size $unit | $libs"
		label="$rt $("$(binary_of "$rt")" --version 2>/dev/null | awk 'NR == 1 { print $NF }')"
		[ "$rt" = ocirun-ro ] && label="ocirun, binary on a read-only mount (nothing to protect)"
	fi
	echo "| $label | $rmed | $rmin–$rmax ($rp25–$rp75) | $csd | $rss | $sl |"
done
echo
echo "| runtime | exec /bin/true: median ms (min–max) | 100 sequential runs: median s (min–max) | 10 concurrent runs: median ms (min–max) | run, another cpuset cgroup resident: median ms (min–max) |"
echo "|---|---:|---:|---:|---:|"
for rt in ocirun ocirun-ro crun runc floor; do
	[[ " ${runtimes[*]} " == *" $rt "* ]] || continue
	if [ "$rt" = floor ]; then
		ex="—"
	else
		read -r emed emin emax _ < <(stats "$DATA/$rt.exec")
		ex="$emed ($emin–$emax)"
	fi
	read -r smed smin smax _ < <(stats "$DATA/$rt.seq")
	sq=$(awk -v a="$smed" -v b="$smin" -v c="$smax" 'BEGIN { if (a == "-") print "-"; else printf "%.2f (%.2f–%.2f)", a / 1000, b / 1000, c / 1000 }')
	read -r pmed pmin pmax _ < <(stats "$DATA/$rt.par")
	read -r qmed qmin qmax _ < <(stats "$DATA/$rt.res")
	echo "| $rt | $ex | $sq | $pmed ($pmin–$pmax) | $qmed ($qmin–$qmax) |"
done
echo
echo "$RUNS runs each for run, create+start+delete and exec, $TP_ROUNDS rounds for throughput, $RSS_RUNS for RSS; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), cgroups: hybrid v1 (crun: v1 only)."
echo "Times in ms; p25–p75 is the middle half of the runs; peak RSS is the median over the RSS runs."
echo "Config: \`runc spec\` (pid, net, ipc, uts, mount namespaces), terminal false, args [\"/bin/true\"], read-only busybox rootfs; every --root on a tmpfs (as /run is on a systemd host); a new random order of the runtimes every round."
if [ -s "$DATA/failures" ]; then
	echo
	echo "Failed runs (not in the numbers): $(wc -l <"$DATA/failures")"
	sort "$DATA/failures" | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
fi
for n in "${notes[@]}"; do echo "Note: $n"; done
exit 0
