#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs every Debian package vpngw and its tests need. Idempotent: quiet
# and quick when all are present. Run as root (CI runs it as root).
set -euo pipefail

PACKAGES=(
	# build
	build-essential meson ninja-build pkg-config clang-format
	# fuzzing (libFuzzer comes with clang's runtime)
	clang libclang-rt-14-dev
	# data plane and crypto
	libdpdk-dev dpdk dpdk-dev dpdk-doc libipsec-mb-dev libnuma-dev libpcap-dev
	libsodium-dev libssl-dev
	# control plane
	libcyaml-dev libyaml-dev libjansson-dev libmicrohttpd-dev
	# tests: unit framework, independent ESP decoders, peers and traffic
	check tshark python3-scapy iproute2 iputils-ping iperf3 curl procps
	# IKE interop (tests/ike): charon and swanctl; kernel-libipsec (userspace
	# ESP, the kernel here has no XFRM) is in libcharon-extra-plugins, the
	# openssl and gcm plugins in libstrongswan-standard-plugins; unshare
	# (a private /run per charon) is util-linux
	strongswan-charon strongswan-swanctl libcharon-extra-plugins
	libstrongswan-standard-plugins util-linux
	# a real NAT in the interop lab's router namespace (nft) and a change
	# of its mapping (conntrack -F)
	nftables conntrack
	# scripts: column (demo output)
	bsdextrautils
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "deps.sh: done"
