#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The daemon's command line and exit codes (DESIGN.md "Interfaces"):
# 0 help / clean stop, 2 bad config with file:line, key and allowed values,
# 3 no usable port. Usage: test_cli.sh VPNGW
set -euo pipefail

VPNGW=$1
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

rm -rf "/var/run/dpdk/$prefix"
echo "$fails failed"
[ "$fails" -eq 0 ]
