#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vpngw vs DPDK's examples/ipsec-secgw: same input, SA and core (a benchmark,
# never a test). Run through `scripts/bench.sh gateway [options]`:
#   -r RUNS     runs per row and program, alternating the two (default 3)
#   -t SECONDS  sampling interval per run (default 3)
#   -d enc|dec  -a gcm|cbc  -s 64|512|1420|IMIX   only these rows
#               (each takes a space-separated list: -s "64 1420")
#   -k          keep the per-run logs and configs (build/bench-gateway/)
# ipsec-secgw is built from /usr/share/dpdk/examples (dpdk-doc) into
# build/bench-secgw/ with its RX checksum offload request removed (virtual
# ports have none); vpngw is build/control/vpngw. Each program gets one
# worker lcore (lcore 1), input net_pcap0 (infinite_rx=1), output net_null0;
# rates come from the TX port's /ethdev/stats over rte_telemetry, and the
# worker thread's CPU time from /proc for a second table: rates per second
# of worker CPU, which other load on a shared machine does not change.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${BENCH_BUILD_DIR:-build}
case "$build" in /*) ;; *) build=$root/$build ;; esac
work=$build/bench-gateway
secgw_dir=$build/bench-secgw
secgw=$secgw_dir/ipsec-secgw/build/ipsec-secgw
vpngw=$build/control/vpngw
py=/usr/bin/python3
examples=/usr/share/dpdk/examples
# SA type on the ipsec-secgw side: no-offload (default: the crypto_aesni_mb
# cryptodev, lookaside) or cpu-crypto (synchronous CPU crypto, same PMD).
secgw_sa_type=${BENCH_SECGW_SA_TYPE:-no-offload}
# Both programs' public MTU; ipsec-secgw's frames must fit its 2 KiB mbufs.
public_mtu=2000

runs=3 seconds=3 warmup=1 keep=0
dirs="enc dec" algs="gcm cbc" sizes="64 512 1420 IMIX"

die() {
	echo "bench.sh gateway: $*" >&2
	exit 1
}

note() {
	echo "bench.sh gateway: $*" >&2
}

usage() {
	sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while getopts "r:t:d:a:s:kh" opt; do
	case $opt in
	r) runs=$OPTARG ;;
	t) seconds=$OPTARG ;;
	d) dirs=$OPTARG ;;
	a) algs=$OPTARG ;;
	s) sizes=$OPTARG ;;
	k) keep=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "-r wants a positive count, not '$runs'"
[[ $seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "-t wants seconds, not '$seconds'"
for d in $dirs; do [[ $d =~ ^(enc|dec)$ ]] || die "-d: '$d' is not enc or dec"; done
for a in $algs; do [[ $a =~ ^(gcm|cbc)$ ]] || die "-a: '$a' is not gcm or cbc"; done
for s in $sizes; do [[ $s =~ ^(64|512|1420|IMIX)$ ]] || die "-s: '$s' is not 64, 512, 1420 or IMIX"; done

[ "$(id -u)" -eq 0 ] || die "DPDK needs root here (--no-huge with physical memory maps)"
[ -x "$py" ] || die "$py not found (Debian's python3 with python3-scapy)"
"$py" -c 'import scapy.layers.ipsec' 2>/dev/null || die "scapy missing for $py: apt-get install python3-scapy"
pkg-config --exists libdpdk || die "pkg-config finds no libdpdk: apt-get install libdpdk-dev"

# shellcheck source=/dev/null
. "$here/net.env"
mkdir -p "$work"

# --- ipsec-secgw, built once per source/patch version ----------------------
build_secgw() {
	local src=$examples/ipsec-secgw want
	[ -f "$src/ipsec-secgw.c" ] || die "no $src: apt-get install dpdk-doc"
	[ -d "$examples/common" ] || die "no $examples/common (dpdk-doc is incomplete)"
	want=$( (
		cat "$src"/*.c "$src"/*.h "$src/Makefile"
		pkg-config --modversion libdpdk
		echo "patch: rx offloads 0"
	) | sha256sum | cut -d' ' -f1)
	if [ -x "$secgw" ] && [ "$(cat "$secgw_dir/stamp" 2>/dev/null)" = "$want" ]; then
		return
	fi
	note "building ipsec-secgw from $src into $secgw_dir"
	rm -rf "$secgw_dir"
	mkdir -p "$secgw_dir"
	cp -r "$src" "$examples/common" "$secgw_dir/"
	# Virtual ports offer no RX checksum offload and ipsec-secgw refuses to
	# start without it; its packet path never reads those flags.
	sed -i 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/' \
		"$secgw_dir/ipsec-secgw/ipsec-secgw.c"
	grep -q '\.offloads = 0,' "$secgw_dir/ipsec-secgw/ipsec-secgw.c" ||
		die "patching ipsec-secgw.c failed: port_conf no longer reads as in DPDK 22.11"
	make -C "$secgw_dir/ipsec-secgw" -j"$(nproc)" >"$secgw_dir/make.log" 2>&1 ||
		die "building ipsec-secgw failed; see $secgw_dir/make.log"
	[ -x "$secgw" ] || die "make left no $secgw"
	echo "$want" >"$secgw_dir/stamp"
}

# --- input pcaps -------------------------------------------------------------
make_pcaps() {
	local want
	want=$(cat "$here/mkpcap.py" "$here/net.env" | sha256sum | cut -d' ' -f1)
	if [ -f "$work/pcap/meta.json" ] && [ "$(cat "$work/pcap/stamp" 2>/dev/null)" = "$want" ]; then
		return
	fi
	note "writing input pcaps to $work/pcap (scapy, about 15 s)"
	rm -rf "$work/pcap"
	"$py" "$here/mkpcap.py" "$work/pcap" || die "mkpcap.py failed"
	echo "$want" >"$work/pcap/stamp"
}

# --- configs -------------------------------------------------------------------
colon_hex() { echo "$1" | sed 's/../&:/g; s/:$//'; }

# ipsec-secgw: port 0 private (protected), port 1 public (-u 0x2), both
# directions. SPIs in decimal (its parser uses atoi).
secgw_cfg() { # ALG FILE
	local alg=$1 out in
	if [ "$alg" = gcm ]; then
		out="aead_algo aes-128-gcm aead_key $(colon_hex "$BENCH_GCM_KEY_OUT")"
		in="aead_algo aes-128-gcm aead_key $(colon_hex "$BENCH_GCM_KEY_IN")"
	else
		out="cipher_algo aes-128-cbc cipher_key $(colon_hex "$BENCH_CBC_KEY_OUT")"
		out+=" auth_algo sha1-hmac auth_key $(colon_hex "$BENCH_SHA1_KEY_OUT")"
		in="cipher_algo aes-128-cbc cipher_key $(colon_hex "$BENCH_CBC_KEY_IN")"
		in+=" auth_algo sha1-hmac auth_key $(colon_hex "$BENCH_SHA1_KEY_IN")"
	fi
	local so=$((BENCH_SPI_OUT)) si=$((BENCH_SPI_IN)) any="sport 0:65535 dport 0:65535"
	cat >"$2" <<-EOF
		sp ipv4 out esp protect $so pri 1 src $BENCH_LOCAL_NET dst $BENCH_REMOTE_NET $any
		sp ipv4 in esp protect $si pri 1 src $BENCH_REMOTE_NET dst $BENCH_LOCAL_NET $any
		sa out $so $out mode ipv4-tunnel src $BENCH_WAN_IP dst $BENCH_PEER_IP type $secgw_sa_type
		sa in $si $in mode ipv4-tunnel src $BENCH_PEER_IP dst $BENCH_WAN_IP type $secgw_sa_type
		rt ipv4 dst $BENCH_PEER_IP/32 port 1
		rt ipv4 dst $BENCH_LOCAL_NET port 0
		neigh port 0 $BENCH_LAN_NH_MAC
		neigh port 1 $BENCH_WAN_NH_MAC
	EOF
}

# vpngw: the YAML of DESIGN.md with a static SA (shared with callgrind.sh).
# shellcheck source=/dev/null
. "$here/vpngw_cfg.sh"

# --- running one program ---------------------------------------------------------
seq_no=0
pid=

stop_prog() { # PID LOG
	local p=$1
	kill -INT "$p" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		note "pid $p did not stop on SIGINT in 5 s; killing it (see $2)"
		kill -KILL "$p" 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null || true
}

cleanup() {
	if [ -n "$pid" ]; then stop_prog "$pid" /dev/null; fi
	rm -rf /var/run/dpdk/vpngw-bench-"$$"-*
	if [ "$keep" = 0 ]; then rm -rf "$work/run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_prog PROG DIR ALG SIZE MODE: MODE bench (input looped forever,
# output net_null0) or verify (one pass, output into a pcap). Sets pid,
# prefix, log, outpcap.
start_prog() {
	local prog=$1 dir=$2 alg=$3 size=$4 mode=$5 in_pcap in_dev out_dev tag
	seq_no=$((seq_no + 1))
	tag=$prog-$dir-$alg-$size-$mode-$seq_no
	prefix=vpngw-bench-$$-$seq_no
	log=$work/run/$tag.log
	outpcap=$work/run/$tag.out.pcap
	if [ "$dir" = enc ]; then in_pcap=$work/pcap/enc-$size.pcap; else in_pcap=$work/pcap/dec-$alg-$size.pcap; fi
	# net_pcap has as many queues as it has files, and vpngw wants a TX
	# queue per worker plus one for its control thread: two files each.
	# Only RX queue 0 is polled (by both programs); the second RX file is
	# never read, and on the output the control thread's queue writes to
	# its own file.
	if [ "$mode" = bench ]; then
		in_dev="net_pcap0,rx_pcap=$in_pcap,rx_pcap=$in_pcap,infinite_rx=1"
		out_dev="net_null0,no-rx=1"
	else
		in_dev="net_pcap0,rx_pcap=$in_pcap,rx_pcap=$in_pcap"
		out_dev="net_pcap1,tx_pcap=$outpcap,tx_pcap=$outpcap.ctl"
	fi
	local eal=(--no-huge -m 2048 --no-pci --file-prefix "$prefix" --log-level=lib.eal:debug)
	if [ "$prog" = secgw ]; then
		local cfg=$work/run/$tag.cfg lan wan
		secgw_cfg "$alg" "$cfg"
		if [ "$dir" = enc ]; then lan=$in_dev wan=$out_dev; else lan=$out_dev wan=$in_dev; fi
		# -l 1: the main lcore is the one worker (ipsec-secgw wants a TX
		# queue per lcore and net_pcap has one); EAL's control threads
		# (telemetry) run on the other CPUs, as vpngw's control thread does.
		"$secgw" "${eal[@]}" -l 1 --vdev "$lan" --vdev "$wan" --vdev crypto_aesni_mb -- \
			-p 0x3 -P -u 0x2 -l --mtu "$public_mtu" --config "(0,0,1),(1,0,1)" -f "$cfg" >"$log" 2>&1 &
	else
		local cfg=$work/run/$tag.yaml lan wan
		if [ "$dir" = enc ]; then lan=$in_dev wan=$out_dev; else lan=$out_dev wan=$in_dev; fi
		vpngw_cfg "$dir" "$alg" "$lan" "$wan" "$cfg" "$tag"
		"$vpngw" --config "$cfg" -- "${eal[@]}" -l 0,1 >"$log" 2>&1 &
	fi
	pid=$!
}

out_name() { if [ "$2" = bench ]; then echo net_null0; else echo net_pcap1; fi; }

# measure PROG DIR ALG SIZE: sets pps to the output port's packets/s and
# share to the CPU share its worker thread got meanwhile, or both to "-"
# and fails.
measure() {
	local prog=$1 dir=$2 alg=$3 size=$4 line rc=0
	pps=- share=-
	start_prog "$prog" "$dir" "$alg" "$size" bench
	line=$("$py" "$here/sample.py" "/var/run/dpdk/$prefix" net_null0 net_pcap0 30 "$warmup" "$seconds" "$pid") || rc=$?
	stop_prog "$pid" "$log"
	pid=
	rm -rf "/var/run/dpdk/$prefix"
	if [ $rc -ne 0 ]; then
		note "$prog $dir $alg $size: no rate (see $log):"
		tail -n 5 "$log" | sed 's/^/    /' >&2
		return 1
	fi
	echo "$line" >>"$log"
	pps=${line#*tx_pps=} pps=${pps%% *}
	case $line in *cpu_share=*) share=${line#*cpu_share=} share=${share%% *} ;; esac
	local rx
	rx=${line#*rx_pps=} rx=${rx%% *}
	# The input never drops (net_pcap hands out what is polled), so a TX
	# rate below the RX rate means the program dropped packets.
	if [ $((pps * 100)) -lt $((rx * 99)) ]; then
		note "$prog $dir $alg $size: sends $pps pps of $rx received (drops; see $log)"
	fi
}

# verify PROG DIR ALG: one pass of the 64 B (or first selected) pcap into
# a pcap, checked with verify.py (scapy decrypts or compares).
verify() {
	local prog=$1 dir=$2 alg=$3 size=${sizes%% *} rc=0 in_pcap
	start_prog "$prog" "$dir" "$alg" "$size" verify
	"$py" "$here/sample.py" "/var/run/dpdk/$prefix" net_pcap1 net_pcap0 30 0.5 0 "$pid" >/dev/null 2>>"$log" || rc=$?
	stop_prog "$pid" "$log"
	pid=
	rm -rf "/var/run/dpdk/$prefix"
	if [ $rc -ne 0 ]; then
		note "$prog $dir $alg: forwarded nothing (see $log):"
		tail -n 5 "$log" | sed 's/^/    /' >&2
		return 1
	fi
	if [ "$dir" = enc ]; then in_pcap=$work/pcap/enc-$size.pcap; else in_pcap=$work/pcap/dec-$alg-$size.pcap; fi
	if ! "$py" "$here/verify.py" "$dir" "$alg" "$in_pcap" "$outpcap" >>"$log" 2>&1; then
		note "$prog $dir $alg: output is wrong (see $log):"
		tail -n 2 "$log" | sed 's/^/    /' >&2
		return 1
	fi
}

# --- main ----------------------------------------------------------------------------
build_secgw
make_pcaps
rm -rf "$work/run"
mkdir -p "$work/run"

have_vpngw=1
if [ -f "$build/build.ninja" ] && command -v ninja >/dev/null; then
	ninja -C "$build" >"$work/ninja.log" 2>&1 || note "ninja -C $build failed (see $work/ninja.log); using what is there"
fi
if [ ! -x "$vpngw" ]; then
	note "no vpngw daemon at $vpngw (not built yet?): measuring ipsec-secgw alone"
	have_vpngw=0
fi

tsc_hz=
results=$work/results.tsv
: >"$results"
for dir in $dirs; do
	for alg in $algs; do
		verify secgw "$dir" "$alg" || die "ipsec-secgw does not forward $dir $alg correctly; fix the harness"
		use_vpngw=$have_vpngw
		if [ "$use_vpngw" = 1 ] && ! verify vpngw "$dir" "$alg"; then
			note "vpngw left out of $dir $alg rows"
			use_vpngw=0
		fi
		for size in $sizes; do
			for run in $(seq "$runs"); do
				# Alternate which program goes first.
				order="secgw vpngw"
				if [ $((run % 2)) = 0 ]; then order="vpngw secgw"; fi
				for prog in $order; do
					pps=- share=-
					if [ "$prog" = secgw ] || [ "$use_vpngw" = 1 ]; then
						measure "$prog" "$dir" "$alg" "$size" || true
						if [ -z "$tsc_hz" ]; then
							tsc_hz=$(sed -n 's/.*TSC frequency is ~\([0-9]*\) KHz.*/\1/p' "$log" | head -n1)
						fi
					fi
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dir" "$alg" "$size" "$prog" "$run" "$pps" "$share" >>"$results"
					if [ "$prog" = secgw ] || [ "$use_vpngw" = 1 ]; then
						note "$dir $alg $size run $run/$runs $prog: $pps pps (worker CPU share $share)"
					fi
				done
			done
		done
	done
done

[ -n "$tsc_hz" ] || die "could not read the TSC frequency from EAL's log"
"$py" "$here/report.py" "$results" "$work/pcap/meta.json" "$((tsc_hz * 1000))" "$runs" "$seconds"
