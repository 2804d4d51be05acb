#!/bin/bash
# tests/sanitizers.sh — integration tests against an ASan+UBSan build, as TAP.
#
#   tests/sanitizers.sh BUILD_DIR [BATS_FILE...]
#
# BUILD_DIR was configured with --enable-sanitizers (or --enable-fuzzing;
# make check-asan runs the unit tests, then this). Runs the BATS_FILEs
# (default: lifecycle, exec and config_errors, the commands engines call
# most) against BUILD_DIR/ocirun with every report written to a file, then
# one more TAP line: no ocirun process reported anything. A test expecting
# ocirun to fail would otherwise pass on an ASan abort.
#
# Leaks are checked in every command but exec: as root, exec joins the
# container's pid namespace before it forks, and LSan's exit-time check
# (a clone that ptraces its parent, by a pid it cannot see there) then
# spins forever. The unit tests and the fuzz target check leaks too.
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: sanitizers.sh BUILD_DIR [BATS_FILE...]}
shift
[ $# -gt 0 ] || set -- "$srcdir"/tests/integration/{lifecycle,exec,config_errors}.bats
binary=$(cd "$build" && pwd)/ocirun
if ! grep -q __asan_init "$binary" 2>/dev/null; then
	echo "sanitizers.sh: $binary is not an ASan build (configure --enable-sanitizers)" >&2
	exit 2
fi

work=$(mktemp -d /tmp/ocirun-sanitizers.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir "$work/reports"
cat >"$work/ocirun" <<WRAPPER
#!/bin/bash
opts="log_path=$work/reports/asan:detect_leaks=1"
for a; do [ "\$a" = exec ] && opts="\$opts:detect_leaks=0" && break; done
ASAN_OPTIONS=\$opts UBSAN_OPTIONS=log_path=$work/reports/ubsan:print_stacktrace=1 exec "$binary" "\$@"
WRAPPER
chmod 755 "$work/ocirun"

for f in "$@"; do
	OCIRUN=$work/ocirun bats --tap "$f" | sed -E "s/^(ok|not ok) [0-9]+ /\\1 - sanitizers $(basename "$f"): /"
done
shopt -s nullglob
reports=("$work"/reports/*)
if [ ${#reports[@]} -eq 0 ]; then
	echo "ok - sanitizers: no ASan, UBSan or LSan report from ocirun"
else
	for r in "${reports[@]}"; do
		grep -E 'ERROR|runtime error|SUMMARY|^ *#[0-9] ' "$r" | head -n 12 | sed 's/^/# /'
	done
	echo "not ok - sanitizers: ${#reports[@]} report(s) from ocirun (above)"
fi
