#!/bin/bash
# tests/fuzz/fuzz.sh — run the config parser's libFuzzer target, printing TAP.
#
#   tests/fuzz/fuzz.sh FUZZ_CONFIG [SECONDS]
#
# FUZZ_CONFIG is tests/fuzz/fuzz_config of a build configured with
# CC=clang --enable-fuzzing (make fuzz does both steps). It
# 1. runs every seed (tests/fuzz/corpus) and regression input
#    (tests/fuzz/regressions) once: none may crash, hang or leak;
# 2. fuzzes for SECONDS (default 60) from a copy of the seeds, one input
#    at most 10 s, 2 GiB of memory, leaks detected.
# A finding is kept in $FUZZ_ARTIFACTS (default a new /tmp/ocirun-fuzz.XXXXXX,
# printed); copy it into tests/fuzz/regressions/ with the fix.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fuzzer=${1:?usage: fuzz.sh FUZZ_CONFIG [SECONDS]}
seconds=${2:-60}
[ -x "$fuzzer" ] || { echo "fuzz.sh: $fuzzer: not an executable" >&2; exit 2; }

work=$(mktemp -d /tmp/ocirun-fuzz-work.XXXXXX)
artifacts=${FUZZ_ARTIFACTS:-$(mktemp -d /tmp/ocirun-fuzz.XXXXXX)}
mkdir -p "$artifacts"
trap 'rm -rf "$work"; rmdir "$artifacts" 2>/dev/null' EXIT
# libFuzzer stops at the first finding and writes it there; leaks are
# findings (LSan), an ASan or UBSan report aborts.
opts=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1 "-artifact_prefix=$artifacts/")
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "1..2"

shopt -s nullglob
inputs=("$here"/corpus/* "$here"/regressions/*.json)
shopt -u nullglob
if "$fuzzer" "${opts[@]}" "${inputs[@]}" >"$work/replay.log" 2>&1; then
	echo "ok 1 fuzz_config: ${#inputs[@]} seed and regression inputs run clean"
else
	tail -n 40 "$work/replay.log" | sed 's/^/# /'
	echo "not ok 1 fuzz_config: a seed or regression input failed (artifact in $artifacts)"
fi

mkdir "$work/corpus"
cp "$here"/corpus/* "$work/corpus/"
if "$fuzzer" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 \
	"$work/corpus" >"$work/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
	echo "ok 2 fuzz_config: ${runs:-?} inputs in ${seconds}s, no crash, hang or leak"
else
	grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$work/fuzz.log" | head -n 20 | sed 's/^/# /'
	tail -n 30 "$work/fuzz.log" | sed 's/^/# /'
	echo "not ok 2 fuzz_config: finding kept in $artifacts (add it to tests/fuzz/regressions with the fix)"
fi
