#!/usr/bin/env bats
# tests/engines/engines.bats — runs podman.sh and containerd.sh as two bats
# tests, so tests/run.sh picks them up with OCIRUN_TEST_ENGINES=1. The
# runtime is $OCIRUN (what run.sh exports); each script's TAP output is
# shown when it fails. Skipped when the engine is not installed.

DIR=$(cd "$(dirname "$BATS_TEST_FILENAME")" && pwd)

run_engine() {
	[ -n "${OCIRUN:-}" ] || skip "OCIRUN is not set"
	run env RUNTIME="$OCIRUN" "$DIR/$1"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "podman end to end (tests/engines/podman.sh)" {
	command -v podman >/dev/null || skip "podman not installed (apt-get install podman)"
	run_engine podman.sh
}

@test "containerd end to end (tests/engines/containerd.sh)" {
	command -v containerd >/dev/null || skip "containerd not installed (apt-get install containerd)"
	run_engine containerd.sh
}
