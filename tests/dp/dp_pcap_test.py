#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pcap in -> pcap out through the real vpngw daemon (net_pcap ports).

Scapy writes the input: plain LAN traffic for two static SAs (AES-GCM on
plain ESP; AES-CBC + HMAC-SHA1 on ESP-in-UDP), ESP made with the inbound
keys by scapy's own SecurityAssociation, and bad ESP (replayed, truncated,
unknown SPI, bad ICV, inner source outside the selectors), ARP and ICMP
echo for the gateway. Checks: tshark decrypts our ESP with the outbound
keys to the packets sent (inner TTL one less: the gateway is one hop);
the known-good ESP comes out decrypted on the LAN port; each bad packet
is counted under its drop reason (read over the control socket); ARP and
echo are answered. Then the same with two workers: traffic of the SA that
worker 1 owns arrives on worker 0's queue and is handed over.

usage: dp_pcap_test.py VPNGW TSHARK
"""
import os
import sys
import tempfile

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

from dptest import (Daemon, check, empty_pcap, faults, free_port, metrics, read_pcaps,
                    run_tshark, static_sa_yaml)

VPNGW, TSHARK = sys.argv[1], sys.argv[2]

WAN_MAC = "02:70:63:61:70:00"  # net_pcap MACs follow probe order (wan first)
LAN_MAC = "02:70:63:61:70:01"
GW_MAC = "52:54:00:00:00:fe"   # public gateway (static neighbour)
HOST_MAC = "52:54:00:00:00:05"  # LAN host 10.0.0.5 (static neighbour)
PEER_MAC = "52:54:00:00:00:99"
US, PEER, LAN_US, HOST = "203.0.113.1", "198.51.100.7", "10.0.0.1", "10.0.0.5"

SAS = {
    "lab-1": dict(encr="aes-gcm-128", integ="none", udp=False, remote="192.168.0.0/24",
                  out_spi=0x1000, in_spi=0x2000,
                  out_ek="00112233445566778899aabbccddeeff01020304",
                  in_ek="ffeeddccbbaa99887766554433221100a1a2a3a4",
                  out_ak="", in_ak=""),
    "lab-2": dict(encr="aes", integ="sha1", udp=True, remote="192.168.1.0/24",
                  out_spi=0x1001, in_spi=0x2003,
                  out_ek="0f0e0d0c0b0a09080706050403020100",
                  in_ek="101112131415161718191a1b1c1d1e1f",
                  out_ak="0102030405060708090a0b0c0d0e0f1011121314",
                  in_ak="2122232425262728292a2b2c2d2e2f3031323334"),
}

def config(d, workers):
    nq = workers + 1
    wan_tx = ",".join("tx_pcap=%s/wan_out%d.pcap" % (d, i) for i in range(nq))
    lan_tx = ",".join("tx_pcap=%s/lan_out%d.pcap" % (d, i) for i in range(nq))
    # Every RX queue a worker polls needs a file: the input on queue 0 only.
    wan_rx = ",".join(["rx_pcap=%s/wan_in.pcap" % d] +
                      ["rx_pcap=%s/empty.pcap" % d] * (workers - 1))
    lan_rx = ",".join(["rx_pcap=%s/lan_in.pcap" % d] +
                      ["rx_pcap=%s/empty.pcap" % d] * (workers - 1))
    sas = ""
    for name, s in SAS.items():
        sas += static_sa_yaml(name, PEER, "10.0.0.0/24", s["remote"], s["encr"], s["integ"],
                              s["udp"], s["out_spi"], s["out_ek"], s["out_ak"],
                              s["in_spi"], s["in_ek"], s["in_ak"])
    return """gateway:
  name: dp-test
  workers: auto
  poll_mode: adaptive
  control_socket: %s/vpngw.sock
  metrics_listen: 127.0.0.1:%d
  ports:
    - name: wan
      device: "net_pcap0,%s,%s"
      role: public
      address: %s/24
      gateway: 203.0.113.254
      neighbours: [{ip: 203.0.113.254, mac: "%s"}]
    - name: lan
      device: "net_pcap1,%s,%s"
      role: private
      address: %s/24
      neighbours: [{ip: %s, mac: "%s"}]
      routes: [{to: %s, via: %s}]
  bypass: [{local: 10.0.0.0/24, remote: %s}]
