#!/usr/bin/env bats
# Under load (a smaller version of tests/bench/load.sh, whose figures at
# 1000 containers and 1000 runs are in docs/performance.md): containers
# created, exec'd into, killed and deleted concurrently; many run cycles;
# the cost of create, state, list and delete with many containers in the
# root. Nothing may fail and nothing may be left (load.sh checks state
# dirs, mounts, cgroups, processes and fds after each part).

load helpers

setup() {
	setup_bundle
}

# load PART=N...: tests/bench/load.sh with only the given parts, ids
# starting with $CID (so teardown_bundle and run.sh see what is left).
load_sh() {
	run env LOAD_CONCURRENT=0 LOAD_CYCLES=0 LOAD_CONTAINERS=0 "$@" LOAD_PREFIX="$CID" \
		LOAD_ROOT="$ROOT" "$BATS_TEST_DIRNAME/../bench/load.sh" "$OCIRUN"
	echo "$output"
	assert_success
	assert_line "errors: 0"
}

@test "20 containers created, started, exec'd into (10 execs at once into one), killed and deleted concurrently" {
	mkdir -p "$ROOT"
	load_sh LOAD_CONCURRENT=20 LOAD_EXECS=10
	assert_output --partial "concurrent: 20 containers"
}

@test "100 run cycles leave nothing behind" {
	mkdir -p "$ROOT"
	load_sh LOAD_CYCLES=100
	assert_output --partial "cycles: 100 sequential runs"
}

# figure OP EXISTING: the median ms load.sh printed.
figure() {
	awk -v op="$1" -v n="$2" '$1 == "scaling" && $2 == op && $3 == n { print $4 }' <<<"$output"
}

@test "create, state and delete cost the same with 100 containers in the root; list grows by at most 2 ms per container" {
	mkdir -p "$ROOT"
	load_sh LOAD_CONTAINERS=100 LOAD_SAMPLES=9
	local op base loaded
	for op in create state delete; do
		base=$(figure "$op" 0) loaded=$(figure "$op" 100)
		# twice the time plus 5 ms: this machine's noise, not a scan of
		# 100 containers (which would add well over that)
		awk -v b="$base" -v l="$loaded" 'BEGIN { exit !(l <= 2 * b + 5) }' ||
			fail "$op: ${base} ms with none, ${loaded} ms with 100 containers"
	done
	base=$(figure list 0) loaded=$(figure list 100)
	awk -v b="$base" -v l="$loaded" 'BEGIN { exit !(l <= b + 100 * 2) }' ||
		fail "list: ${base} ms with none, ${loaded} ms with 100 containers"
}
