#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vpnctl against api_test_server: readable tables, --json, every exit code.
# Usage: test_vpnctl.sh VPNCTL API_TEST_SERVER
set -euo pipefail

VPNCTL=$1
SERVER=$2
TMP=$(mktemp -d /tmp/vpnctl_test.XXXXXX)
SOCK=$TMP/run/vpngw.sock
SERVER_PID=
failures=0

cleanup() {
	if [[ -n $SERVER_PID ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run EXPECTED_RC ARGS...: runs vpnctl, leaves stdout/stderr in $TMP/out, $TMP/err.
run() {
	local want=$1 rc=0
	shift
	"$VPNCTL" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [[ $rc -ne $want ]]; then
		fail "vpnctl $* exited $rc, want $want; stderr: $(cat "$TMP/err")"
	fi
}

expect_out() {
	if ! diff -u <(printf '%s\n' "$1") "$TMP/out" >"$TMP/diff"; then
		fail "vpnctl $2: unexpected output:"
		cat "$TMP/diff" >&2
	fi
}

expect_no_out() {
	if [[ -s $TMP/out ]]; then
		fail "vpnctl $1: stdout should be empty: $(cat "$TMP/out")"
	fi
}

expect_err() {
	if ! grep -qF -- "$1" "$TMP/err"; then
		fail "vpnctl $2: stderr lacks '$1': $(cat "$TMP/err")"
	fi
}

"$SERVER" "$SOCK" >"$TMP/server.out" &
SERVER_PID=$!
for _ in $(seq 100); do
	[[ -S $SOCK ]] && break
	sleep 0.05
done
[[ -S $SOCK ]] || { echo "api_test_server did not start" >&2; exit 1; }

# --- readable output ---
run 0 --socket "$SOCK" stats
expect_out "PORT  ROLE     LINK  RX PACKETS  RX BYTES  TX PACKETS  TX BYTES
wan   public   yes         1200   1843200        1100   1650000
lan   private  no          1100   1540000        1195   1673000

WORKER  LCORE  RX PACKETS  ENCRYPTED  DECRYPTED  CYCLES/PACKET
0       1            2300       1100       1195         1100.0
1       2               0          0          0              -

DROP REASON  PACKETS
replay             2
bad_icv            1" stats

run 0 sa --socket="$SOCK"
expect_out "NAME   SPI         DIR  ENCRYPTION   INTEGRITY  PACKETS    BYTES  DROPS
lab-1  0x00001000  out  aes-gcm-128  none          1100  1540000      0
lab-1  0x00002000  in   aes-gcm-128  none          1195  1673000      3

drops by SA:
  lab-1 0x00002000 in: replay 2, bad_icv 1" sa

run 0 --socket "$SOCK" status lab-1
expect_out "idc-bj-1 (ikev1): phase1 failed since 2026-11-28T08:00:00Z
  cause: psk_mismatch
  evidence: invalid HASH_V1 payload length
  remedy: set the same pre-shared key on both sides
  children: none

lab-1 (ikev2): phase2 succeeded since 2026-11-28T08:01:00Z
  peer: 198.51.100.7:4500
  child: 10.0.0.0/16 === 192.168.0.0/24, spi in 0xc1000001 out 0x8f3a2b11, aes/sha1
    in 1 packets 10 bytes, out 2 packets 20 bytes, rekey in 3500 s
  child: 10.1.0.0/25, 10.1.0.128/25 === 10.2.0.0/24, 10.3.0.0/24, spi in 0xc1000003 out 0x8f3a2b13, aes-gcm-128/none
    in 0 packets 0 bytes, out 0 packets 0 bytes, rekey in 3000 s" status

run 0 --socket "$SOCK" up lab-1
expect_out "name: lab-1
state: phase1 negotiating" up

run 0 --socket "$SOCK" reload
expect_out "ok" reload

run 0 --socket "$SOCK" rate 250
expect_out "bandwidth_mbps: 250" rate

# --- --json: the daemon's result, as JSON ---
run 0 --socket "$SOCK" sa --json
python3 - "$TMP/out" <<'PY' || fail "sa --json is not the server's result"
import json, sys
r = json.load(open(sys.argv[1]))
sas = r["sas"]
assert [s["spi"] for s in sas] == ["0x00001000", 8192], sas
assert sas[1]["drops"] == {"replay": 2, "bad_icv": 1, "peer_source_nat": 0}
PY
run 0 --json --socket "$SOCK" stats
python3 - "$TMP/out" <<'PY' || fail "stats --json is not the server's result"
import json, sys
r = json.load(open(sys.argv[1]))
assert [p["name"] for p in r["ports"]] == ["wan", "lan"]
assert r["workers"][0]["cycles_per_packet"] == 1100.0
assert r["drops"]["replay"] == 2
PY
run 0 --socket "$SOCK" reload --json
expect_out "null" "reload --json"
run 0 --socket "$SOCK" rate 0 --json
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == {"bandwidth_mbps": 0}' \
	"$TMP/out" || fail "rate --json"

# --- exit 1: the daemon answered an error ---
run 1 --socket "$SOCK" down nope
expect_no_out "down nope"
expect_err "vpnctl: down: no connection 'nope'; connections: idc-bj-1, lab-1" "down nope"
run 1 --socket "$SOCK" diagnose lab-1 --json
expect_no_out "diagnose"
expect_err "unknown command 'diagnose'; commands: down, rate, reload, sa, stats, status, up" \
	diagnose

# --- exit 2: usage ---
run 2 --socket "$SOCK"
expect_err "no command given" "(no command)"
expect_err "usage: vpnctl" "(no command)"
run 2 --socket "$SOCK" frobnicate
expect_err "unknown command 'frobnicate'" frobnicate
run 2 --socket "$SOCK" up
expect_err "wrong number of arguments for 'up'" "up"
run 2 --socket "$SOCK" stats extra
expect_err "wrong number of arguments for 'stats'" "stats extra"
run 2 --socket "$SOCK" rate fast
expect_err "rate: 'fast' is not a number" "rate fast"
run 2 --socket "$SOCK" rate -5
run 2 --bogus stats
expect_err "unknown option '--bogus'" "--bogus"
run 2 stats --socket
expect_err "--socket needs a path" "--socket"
run 0 --help
grep -q "exit codes" "$TMP/out" || fail "--help lacks exit codes"

# --- exit 3: cannot reach the daemon ---
run 3 --socket "$TMP/absent.sock" stats
expect_err "cannot connect to $TMP/absent.sock" "absent socket"
expect_err "is vpngw running?" "absent socket"
# Listening but never answering: the timeout, still exit 3.
python3 - "$TMP/mute.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
time.sleep(5)
PY
MUTE_PID=$!
for _ in $(seq 100); do
	[[ -S $TMP/mute.sock ]] && break
	sleep 0.05
done
run 3 --socket "$TMP/mute.sock" --timeout 1 stats
expect_err "no response from $TMP/mute.sock" "mute socket"
kill "$MUTE_PID" 2>/dev/null || true
wait "$MUTE_PID" 2>/dev/null || true

# The default socket path is the documented one.
run 0 --help
grep -qF "(default /run/vpngw/vpngw.sock)" "$TMP/out" || fail "--help lacks the default socket"

if [[ $failures -ne 0 ]]; then
	echo "$failures vpnctl check(s) failed" >&2
	exit 1
fi
echo "vpnctl: all checks passed"