static_sas:
%s""" % (d, METRICS_PORT, wan_rx, wan_tx, US, GW_MAC, lan_rx, lan_tx, LAN_US, HOST, HOST_MAC,
         BYPASS_NET, HOST, BYPASS_NET, sas)


METRICS_PORT = free_port()
# gateway.bypass: plain between the LAN and this network behind the LAN host.
BYPASS_NET, BYPASS_DST = "10.9.0.0/24", "10.9.0.7"


def scapy_sa(s, out):
    """scapy's SA for our inbound (out=False) or outbound (out=True) keys."""
    ek = bytes.fromhex(s["out_ek" if out else "in_ek"])
    ak = s["out_ak" if out else "in_ak"]
    kw = dict(spi=s["out_spi" if out else "in_spi"],
              crypt_algo="AES-GCM" if s["encr"] == "aes-gcm-128" else "AES-CBC",
              crypt_key=ek,
              tunnel_header=IP(src=US, dst=PEER) if out else IP(src=PEER, dst=US))
    if ak:
        kw.update(auth_algo="HMAC-SHA1-96", auth_key=bytes.fromhex(ak))
    if s["udp"]:
        kw["nat_t_header"] = UDP(sport=4500, dport=4500)
    return SecurityAssociation(ESP, **kw)


def inner(src, dst, i, ttl=64):
    return IP(src=src, dst=dst, ttl=ttl, id=i) / UDP(sport=40000 + i, dport=7000) / \
        Raw(b"vpngw-dp-%04d" % i + b"x" * (i % 50))


def bypass_packet():
    return IP(src=HOST, dst=BYPASS_DST, ttl=64, id=98) / UDP(sport=40098, dport=7001) / \
        Raw(b"vpngw-dp-bypass")


def wan_frame(ip):
    if UDP in ip:
        # scapy's nat_t_header leaves UDP length 8: rebuild it over the ESP payload.
        raw = bytes(ip)
        ip = IP(raw)
        ip[UDP].len = len(raw) - 20
        ip[UDP].chksum = 0
        ip = IP(bytes(ip))
    return Ether(src=GW_MAC, dst=WAN_MAC) / ip


