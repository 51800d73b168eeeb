#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Input pcaps for `scripts/bench.sh gateway`.

  mkpcap.py OUTDIR

Writes, for every inner size (64, 512, 1420, IMIX) and every algorithm
(gcm, cbc):
  enc-SIZE.pcap          plain IPv4/UDP packets into the private port
  dec-ALG-SIZE.pcap      the same packets as tunnel-mode ESP from the peer,
                         made with scapy's SecurityAssociation (the peer's
                         outbound SA = the gateway's inbound SA), sequence
                         numbers 1..N, so replay must be off to loop them
and meta.json with the packet count and mean inner (IPv4) bytes per file.

Sizes are inner IPv4 packet lengths, as in tests/bench/esp_bench.c. Each
file holds 1024 flows (inner src/dst within the SA's selectors, varying UDP
ports); IMIX is 7:4:1 of 64/570/1500 interleaved as on a link. The
addresses and keys are the ones in net.env, which the runner also reads.
"""

import json
import os
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

HERE = os.path.dirname(os.path.abspath(__file__))

FLOWS = 1024
SIZES = {
    "64": [64],
    "512": [512],
    "1420": [1420],
    "IMIX": [64, 570, 64, 64, 570, 64, 1500, 64, 570, 64, 64, 570],
}


def load_env(path):
    env = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            env[key] = value.strip('"')
    return env


def inner_packets(env, pattern, local_to_remote):
    """Inner IPv4/UDP packets, one per flow (more for IMIX to keep 7:4:1)."""
    n = FLOWS
    if len(pattern) > 1:
        n = ((FLOWS + len(pattern) - 1) // len(pattern)) * len(pattern)
    pkts = []
    for i in range(n):
        flow = i % FLOWS
        # 32 local hosts x 32 remote hosts (4 subnets x 8), one port pair per flow.
        lh = "%s.%d" % (env["BENCH_LOCAL_HOSTS"], 10 + flow % 32)
        rh = "%s.%d.%d" % (env["BENCH_REMOTE_HOSTS"], (flow // 32) % 4, 10 + flow // 128)
        src, dst = (lh, rh) if local_to_remote else (rh, lh)
        size = pattern[i % len(pattern)]
        hdr = IP(src=src, dst=dst, ttl=64, id=i & 0xFFFF) / UDP(sport=1024 + flow,
                                                               dport=5000 + flow % 16)
        pad = size - len(hdr)
        if pad < 0:
            raise SystemExit("mkpcap.py: size %d is below the IPv4/UDP header" % size)
        pkt = IP(bytes(hdr / (bytes([i & 0xFF]) * pad)))
        assert len(pkt) == size
        pkts.append(pkt)
    return pkts


def peer_sa(env, alg):
    """The peer's outbound SA: what the gateway's inbound SA decrypts."""
    tunnel = IP(src=env["BENCH_PEER_IP"], dst=env["BENCH_WAN_IP"], ttl=64)
    if alg == "gcm":
        return SecurityAssociation(ESP, spi=int(env["BENCH_SPI_IN"], 0), crypt_algo="AES-GCM",
                                   crypt_key=bytes.fromhex(env["BENCH_GCM_KEY_IN"]),
                                   auth_algo="NULL", tunnel_header=tunnel)
    return SecurityAssociation(ESP, spi=int(env["BENCH_SPI_IN"], 0), crypt_algo="AES-CBC",
                               crypt_key=bytes.fromhex(env["BENCH_CBC_KEY_IN"]),
                               auth_algo="HMAC-SHA1-96",
                               auth_key=bytes.fromhex(env["BENCH_SHA1_KEY_IN"]),
                               tunnel_header=tunnel)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkpcap.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    env = load_env(os.path.join(HERE, "net.env"))
    lan_eth = Ether(src=env["BENCH_LAN_HOST_MAC"], dst=env["BENCH_LAN_PORT_MAC"])
    wan_eth = Ether(src=env["BENCH_WAN_NH_MAC"], dst=env["BENCH_WAN_PORT_MAC"])
    meta = {}
    for name, pattern in SIZES.items():
        plain = inner_packets(env, pattern, True)
        inner_bytes = sum(len(p) for p in plain) / len(plain)
        path = os.path.join(out, "enc-%s.pcap" % name)
        wrpcap(path, [lan_eth / p for p in plain])
        meta["enc-%s" % name] = {"packets": len(plain), "inner_bytes": inner_bytes}
        back = inner_packets(env, pattern, False)
        inner_bytes = sum(len(p) for p in back) / len(back)
        for alg in ("gcm", "cbc"):
            sa = peer_sa(env, alg)
            esp = []
            for seq, p in enumerate(back, start=1):
                sa.seq_num = seq
                esp.append(wan_eth / sa.encrypt(p))
            path = os.path.join(out, "dec-%s-%s.pcap" % (alg, name))
            wrpcap(path, esp)
            meta["dec-%s-%s" % (alg, name)] = {"packets": len(esp), "inner_bytes": inner_bytes}
    with open(os.path.join(out, "meta.json"), "w", encoding="ascii") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
