# tests/install/helpers.bash — shared by the tests/install/*.bats files.
#
#   find_build_dir       sets BUILD: a configured build dir of ocirun,
#                        $OCIRUN_BUILD_DIR (tests/run.sh exports its own),
#                        else the directory of $OCIRUN when it holds a Makefile
#   make_vars NAME...    the build's make variables, expanded, one a line
#   built_version        the version the build's ocirun prints
#   man_pages            the man pages there must be: ocirun.8 and one per
#                        command of `ocirun --help`

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

find_build_dir() {
	BUILD=${OCIRUN_BUILD_DIR:-}
	if [ -z "$BUILD" ] && [ -n "${OCIRUN:-}" ] && [ -f "$(dirname "$OCIRUN")/Makefile" ]; then
		BUILD=$(dirname "$OCIRUN")
	fi
	if [ -z "$BUILD" ] || [ ! -f "$BUILD/Makefile" ]; then
		echo "no configured build dir: set OCIRUN_BUILD_DIR (or OCIRUN to a built ocirun beside its Makefile)" >&2
		return 1
	fi
	# up to date, quietly: the output shows only what went wrong
	make -s -C "$BUILD" V=0 >/dev/null
}

make_vars() {
	local v rule=""
	for v in "$@"; do rule+="	@echo \$($v)"$'\n'; done
	printf 'print-install-vars:\n%s' "$rule" |
		make -s -C "$BUILD" -f Makefile -f - print-install-vars
}

built_version() {
	"$BUILD/ocirun" --version | awk 'NR == 1 { print $3 }'
}

man_pages() {
	echo ocirun.8
	"$BUILD/ocirun" --help | sed -n '/^Commands:$/,/^$/p' |
		awk 'NR > 1 && NF && $1 != "help" { print "ocirun-" $1 ".8" }'
}
