#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks (programs, never tests). Each subcommand builds what it needs
# in build/ and prints a Markdown table for the README.
#
#   scripts/bench.sh esp [esp_bench options]   ESP: ours vs raw IPsec-MB
#       options: -r RUNS -t SECONDS -a ALG_SUBSTRING -s 64|512|1420|IMIX
#   scripts/bench.sh gateway [options]      the daemon vs DPDK's ipsec-secgw
#       options: -r RUNS -t SECONDS -d enc|dec -a gcm|cbc -s SIZES -k
#       (needs root, dpdk-doc, python3-scapy; see tests/bench/gateway/run.sh)
#
# BENCH_BUILD_DIR=DIR uses another build directory (default build).
# Numbers on shared machines vary by tens of percent between runs: compare
# the ratios within one run, not absolute numbers across runs.
set -euo pipefail

cd "$(dirname "$0")/.."
build=${BENCH_BUILD_DIR:-build}

usage() {
	sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

die() {
	echo "bench.sh: $*" >&2
	exit 1
}

build_tree() {
	command -v meson >/dev/null || die "meson not found: run scripts/deps.sh"
	command -v ninja >/dev/null || die "ninja not found: run scripts/deps.sh"
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" >&2 || die "meson setup $build failed"
	fi
	# Build output goes to stderr so that stdout is only the table.
	ninja -C "$build" >&2 || die "build in $build failed (see above)"
}

bench_esp() {
	build_tree
	local exe="$build/tests/bench/esp_bench"
	[ -x "$exe" ] || die "$exe was not built"
	"$exe" "$@"
}

bench_gateway() {
	# The runner builds what it needs (ipsec-secgw into $build/bench-secgw,
	# vpngw with ninja) and prints the table on stdout.
	BENCH_BUILD_DIR=$build exec tests/bench/gateway/run.sh "$@"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
esp) bench_esp "$@" ;;
gateway) bench_gateway "$@" ;;
-h | --help | help) usage ;;
*)
	echo "bench.sh: unknown benchmark '$cmd'" >&2
	usage
	;;
esac
