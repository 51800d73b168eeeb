#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The daemon's command line and exit codes (DESIGN.md "Interfaces"):
# 0 help / clean stop, 2 bad config with file:line, key and allowed values,
# 3 no usable port. Then `vpnctl status|diagnose|up|down` on a daemon with
# an IKEv2 connection whose peer never answers: "phase1 negotiating", the
# IKE_SA_INIT and its retransmits on the wire (net_pcap), then "phase1
# failed" with cause peer_not_responding, its evidence and remedy, in the
# JSON, the human output, the log and /metrics.
# Usage: test_cli.sh VPNGW VPNCTL
set -euo pipefail

VPNGW=$1
VPNCTL=${2:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
prefix="vpngwcli$$"
EAL=(--no-huge -m 256 --no-pci --file-prefix "$prefix" -l 0-1 --log-level '*:error')

expect() { # name, expected exit code, expected output fragment, command...
	local name=$1 code=$2 frag=$3
	shift 3
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne "$code" ]; then
		echo "FAIL $name: exit $rc, expected $code; output: $out"
		fails=$((fails + 1))
	elif ! grep -qF -- "$frag" <<<"$out"; then
		echo "FAIL $name: output lacks '$frag'; output: $out"
		fails=$((fails + 1))
	else
		echo "ok   $name"
	fi
}

expect "--help exits 0" 0 "usage: vpngw --config FILE" "$VPNGW" --help
expect "no --config is a usage error" 2 "usage" "$VPNGW"
expect "missing file" 2 "$dir/none.yaml" "$VPNGW" --config "$dir/none.yaml" -- "${EAL[@]}"

cat >"$dir/bad.yaml" <<'YAML'
gateway:
  name: gw
  ports:
    - name: wan
      device: "net_null0"
      role: public
      address: 203.0.113.1/24
static_sas:
  - name: t
    peer: 198.51.100.1
    local_subnets: [10.1.0.0/24]
    remote_subnets: [10.2.0.0/24]
    encryption: aes512
    integrity: sha1
    out: {spi: 0x1000, enc_key: "00", auth_key: "00"}
    in:  {spi: 0x2000, enc_key: "00", auth_key: "00"}
YAML
expect "bad algorithm: exit 2 naming line, key and allowed values" 2 \
	'bad.yaml:13: static_sas[0].encryption: "aes512" is not allowed; allowed: ' \
	"$VPNGW" --config "$dir/bad.yaml" -- "${EAL[@]}"

cat >"$dir/noport.yaml" <<'YAML'
gateway:
  name: gw
  ports:
    - name: wan
      device: "net_nosuchdriver0"
      role: public
      address: 203.0.113.1/24
    - name: lan
      device: "net_null1"
      role: private
      address: 10.1.0.1/24
YAML
expect "a port that cannot be used: exit 3 naming it" 3 "wan" \
	timeout 60 "$VPNGW" --config "$dir/noport.yaml" -- "${EAL[@]}"

# ---- an IKEv2 connection and a peer that never answers ----
# Short retransmits (0.2 s, 2 tries: fails after ~1.4 s) and no restart
# during the test (the engines' test tunables, control/ike_glue.h).
json_get() { # file, python expression over j
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}
python3 -c "
import struct,sys
open(sys.argv[1],'wb').write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))" "$dir/empty.pcap"
# What the peers send us (net_pcap replays it at start): an IKEv1 header
# from .8, whose connection is IKEv2; a NAT keepalive; a frame with a bad
# UDP checksum; an IKEv2 IKE_SA_INIT from an address no customer gateway has.
/usr/bin/python3 - "$dir/in4.pcap" <<'PY'
import sys
from scapy.all import IP, UDP, Ether, Raw, wrpcap
us = "02:70:63:61:70:00"  # net_pcap MACs follow probe order: wan first
def frame(src, sport, dport, payload, **kw):
    return (Ether(src="02:00:00:00:00:08", dst=us) / IP(src=src, dst="203.0.113.1") /
            UDP(sport=sport, dport=dport, **kw) / Raw(payload))
def hdr(version, exch):
    return (b"\x11" * 8 + b"\x00" * 8 + bytes([0, version, exch, 0x08]) + b"\x00" * 4 +
            (28).to_bytes(4, "big"))
bad = frame("203.0.113.8", 500, 500, hdr(0x20, 34))
bad[UDP].chksum = 0x1234
wrpcap(sys.argv[1], [frame("203.0.113.8", 500, 500, hdr(0x10, 2)),
                     frame("203.0.113.8", 4500, 4500, b"\xff"),
                     bad,
                     frame("203.0.113.99", 500, 500, hdr(0x20, 34))])
