#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `scripts/demo.sh esp`: vpngw's ESP code (lib/esp over Intel IPsec-MB)
# encrypts IPv4 and IPv6 packets under static SAs, and tshark, a decoder
# nobody here wrote, decrypts them with the SA keys and shows the inner
# packets with their ICVs verified. Expects a built tree (demo.sh does it).
set -euo pipefail

cd "$(dirname "$0")/../.."

work=$(mktemp -d /tmp/vpngw-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
export HOME="$work" # tshark: no user profile, only the SAs given here

./build/tests/esp/esp_pcapgen "$work" >/dev/null

# Fields of a case line of the manifest (see tests/esp/esp_pcapgen.c).
case_field() { awk -v c="$1" -v f="$2" '$1 == "case" && $2 == c { print $f }' "$work/esp.manifest"; }

show() { # case, tshark encryption name, tshark auth name, title
	local c=$1 enc=$2 auth=$3 title=$4
	local spi src dst ekey akey fam sa
	spi=$(case_field "$c" 3)
	fam=$(case_field "$c" 4)
	src=$(case_field "$c" 5)
	dst=$(case_field "$c" 6)
	ekey=$(case_field "$c" 9)
	akey=$(case_field "$c" 10)
	[ "$akey" = "-" ] && akey=""
	sa="\"IPv$fam\",\"$src\",\"$dst\",\"$spi\",\"$enc\",\"0x$ekey\",\"$auth\",\"0x$akey\""
	printf '\n== %s (SPI %s) ==\n' "$title" "$spi"
	printf 'SA given to tshark: %s\n\n' "$sa"
	tshark -r "$work/esp.pcap" -Y "esp.spi == $spi" \
		-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
		-o "uat:esp_sa:$sa" -d udp.port==4500,udpencap \
		-T fields -e frame.number -e ip.src -e ipv6.src -e esp.sequence \
		-e esp.icv_good -e _ws.col.Protocol -e _ws.col.Info 2>/dev/null |
		head -5 | { printf 'frame\tIPv4 src (outer,inner)\tIPv6 src (outer,inner)\tESP seq\tICV ok\tinner\tinner packet\n'; cat; } |
		column -t -s $'\t'
}

echo "vpngw demo: ESP made by lib/esp, decrypted by $(tshark --version 2>/dev/null | head -1 | cut -d' ' -f1-3)"
show gcm128-v4 "AES-GCM with 16 octet ICV [RFC4106]" "NULL" "AES-128-GCM, outer IPv4"
show aes256-sha256-v6 "AES-CBC [RFC3602]" "HMAC-SHA-256-128 [RFC4868]" "AES-256-CBC + HMAC-SHA-256-128, outer IPv6"
show aes128-sha1-udp-v4 "AES-CBC [RFC3602]" "HMAC-SHA-1-96 [RFC2404]" "AES-128-CBC + HMAC-SHA-1-96 in UDP 4500 (NAT traversal)"

cat <<'TXT'

Columns: the outer source, ESP sequence number, whether tshark found our
ICV correct (1), and the inner packet tshark decrypted (UDP, ICMP, ICMPv6).
Every algorithm, ESN and the tamper checks are in the esp_tshark test
(scripts/test.sh).
TXT
