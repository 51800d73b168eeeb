#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The gateway on an embedded default topology: two vpngw daemons back to
# back, each with a public and a private DPDK port (net_tap devices moved
# into network namespaces) and a LAN host behind it, joined by static
# AES-128-GCM SAs. Shows ping and iperf3 across the tunnel, `vpnctl sa`,
# `vpnctl stats` and a /metrics excerpt. Then IKEv2 between vpngw and a
# strongSwan peer (charon with kernel-libipsec in its own namespace): the
# negotiated tunnel, ping and iperf3 across it, `vpnctl status` and
# `swanctl --list-sas`. Everything is stopped and every namespace and tap
# removed at the end, also those of an earlier run that was killed halfway.
#
#   scripts/demo.sh        the two-gateway and IKEv2 demo (root: namespaces, taps)
#   scripts/demo.sh esp    ESP made by lib/esp, decrypted by tshark
set -euo pipefail

cd "$(dirname "$0")/.."
bash scripts/deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null

if [ "${1:-}" = "esp" ]; then
	exec bash tests/esp/demo_esp.sh
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: needs root (network namespaces, DPDK taps)" >&2
	exit 1
fi
root=$PWD
cd tests/ns
exec /usr/bin/python3 demo.py "$root/build/control/vpngw" "$root/build/control/vpnctl"