def make_inputs(d):
    lan, wan = [], []
    sent_out = {"lab-1": [], "lab-2": []}
    # LAN -> tunnel: 6 packets per SA.
    for i in range(12):
        name = "lab-1" if i % 2 == 0 else "lab-2"
        dst = "192.168.0.%d" % (10 + i) if name == "lab-1" else "192.168.1.%d" % (10 + i)
        p = inner(HOST, dst, i)
        sent_out[name].append(bytes(p))
        lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / p)
    # gateway.bypass: forwarded in the clear, back out of the LAN port.
    lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / bypass_packet())
    # No policy for 172.16/12: dropped, never sent in clear.
    lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / inner(HOST, "172.16.0.1", 99))
    # ARP for our LAN address, ICMP echo to it.
    lan.append(Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") /
               ARP(op=1, hwsrc=HOST_MAC, psrc=HOST, pdst=LAN_US))
    lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / IP(src=HOST, dst=LAN_US) /
               ICMP(type=8, id=7, seq=1) / Raw(b"ping-vpngw"))

    # Tunnel -> LAN: known good ESP made by scapy with our inbound keys.
    good_in = []
    s1, s2 = scapy_sa(SAS["lab-1"], False), scapy_sa(SAS["lab-2"], False)
    esp1 = []
    for seq in range(1, 6):
        p = inner("192.168.0.%d" % (20 + seq), HOST, 100 + seq)
        good_in.append(bytes(p))
        e = s1.encrypt(p, seq_num=seq)
        esp1.append(e)
        wan.append(wan_frame(e))
    for seq in range(1, 4):
        p = inner("192.168.1.%d" % (20 + seq), HOST, 200 + seq)
        good_in.append(bytes(p))
        wan.append(wan_frame(s2.encrypt(p, seq_num=seq)))
    bad = {}
    # Replay: sequence 3 again.
    wan.append(wan_frame(IP(bytes(esp1[2]))))
    bad["replay"] = 1
    # Truncated: ESP header and a few bytes only.
    raw = bytes(esp1[0])
    t = IP(raw[:20 + 8 + 4])
    t.len = None
    t.chksum = None
    wan.append(wan_frame(IP(bytes(t))))
    bad["truncated"] = 1
    # Unknown SPI.
    other = dict(SAS["lab-1"], in_spi=0x7777)
    wan.append(wan_frame(scapy_sa(other, False).encrypt(inner("192.168.0.9", HOST, 300),
                                                         seq_num=1)))
    bad["unknown_spi"] = 1
    # Bad ICV: last byte flipped.
    b = bytearray(bytes(s1.encrypt(inner("192.168.0.9", HOST, 301), seq_num=6)))
    b[-1] ^= 0x55
    wan.append(wan_frame(IP(bytes(b))))
    bad["bad_icv"] = 1
    # Inner source outside the SA's remote subnets (peer NATs before encrypting).
    wan.append(wan_frame(s1.encrypt(inner("172.16.9.9", HOST, 302), seq_num=7)))
    bad["peer_source_nat"] = 1
    wrpcap(os.path.join(d, "lan_in.pcap"), lan)
    wrpcap(os.path.join(d, "wan_in.pcap"), wan)
    empty_pcap(os.path.join(d, "empty.pcap"))
    return sent_out, good_in, bad, len(lan) + len(wan)


def run_daemon(d, workers, expect_rx):
    dm = Daemon(VPNGW, config(d, workers), os.path.join(d, "vpngw.sock"),
                os.path.join(d, "vpngw"), "vpngw-dp-%d-%d" % (os.getpid(), workers), workers)
    try:
        dm.wait_api()
        stats, last = dm.wait_rx(expect_rx)
        check(last == expect_rx, "%d workers: daemon received %d of %d packets" %
              (workers, last, expect_rx))
        sas = dm.api("sa")
        text = metrics(METRICS_PORT)
        check('vpngw_drops_total{reason="replay"} 1' in text and
              'vpngw_sa_packets_total{connection="lab-1",spi="0x00001000",direction="out"} 6'
              in text, "/metrics lacks drop or SA series:\n" + text[:2000])
        rate = dm.api("rate", {"mbps": 100})
        check(rate.get("mbps") == 100, "rate command answered %r" % rate)
    finally:
        rc = dm.stop()
    check(rc == 0, "%d workers: exit status %s after SIGTERM" % (workers, rc))
    print(dm.read_log())
    out = {side: read_pcaps(d, side, workers + 1) for side in ("wan", "lan")}
    return stats, sas, out