PY
mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/ike.yaml" <<YAML
gateway:
  name: gw
  poll_mode: adaptive
  ports:
    - name: wan
      device: "net_pcap0,rx_pcap=$dir/in4.pcap,tx_pcap=$dir/wan0.pcap,tx_pcap=$dir/wan1.pcap"
      role: public
      address: 203.0.113.1/24
      neighbours: [{ip: 203.0.113.7, mac: "02:00:00:00:00:07"}]
    - name: wan6
      device: "net_pcap1,rx_pcap=$dir/empty.pcap,tx_pcap=$dir/w6_0.pcap,tx_pcap=$dir/w6_1.pcap"
      role: public
      address: 2001:db8::1/64
      neighbours: [{ip: "2001:db8::7", mac: "02:00:00:00:00:67"}]
    - name: lan
      device: "net_null1"
      role: private
      address: 10.1.0.1/24
  control_socket: $dir/vpngw.sock
  metrics_listen: 127.0.0.1:$mport
customer_gateways:
  - {name: peer, address: 203.0.113.7}
  - {name: peer1, address: 203.0.113.8}
  - {name: peer6, address: "2001:db8::7"}
connections:
  - name: c1
    customer_gateway: peer
    local_subnets: [10.1.0.0/24]
    remote_subnets: [10.2.0.0/24]
    effect_immediately: true
    psk: "s3cret"
    ike: {version: ikev2, encryption: aes256, integrity: sha256, dh_group: group14}
    ipsec: {encryption: aes-gcm-128, pfs: disabled}
  - name: c2
    customer_gateway: peer1
    local_subnets: [10.1.0.0/24]
    remote_subnets: [10.3.0.0/24]
    psk: "s3cret"
    ike: {version: ikev2}
  - name: c6
    customer_gateway: peer6
    local_subnets: [10.1.0.0/24]
    remote_subnets: [10.6.0.0/24]
    effect_immediately: true
    psk: "s3cret"
    ike: {version: ikev2}
YAML
VPNGW_IKE_RETRANSMIT_BASE_MS=200 VPNGW_IKE_RETRANSMIT_TRIES=2 \
	VPNGW_IKE_RESTART_DELAY_MS=600000 \
	"$VPNGW" --config "$dir/ike.yaml" -- "${EAL[@]}" >"$dir/ike.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ -S "$dir/vpngw.sock" ] && break
	sleep 0.1
done
[ -S "$dir/vpngw.sock" ] || { echo "FAIL the daemon did not start:"; tail -20 "$dir/ike.log"; }
ctl() { "$VPNCTL" --socket "$dir/vpngw.sock" "$@"; }
state=""
for _ in $(seq 50); do
	ctl status c1 --json >"$dir/s.json" 2>/dev/null || true
	state=$(json_get "$dir/s.json" 'j["connections"][0]["state"]' 2>/dev/null || true)
	[ -n "$state" ] && [ "$state" != down ] && break
	sleep 0.02
done
if [ "$state" = "phase1 negotiating" ]; then
	echo "ok   status: phase1 negotiating right after start"
else
	echo "FAIL status right after start: '$state'; $(cat "$dir/s.json" 2>/dev/null)"
	fails=$((fails + 1))
fi
for _ in $(seq 100); do
	ctl status c1 --json >"$dir/s.json" 2>/dev/null || true
	state=$(json_get "$dir/s.json" 'j["connections"][0]["state"]' 2>/dev/null || true)
	[ "$state" = "phase1 failed" ] && break
	sleep 0.1
done
got=$(json_get "$dir/s.json" '"|".join(str(x) for x in (len(j["connections"]), j["connections"][0]["name"], j["connections"][0]["ike_version"], j["connections"][0]["state"], j["connections"][0]["cause"], j["connections"][0]["children"], j["connections"][0]["since"].endswith("Z")))' 2>&1 || true)
if [ "$got" = "1|c1|ikev2|phase1 failed|peer_not_responding|[]|True" ]; then
	echo "ok   status --json: phase1 failed, peer_not_responding"
else
	echo "FAIL status --json after retransmits: $got"
	fails=$((fails + 1))
fi
expect "status --json: evidence names the retransmits" 0 "retransmit" \
	json_get "$dir/s.json" 'j["connections"][0]["evidence"]'
expect "status --json: remedy" 0 "check the peer's address" \
	json_get "$dir/s.json" 'j["connections"][0]["remedy"]'
expect "status (human): one block per connection with its state" 0 \
	"c1 (ikev2): phase1 failed since 20" ctl status
ctl status --json >"$dir/all.json"
expect "status lists every connection in config order" 0 "c1 c2 c6" \
	json_get "$dir/all.json" '" ".join(c["name"] for c in j["connections"])'
expect "a peer speaking IKEv1 to an IKEv2 connection: ike_version_mismatch" 0 \
	"phase1 failed|ike_version_mismatch|peer 203.0.113.8:500 sent IKEv1, connection is configured for IKEv2|set the same IKE version on both sides" \
	json_get "$dir/all.json" '"|".join(str(j["connections"][1][k]) for k in ("state", "cause", "evidence", "remedy"))'
ctl stats --json >"$dir/stats.json"
expect "stats: the NAT keepalive counted" 0 "keepalives 1" \
	json_get "$dir/stats.json" '"keepalives %d" % j["ike"]["glue"]["keepalives"]'
