#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks a benchmark program's output before it is timed.

  verify.py enc|dec ALG IN.pcap OUT.pcap

enc: OUT holds ESP to the peer that the gateway's outbound SA (net.env's
     *_OUT keys) decrypts back to the inner packets of IN.
dec: IN holds the peer's ESP, OUT the decrypted inner packets.
Inner packets are compared by addresses, UDP ports and payload (TTL and
checksum may change). Prints "ok N packets" or exits 1 with what differs.
"""

import os
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mkpcap import load_env, peer_sa  # noqa: E402


def key(ip):
    udp = ip[UDP]
    return (ip.src, ip.dst, udp.sport, udp.dport, bytes(udp.payload))


def gateway_out_sa(env, alg):
    tunnel = IP(src=env["BENCH_WAN_IP"], dst=env["BENCH_PEER_IP"])
    spi = int(env["BENCH_SPI_OUT"], 0)
    if alg == "gcm":
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM",
                                   crypt_key=bytes.fromhex(env["BENCH_GCM_KEY_OUT"]),
                                   auth_algo="NULL", tunnel_header=tunnel)
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC",
                               crypt_key=bytes.fromhex(env["BENCH_CBC_KEY_OUT"]),
                               auth_algo="HMAC-SHA1-96",
                               auth_key=bytes.fromhex(env["BENCH_SHA1_KEY_OUT"]),
                               tunnel_header=tunnel)


def fail(msg):
    sys.exit("verify.py: %s" % msg)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("enc", "dec"):
        sys.exit("usage: verify.py enc|dec gcm|cbc IN.pcap OUT.pcap")
    direction, alg, inp, outp = sys.argv[1:]
    env = load_env(os.path.join(HERE, "net.env"))
    out = [p for p in rdpcap(outp) if IP in p]
    if not out:
        fail("%s holds no IPv4 packets" % outp)
    got = []
    if direction == "enc":
        expect = {key(p[IP]) for p in rdpcap(inp)}
        sa = gateway_out_sa(env, alg)
        for i, p in enumerate(out):
            ip = p[IP]
            if ESP not in ip:
                fail("output packet %d is not ESP: %s" % (i, p.summary()))
            if (ip.src, ip.dst) != (env["BENCH_WAN_IP"], env["BENCH_PEER_IP"]):
                fail("output packet %d has outer %s -> %s" % (i, ip.src, ip.dst))
            if p[Ether].dst.lower() != env["BENCH_WAN_NH_MAC"].lower():
                fail("output packet %d goes to MAC %s, not the next hop %s" %
                     (i, p[Ether].dst, env["BENCH_WAN_NH_MAC"]))
            try:
                inner = sa.decrypt(ip)
            except Exception as e:  # scapy raises several kinds on a bad ICV
                fail("output packet %d does not decrypt: %s" % (i, e))
            got.append(key(inner))
    else:
        sa = peer_sa(env, alg)
        expect = {key(sa.decrypt(p[IP])) for p in rdpcap(inp)}
        for i, p in enumerate(out):
            if p[Ether].dst.lower() != env["BENCH_LAN_NH_MAC"].lower():
                fail("output packet %d goes to MAC %s, not the next hop %s" %
                     (i, p[Ether].dst, env["BENCH_LAN_NH_MAC"]))
            got.append(key(p[IP]))
    bad = [i for i, k in enumerate(got) if k not in expect]
    if bad:
        fail("%d of %d output packets match no input packet (first: %d)" %
             (len(bad), len(got), bad[0]))
    print("ok %d packets" % len(got))


if __name__ == "__main__":
    main()