def tshark_decrypt(d, pkts):
    """Frames of our ESP as tshark decrypts them with the outbound keys."""
    pcap = os.path.join(d, "wan_esp.pcap")
    wrpcap(pcap, pkts)
    cmd = [TSHARK, "-n", "-r", pcap, "-d", "udp.port==7000,data",
           "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE"]
    names = {"aes-gcm-128": "AES-GCM with 16 octet ICV [RFC4106]", "aes": "AES-CBC [RFC3602]"}
    integ = {"none": "NULL", "sha1": "HMAC-SHA-1-96 [RFC2404]"}
    for s in SAS.values():
        ak = "0x" + s["out_ak"] if s["out_ak"] else ""
        cmd += ["-o", 'uat:esp_sa:"IPv4","%s","%s","0x%08x","%s","0x%s","%s","%s"' % (
            US, PEER, s["out_spi"], names[s["encr"]], s["out_ek"], integ[s["integ"]], ak)]
    fields = ["esp.spi", "esp.sequence", "esp.icv_good", "ip.src", "ip.dst", "ip.ttl",
              "data.data", "udp.dstport"]
    cmd += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    res = run_tshark(cmd)
    if res.returncode != 0:
        raise SystemExit("tshark failed: " + res.stderr)
    return [dict(zip(fields, line.split("|"))) for line in res.stdout.splitlines()]


def check_outbound(d, tag, out, sent_out):
    esp = [p for p in out["wan"] if IP in p and (p[IP].proto == 50 or
                                                 (UDP in p and p[UDP].dport == 4500))]
    check(len(esp) == 12, "%s: %d ESP packets on wan, expected 12" % (tag, len(esp)))
    for p in esp:
        check(p[Ether].dst == GW_MAC and p[Ether].src == WAN_MAC,
              "%s: ESP frame MACs %s -> %s" % (tag, p[Ether].src, p[Ether].dst))
        check(p[IP].src == US and p[IP].dst == PEER, "%s: outer %s -> %s" %
              (tag, p[IP].src, p[IP].dst))
    rows = tshark_decrypt(d, esp)
    got = {0x1000: [], 0x1001: []}
    for r in rows:
        spi = int(r["esp.spi"], 16) if r["esp.spi"] else None
        check(spi in got, "%s: tshark saw SPI %s" % (tag, r["esp.spi"]))
        check(r["esp.icv_good"] in ("1", "True"), "%s: tshark ICV not good: %r" % (tag, r))
        src = r["ip.src"].split(",")
        dst = r["ip.dst"].split(",")
        ttl = r["ip.ttl"].split(",")
        check(len(src) == 2, "%s: tshark did not decrypt (%r)" % (tag, r))
        if len(src) == 2 and spi in got:
            got[spi].append((src[1], dst[1], int(ttl[1]), bytes.fromhex(r["data.data"])))
    for name, spi in (("lab-1", 0x1000), ("lab-2", 0x1001)):
        want = []
        for raw in sent_out[name]:
            p = IP(raw)
            want.append((p.src, p.dst, p.ttl - 1, bytes(p[Raw].load)))
        check(sorted(got[spi]) == sorted(want),
              "%s: %s inner packets after tshark decryption differ:\n got %r\nwant %r" %
              (tag, name, got[spi], want))


def check_inbound(tag, out, good_in):
    lan_ip = [p for p in out["lan"] if IP in p and UDP in p and p[UDP].dport == 7000]
    got = sorted((p[IP].src, p[IP].dst, p[IP].ttl, bytes(p[Raw].load)) for p in lan_ip)
    want = sorted((IP(r).src, IP(r).dst, IP(r).ttl - 1, bytes(IP(r)[Raw].load))
                  for r in good_in)
    check(got == want, "%s: decrypted packets on lan differ:\n got %r\nwant %r" %
          (tag, got, want))
    for p in lan_ip:
        check(p[Ether].dst == HOST_MAC and p[Ether].src == LAN_MAC,
              "%s: lan frame MACs %s -> %s" % (tag, p[Ether].src, p[Ether].dst))
    for p in lan_ip:
        check(p[IP].chksum == IP(bytes(p[IP]))[IP].chksum and
              IP(bytes(p[IP])).__class__(bytes(p[IP])).chksum is not None,
              "%s: checksum" % tag)
        q = IP(bytes(p[IP]))
        q.chksum = None
        check(IP(bytes(q)).chksum == p[IP].chksum, "%s: inner IPv4 checksum wrong" % tag)