expect "stats: the frame with a bad UDP checksum dropped" 0 "frame 1 version_mismatch 1" \
	json_get "$dir/stats.json" '"frame %d version_mismatch %d" % (j["ike"]["glue"]["drops"]["frame"], j["ike"]["glue"]["drops"]["version_mismatch"])'
expect "stats: the IKEv2 message from an unknown address reached the engine" 0 "True" \
	json_get "$dir/stats.json" 'j["ike"]["ikev2"]["rx"] >= 1 and j["ike"]["ikev2"]["unknown_peer"] + j["ike"]["ikev2"]["malformed"] >= 1'
expect "c6 (IPv6 peer) negotiating or failed like c1" 0 "phase1" \
	json_get "$dir/all.json" 'j["connections"][2]["state"]' 
expect "status (human): cause" 0 "cause: peer_not_responding" ctl status c1
expect "diagnose names the cause" 0 "cause: peer_not_responding" ctl diagnose c1
expect "diagnose gives the remedy" 0 "remedy: check the peer's address" ctl diagnose c1
expect "status (human): the remedy" 0 "remedy: check the peer's address" ctl status c1
expect "status of an unknown connection: exit 1" 1 'no connection named "nope"' \
	ctl status nope
expect "up of an unknown connection: exit 1" 1 'no connection named "nope"' ctl up nope
expect "diagnose needs a name: exit 2" 2 "usage" ctl diagnose
expect "the log has the retransmits" 0 "sending retransmit 2 of request message ID 0" \
	cat "$dir/ike.log"
expect "/metrics counts the failure by cause" 0 \
	'vpngw_ike_failures_total{connection="c1",cause="peer_not_responding"} 1' \
	curl -s "http://127.0.0.1:$mport/metrics"
expect "/metrics has the state gauge" 0 \
	'vpngw_connection_state{connection="c1",state="phase1 failed"} 1' \
	curl -s "http://127.0.0.1:$mport/metrics"
expect "/metrics counts the retransmits per IKE version" 0 "" \
	sh -c "curl -s http://127.0.0.1:$mport/metrics | grep -Eq '^vpngw_ike_retransmits_total[{]version=\"ikev2\"[}] [1-9]'"
expect "/metrics has the IKEv1 engine's series too" 0 \
	'vpngw_ike_half_open{version="ikev1"} 0' \
	curl -s "http://127.0.0.1:$mport/metrics"
expect "down: exit 0, state down" 0 "state: down" ctl down c1
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
expect "SIGTERM with IKE running: exit 0" 0 "" test "$rc" -eq 0
# The IKE_SA_INIT and its 2 retransmits left on the wire: 203.0.113.1:500 -> .7:500.
n=$(python3 - "$dir/wan1.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, n = 24, 0
while off + 16 <= len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    if (len(f) > 42 and f[0:6] == bytes.fromhex("020000000007") and f[12:14] == b"\x08\x00"
            and f[23] == 17 and f[26:30] == bytes([203, 0, 113, 1])
            and f[30:34] == bytes([203, 0, 113, 7]) and f[34:38] == b"\x01\xf4\x01\xf4"
            and f[42 + 17] == 0x20 and f[42 + 18] == 34):  # IKEv2, IKE_SA_INIT
        n += 1
print(n)
PY
)
expect "IKE_SA_INIT sent 3 times (1 + 2 retransmits) to the peer's MAC" 0 "3" echo "$n"
# Both families' frames as an independent decoder sees them: checksums
# recomputed by scapy equal ours, addresses and ports as configured.
v=$(/usr/bin/python3 - "$dir/wan1.pcap" "$dir/w6_1.pcap" <<'PY'
import sys
from scapy.all import IP, IPv6, UDP, Ether, rdpcap
out = []
for path, l3, src, dst, mac in ((sys.argv[1], IP, "203.0.113.1", "203.0.113.7", "02:00:00:00:00:07"),
                                (sys.argv[2], IPv6, "2001:db8::1", "2001:db8::7", "02:00:00:00:00:67")):
    good = 0
    for p in rdpcap(path):
        if l3 not in p or UDP not in p:
            continue
        sent = p[UDP].chksum
        q = Ether(bytes(p))
        del q[UDP].chksum
        if l3 is IP:
            ip_sum = q[IP].chksum
            del q[IP].chksum
        q = Ether(bytes(q))
        ok = (q[UDP].chksum == sent and p[Ether].dst == mac and p[l3].src == src and
              p[l3].dst == dst and p[UDP].sport == 500 and p[UDP].dport == 500 and
              (l3 is not IP or q[IP].chksum == ip_sum) and bytes(p[UDP].payload)[17] == 0x20)
        good += ok
    out.append(str(good >= 1))
print(" ".join(out))
PY
)
expect "IKE frames on IPv4 and IPv6 with valid checksums (scapy)" 0 "True True" echo "$v"

rm -rf "/var/run/dpdk/$prefix"
echo "$fails failed"
[ "$fails" -eq 0 ]
