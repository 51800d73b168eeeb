#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Instructions per packet of vpngw's worker, the gateway benchmark's input
# and config, counted by valgrind's callgrind (a tool for the lead's
# desk, never a test). Timings on a shared machine move by tens of
# percent; instruction counts move by less than one, so they show what a
# change to the data path did.
#
#   tests/bench/gateway/callgrind.sh [-t SECONDS] [-n TOP] DIR ALG SIZE
#       DIR enc|dec, ALG gcm|cbc, SIZE 64|512|1420|IMIX
#
# Builds build-cg/ (release, -march=haswell -g: valgrind 3.19 has no
# AVX-512, so the native build would stop on its first EVEX instruction;
# IPsec-MB picks its AVX2 code under valgrind the same way), runs the
# daemon under callgrind for SECONDS (default 40) with collection on in
# worker_main only, and prints Ir per packet: the whole worker and the
# TOP (default 25) functions by their own instructions. Packets: the RX
# bursts (calls into net_pcap) times 32; net_pcap's infinite_rx fills
# every burst (cgcount.py).
# The input pcaps come from run.sh (scripts/bench.sh gateway) in
# build/bench-gateway/pcap; CG_BUILD=DIR picks another build directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cgb=${CG_BUILD:-$root/build-cg}
pcaps=${CG_PCAPS:-$root/build/bench-gateway/pcap}
seconds=40 top=25 public_mtu=2000

die() {
	echo "callgrind.sh: $*" >&2
	exit 1
}

while getopts "t:n:h" opt; do
	case $opt in
	t) seconds=$OPTARG ;;
	n) top=$OPTARG ;;
	*) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//' >&2 && exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || die "want DIR ALG SIZE (see -h)"
dir=$1 alg=$2 size=$3
[[ $dir =~ ^(enc|dec)$ && $alg =~ ^(gcm|cbc)$ && $size =~ ^(64|512|1420|IMIX)$ ]] ||
	die "DIR enc|dec, ALG gcm|cbc, SIZE 64|512|1420|IMIX"
command -v valgrind >/dev/null || die "valgrind not found"
[ "$(id -u)" -eq 0 ] || die "DPDK needs root here"

if [ ! -f "$cgb/build.ninja" ]; then
	meson setup "$cgb" "$root" -Dnative=false -Dc_args="-march=haswell -g" >&2 ||
		die "meson setup $cgb failed"
fi
ninja -C "$cgb" control/vpngw >&2 || die "build in $cgb failed"

if [ "$dir" = enc ]; then in_pcap=$pcaps/enc-$size.pcap; else in_pcap=$pcaps/dec-$alg-$size.pcap; fi
[ -f "$in_pcap" ] || die "no $in_pcap: run scripts/bench.sh gateway once first"

# shellcheck source=/dev/null
. "$here/net.env"
work=$(mktemp -d /tmp/vpngw-cg.XXXXXX)
mkdir -p "$work/run"
# shellcheck source=/dev/null
. "$here/vpngw_cfg.sh"
in_dev="net_pcap0,rx_pcap=$in_pcap,rx_pcap=$in_pcap,infinite_rx=1"
out_dev="net_null0,no-rx=1"
if [ "$dir" = enc ]; then lan=$in_dev wan=$out_dev; else lan=$out_dev wan=$in_dev; fi
vpngw_cfg "$dir" "$alg" "$lan" "$wan" "$work/vpngw.yaml" cg
out=$work/callgrind.out
prefix=vpngw-cg-$$
rc=0
timeout -s INT "$seconds" valgrind --tool=callgrind --fair-sched=yes --collect-atstart=no \
	--toggle-collect='worker_main*' --callgrind-out-file="$out" \
	"$cgb/control/vpngw" --config "$work/vpngw.yaml" -- --no-huge -m 2048 --no-pci \
	--file-prefix "$prefix" -l 0,1 >"$work/vpngw.log" 2>&1 || rc=$?
rm -rf "/var/run/dpdk/$prefix"
[ -s "$out" ] || die "no callgrind output (rc $rc); see $work/vpngw.log"

/usr/bin/python3 "$here/cgcount.py" "$out" "$top" "$dir $alg $size"
echo "callgrind.sh: output in $out" >&2