def main():
    with tempfile.TemporaryDirectory(prefix="vpngw-dp-") as d:
        sent_out, good_in, bad, n_in = make_inputs(d)

        # One worker: everything.
        stats, sas, out = run_daemon(d, 1, n_in)
        check_outbound(d, "1 worker", out, sent_out)
        check_inbound("1 worker", out, good_in)
        drops = stats["drops"]
        print("drops:", {k: v for k, v in drops.items() if v})
        for reason, n in bad.items():
            check(drops.get(reason) == n, "1 worker: drop %s = %s, expected %d" %
                  (reason, drops.get(reason), n))
        check(drops.get("no_policy") == 1, "no_policy = %s" % drops.get("no_policy"))
        by = {(s["name"], s["direction"]): s for s in sas["sas"]}
        check(by[("lab-1", "in")]["drops"].get("peer_source_nat") == 1,
              "per-SA peer_source_nat: %r" % by[("lab-1", "in")])
        check(by[("lab-1", "in")]["drops"].get("replay") == 1, "per-SA replay")
        check(by[("lab-1", "in")]["packets"] == 6, "lab-1 in packets %d (5 good + nat)" %
              by[("lab-1", "in")]["packets"])
        check(by[("lab-2", "out")]["packets"] == 6, "lab-2 out packets")
        arp = [p for p in out["lan"] if ARP in p and p[ARP].op == 2]
        check(len(arp) == 1 and arp[0][ARP].psrc == LAN_US and arp[0][ARP].hwsrc == LAN_MAC
              and arp[0][ARP].pdst == HOST, "ARP reply: %r" % arp)
        echo = [p for p in out["lan"] if ICMP in p and p[ICMP].type == 0]
        check(len(echo) == 1 and echo[0][IP].src == LAN_US and echo[0][IP].dst == HOST and
              bytes(echo[0][ICMP].payload) == b"ping-vpngw", "ICMP echo reply: %r" % echo)
        plain = [p for p in out["wan"] if IP in p and p[IP].proto not in (50, 17)]
        check(not plain, "plain traffic on the public port: %r" % plain)
        byp = [p for p in out["lan"] if IP in p and p[IP].dst == BYPASS_DST]
        check(len(byp) == 1 and byp[0].dst == HOST_MAC and byp[0][IP].src == HOST and
              byp[0][IP].ttl == 63 and bytes(byp[0][Raw].load) == b"vpngw-dp-bypass" and
              IP(bytes(byp[0][IP])).chksum == byp[0][IP].chksum,
              "gateway.bypass: forwarded in the clear to the LAN next hop: %r" % byp)

        # Two workers: lab-2 (in SPI 0x2003) belongs to worker 1, all input on worker 0.
        for f in os.listdir(d):
            if "_out" in f:
                os.unlink(os.path.join(d, f))
        stats, sas, out = run_daemon(d, 2, n_in)
        check_outbound(d, "2 workers", out, sent_out)
        check_inbound("2 workers", out, good_in)
        w = stats["workers"]
        check(len(w) == 2, "2 workers: %d in stats" % len(w))
        # 6 lab-2 packets out, 3 lab-2 ESP in and the unknown SPI 0x7777 (odd: worker 1)
        # are handed from worker 0 to worker 1.
        check(w[0]["handoff_out"] == 10 and w[1]["handoff_in"] == 10,
              "handoff counters %r" % [(x["handoff_out"], x["handoff_in"]) for x in w])
        check(stats["drops"].get("unknown_spi") == 1, "2 workers: unknown_spi")
        check(w[1]["encrypted"] == 6 and w[1]["decrypted"] == 3,
              "worker 1 encrypted %d decrypted %d" % (w[1]["encrypted"], w[1]["decrypted"]))
    if faults:
        print("%d fault(s)" % len(faults))
        sys.exit(1)
    print("dp pcap test: all checks passed")


main()
