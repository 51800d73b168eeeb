#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The daemon's L3 paths, pcap in -> pcap out (net_pcap ports), 1 and 2 workers.

Four ports: public IPv4 (MTU 1400), public IPv6 (MTU 1400), private IPv4,
private IPv6; four static SAs, one per inner/outer family pair. Checks:
- IPv6 inner and IPv6 outer, both directions: our ESP decrypted by tshark
  (CBC+SHA1, ICV checked) or scapy (GCM, tag checked) to what was sent;
  known-good ESP from scapy comes out decrypted on the right private port.
- MTU: an IPv4 DF packet of exactly the tunnel's inner MTU passes and its
  ESP fits 1400 bytes; one byte more gets ICMP fragmentation-needed whose
  MTU is that inner MTU; the same for IPv6 with ICMPv6 packet-too-big; a
  3000-byte IPv4 packet without DF leaves as several ESP packets, each
  within 1400 bytes, whose inner fragments reassemble to the original.
- TCP SYNs with MSS 1460 (IPv4 and IPv6) leave clamped to inner MTU - 40
  (- 60 for IPv6) with a valid TCP checksum.
- 2 workers: every SA's packets counted on its owner worker, handoffs.
- bandwidth_mbps: 1 with a looping input (infinite_rx): rate_limited drops
  grow; the API "rate" set to 0 stops them and lets traffic through; set
  back to 1, they grow again.

usage: dp_paths_test.py VPNGW TSHARK
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import ICMP, IP, TCP, UDP, Ether, IPv6, Raw, wrpcap, ICMPv6PacketTooBig
from scapy.layers.ipsec import ESP, SecurityAssociation

import dptest
from dptest import (check, empty_pcap, faults, free_port, metrics, read_pcaps, run_tshark,
                    static_sa_yaml)

VPNGW, TSHARK = sys.argv[1], sys.argv[2]

MAC = ["02:70:63:61:70:%02x" % i for i in range(4)]  # net_pcap MACs in probe order
WAN, WAN6, LAN, LAN6 = 0, 1, 2, 3
GW_MAC, GW6_MAC = "52:54:00:00:00:fe", "52:54:00:00:00:fd"
HOST_MAC, HOST6_MAC = "52:54:00:00:00:05", "52:54:00:00:00:06"
US, PEER = "203.0.113.1", "198.51.100.7"
US6, PEER6 = "2001:db8:1::1", "2001:db8:2::7"
LAN_US, HOST = "10.0.0.1", "10.0.0.5"
LAN6_US, HOST6 = "fd00:1::1", "fd00:1::5"
WAN_MTU = 1400

KEY_GCM = "00112233445566778899aabbccddeeff01020304"
KEY_CBC = "0f0e0d0c0b0a09080706050403020100"
AUTH = "0102030405060708090a0b0c0d0e0f1011121314"

# name: inner family, outer family, algorithms, selectors. In SPIs pick the
# owner with 2 workers (spi % 2).
SAS = {
    "v4v4": dict(inner=4, outer=4, gcm=True, udp=False, local="10.0.0.0/24",
                 remote="192.168.0.0/24", out_spi=0x1000, in_spi=0x2000),
    "v6v4": dict(inner=6, outer=4, gcm=False, udp=False, local="fd00:1::/64",
                 remote="fd00:2::/64", out_spi=0x1100, in_spi=0x2101),
    "v4v6": dict(inner=4, outer=6, gcm=True, udp=False, local="10.0.0.0/24",
                 remote="192.168.6.0/24", out_spi=0x1200, in_spi=0x2200),
    "v6v6": dict(inner=6, outer=6, gcm=False, udp=True, local="fd00:1::/64",
                 remote="fd00:3::/64", out_spi=0x1300, in_spi=0x2301),
}

def inner_mtu(s):
    """Largest inner packet whose ESP fits WAN_MTU (RFC 4303 padding)."""
    head = (20 if s["outer"] == 4 else 40) + (8 if s["udp"] else 0) + 8 + (8 if s["gcm"] else 16)
    icv, align = (16, 4) if s["gcm"] else (12, 16)
    return ((WAN_MTU - head - icv) & ~(align - 1)) - 2


def config(d, workers, metrics_port, rate=0, ports=None):
    nq = workers + 1

    def pcap_dev(i, name):
        tx = ",".join("tx_pcap=%s/%s_out%d.pcap" % (d, name, q) for q in range(nq))
        rx = ",".join(["rx_pcap=%s/%s_in.pcap" % (d, name)] +
                      ["rx_pcap=%s/empty.pcap" % d] * (workers - 1))
        return "net_pcap%d,%s,%s" % (i, rx, tx)

    ports = ports or [pcap_dev(i, n) for i, n in enumerate(("wan", "wan6", "lan", "lan6"))]
    sas = ""
    for name, s in SAS.items():
        key = KEY_GCM if s["gcm"] else KEY_CBC
        ak = "" if s["gcm"] else AUTH
        sas += static_sa_yaml(name, PEER if s["outer"] == 4 else PEER6, s["local"], s["remote"],
                              "aes-gcm-128" if s["gcm"] else "aes",
                              "none" if s["gcm"] else "sha1", s["udp"],
                              s["out_spi"], key, ak, s["in_spi"], key, ak)
    return """gateway:
  name: dp-paths
  workers: auto
  poll_mode: adaptive
  bandwidth_mbps: %d
  control_socket: %s/vpngw.sock
  metrics_listen: 127.0.0.1:%d
  ports:
    - name: wan
      device: "%s"
      role: public
      address: %s/24
      gateway: 203.0.113.254
      mtu: %d
      neighbours: [{ip: 203.0.113.254, mac: "%s"}]
    - name: wan6
      device: "%s"
      role: public
      address: %s/64
      gateway: 2001:db8:1::fe
      mtu: %d
      neighbours: [{ip: "2001:db8:1::fe", mac: "%s"}]
    - name: lan
      device: "%s"
      role: private
      address: %s/24
      mtu: 3000
      neighbours: [{ip: %s, mac: "%s"}]
    - name: lan6
      device: "%s"
      role: private
      address: %s/64
      neighbours: [{ip: "%s", mac: "%s"}]
static_sas:
%s""" % (rate, d, metrics_port, ports[0], US, WAN_MTU, GW_MAC, ports[1], US6, WAN_MTU, GW6_MAC,
         ports[2], LAN_US, HOST, HOST_MAC, ports[3], LAN6_US, HOST6, HOST6_MAC, sas)


def scapy_sa(s, out):
    """scapy's SA for our outbound (out=True: decrypts what we send) or inbound keys."""
    us, peer = (US, PEER) if s["outer"] == 4 else (US6, PEER6)
    outer = IP if s["outer"] == 4 else IPv6
    kw = dict(spi=s["out_spi"] if out else s["in_spi"],
              crypt_algo="AES-GCM" if s["gcm"] else "AES-CBC",
              crypt_key=bytes.fromhex(KEY_GCM if s["gcm"] else KEY_CBC),
              tunnel_header=outer(src=us, dst=peer) if out else outer(src=peer, dst=us))
    if not s["gcm"]:
        kw.update(auth_algo="HMAC-SHA1-96", auth_key=bytes.fromhex(AUTH))
    if s["udp"]:
        kw["nat_t_header"] = UDP(sport=4500, dport=4500)
    return SecurityAssociation(ESP, **kw)


def udp_pkt(fam, src, dst, tag, size=None, df=False):
    """An inner packet of total length size (or small), payload tagged."""
    hdr = 20 + 8 if fam == 4 else 40 + 8
    load = b"vpngw-paths-%s-" % tag.encode()
    if size:
        load += bytes((i * 7) & 0xff for i in range(size - hdr - len(load)))
    if fam == 4:
        return IP(src=src, dst=dst, ttl=64, flags="DF" if df else 0, id=0x4242) / \
            UDP(sport=41000, dport=7000) / Raw(load)
    return IPv6(src=src, dst=dst, hlim=64) / UDP(sport=41000, dport=7000) / Raw(load)


def syn(fam, src, dst):
    ip = IP(src=src, dst=dst, ttl=64) if fam == 4 else IPv6(src=src, dst=dst, hlim=64)
    return ip / TCP(sport=42000, dport=80, flags="S", seq=1000,
                    options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)])


def fix_udp_encap(ip):
    """scapy's nat_t_header leaves UDP length 8: rebuild it over the ESP payload."""
    if UDP not in ip:
        return ip
    cls = ip.__class__
    raw = bytes(ip)
    ip = cls(raw)
    hl = 20 if cls is IP else 40
    ip[UDP].len = len(raw) - hl
    ip[UDP].chksum = 0
    return cls(bytes(ip))


def make_inputs(d):
    lan, lan6, wan, wan6 = [], [], [], []
    exp = dict(out={n: [] for n in SAS}, lan=[], lan6=[])
    dsts = {"v4v4": "192.168.0.10", "v6v4": "fd00:2::10", "v4v6": "192.168.6.10",
            "v6v6": "fd00:3::10"}
    # Small packets through every SA, both directions.
    for name, s in SAS.items():
        for i in range(2):
            p = udp_pkt(s["inner"], HOST if s["inner"] == 4 else HOST6, dsts[name],
                        "%s-out%d" % (name, i))
            exp["out"][name].append(bytes(p))
            (lan if s["inner"] == 4 else lan6).append(
                Ether(src=HOST_MAC if s["inner"] == 4 else HOST6_MAC,
                      dst=MAC[LAN if s["inner"] == 4 else LAN6]) / p)
        src = dsts[name].replace("10", "20")
        p = udp_pkt(s["inner"], src, HOST if s["inner"] == 4 else HOST6, "%s-in" % name)
        exp["lan" if s["inner"] == 4 else "lan6"].append(bytes(p))
        e = fix_udp_encap(scapy_sa(s, False).encrypt(p, seq_num=1))
        if s["outer"] == 4:
            wan.append(Ether(src=GW_MAC, dst=MAC[WAN]) / e)
        else:
            wan6.append(Ether(src=GW6_MAC, dst=MAC[WAN6]) / e)

    v4, v6 = SAS["v4v4"], SAS["v6v4"]
    m4, m6 = inner_mtu(v4), inner_mtu(v6)
    # DF at exactly the inner MTU: passes. One byte more: fragmentation needed.
    p = udp_pkt(4, HOST, "192.168.0.11", "fit", size=m4, df=True)
    exp["out"]["v4v4"].append(bytes(p))
    lan.append(Ether(src=HOST_MAC, dst=MAC[LAN]) / p)
    big_df = udp_pkt(4, HOST, "192.168.0.12", "df", size=m4 + 1, df=True)
    lan.append(Ether(src=HOST_MAC, dst=MAC[LAN]) / big_df)
    # IPv6: the same with packet too big.
    p = udp_pkt(6, HOST6, "fd00:2::11", "fit6", size=m6)
    exp["out"]["v6v4"].append(bytes(p))
    lan6.append(Ether(src=HOST6_MAC, dst=MAC[LAN6]) / p)
    big6 = udp_pkt(6, HOST6, "fd00:2::12", "big6", size=m6 + 1)
    lan6.append(Ether(src=HOST6_MAC, dst=MAC[LAN6]) / big6)
    # No DF: fragmented before encryption (the LAN port takes jumbo frames).
    frag = udp_pkt(4, HOST, "192.168.0.13", "frag", size=3000)
    lan.append(Ether(src=HOST_MAC, dst=MAC[LAN]) / frag)
    # SYNs with MSS 1460.
    syn4, syn6 = syn(4, HOST, "192.168.0.14"), syn(6, HOST6, "fd00:3::14")
    lan.append(Ether(src=HOST_MAC, dst=MAC[LAN]) / syn4)
    lan6.append(Ether(src=HOST6_MAC, dst=MAC[LAN6]) / syn6)
    for name, pk in (("wan", wan), ("wan6", wan6), ("lan", lan), ("lan6", lan6)):
        wrpcap(os.path.join(d, name + "_in.pcap"), pk)
    empty_pcap(os.path.join(d, "empty.pcap"))
    exp.update(big_df=big_df, big6=big6, frag=frag, syn4=syn4, syn6=syn6, m4=m4, m6=m6,
               n_in=len(lan) + len(lan6) + len(wan) + len(wan6))
    return exp


class Daemon(dptest.Daemon):
    def __init__(self, d, workers, tag, **kw):
        self.metrics_port = free_port()
        super().__init__(VPNGW, config(d, workers, self.metrics_port, **kw),
                         os.path.join(d, "vpngw.sock"), os.path.join(d, "vpngw-%s" % tag),
                         "vpngw-paths-%d-%s" % (os.getpid(), tag), workers)


def tshark_cbc(d, tag, pkts):
    """tshark decrypts our CBC+SHA1 ESP (v6v4; v6v6 is ESP-in-UDP, which tshark
    does not take from the command line here): inner addresses and ICV."""
    pcap = os.path.join(d, "esp-%s.pcap" % tag)
    wrpcap(pcap, pkts)
    s = SAS["v6v4"]
    cmd = [TSHARK, "-n", "-r", pcap, "-d", "udp.port==7000,data",
           "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE",
           "-o", 'uat:esp_sa:"IPv4","%s","%s","0x%08x","AES-CBC [RFC3602]","0x%s",'
                 '"HMAC-SHA-1-96 [RFC2404]","0x%s"' % (US, PEER, s["out_spi"], KEY_CBC, AUTH),
           "-T", "fields", "-E", "separator=|", "-e", "esp.spi", "-e", "esp.icv_good",
           "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "data.data"]
    res = run_tshark(cmd)
    check(res.returncode == 0, "%s: tshark runs (%s)" % (tag, res.stderr[-300:]))
    return [line.split("|") for line in res.stdout.splitlines()]


def esp_of(pkts, s):
    """Our ESP packets of SA s on a public port's output."""
    outer = IP if s["outer"] == 4 else IPv6
    res = []
    for p in pkts:
        if outer not in p:
            continue
        ip = p[outer]
        raw = bytes(ip.payload)
        if UDP in ip and ip[UDP].dport == 4500:
            raw = raw[8:]
        elif (ip.proto if outer is IP else ip.nh) != 50:
            continue
        if int.from_bytes(raw[:4], "big") == s["out_spi"]:
            res.append(ip)
    return res


def decrypt(s, ip):
    """Our ESP decrypted by scapy (checks the ICV / GCM tag); None if it fails."""
    try:
        return scapy_sa(s, True).decrypt(ip.copy())  # scapy strips the packet it decrypts
    except Exception as e:  # noqa: BLE001 - a failed check, reported by the caller
        print("decrypt failed:", e)
        return None


def check_paths(d, tag, workers, exp, stats, sas):
    wan, wan6 = read_pcaps(d, "wan", workers + 1), read_pcaps(d, "wan6", workers + 1)
    lan, lan6 = read_pcaps(d, "lan", workers + 1), read_pcaps(d, "lan6", workers + 1)
    for p in wan + wan6:
        check(p[Ether].src == MAC[WAN if IP in p else WAN6] and
              p[Ether].dst == (GW_MAC if IP in p else GW6_MAC),
              "%s: public frame MACs %s -> %s" % (tag, p[Ether].src, p[Ether].dst))
        check(len(p) - 14 <= WAN_MTU, "%s: ESP of %d bytes exceeds MTU %d" %
              (tag, len(p) - 14, WAN_MTU))
    plain = [p for p in wan if p[IP].proto not in (50, 17)] + \
        [p for p in wan6 if p[IPv6].nh not in (50, 17)]
    check(not plain, "%s: no plain traffic on public ports (%r)" % (tag, plain))

    frag_parts, syn_out = [], {}
    for name, s in SAS.items():
        esp = esp_of(wan if s["outer"] == 4 else wan6, s)
        inner = []
        for e in esp:
            q = decrypt(s, e)
            check(q is not None, "%s: %s: our ESP decrypts with the SA keys" % (tag, name))
            if q is not None:
                inner.append(q)
        want = sorted(exp["out"][name])
        got = []
        for q in inner:
            if TCP in q:
                syn_out[name] = q
            elif IP in q and (q[IP].flags.MF or q[IP].frag > 0):
                frag_parts.append(q)
            else:
                # The gateway is one hop: TTL / hop limit one less, header otherwise as sent.
                b = bytearray(bytes(q))
                if s["inner"] == 4:
                    x = IP(bytes(q))
                    x.chksum = None
                    check(IP(bytes(x)).chksum == q[IP].chksum, "%s: %s inner IPv4 checksum" %
                          (tag, name))
                    b[8] += 1
                else:
                    b[7] += 1
                got.append(bytes(b))
        # Compare without the IPv4 header checksum (checked above).
        norm = (lambda raw: raw[:10] + raw[12:]) if s["inner"] == 4 else (lambda raw: raw)
        check(sorted(norm(g) for g in got) == sorted(norm(w) for w in want),
              "%s: %s: %d inner packets after decryption as sent (got %d)" %
              (tag, name, len(want), len(got)))

    # Fragmented before encryption: N ESP packets, the inner fragments reassemble.
    frag = exp["frag"]
    frag_parts.sort(key=lambda q: q[IP].frag)
    check(len(frag_parts) >= 3, "%s: 3000-byte non-DF packet left as %d ESP fragments" %
          (tag, len(frag_parts)))
    data, off, ok = b"", 0, True
    for q in frag_parts:
        ok &= q[IP].frag * 8 == off and q[IP].id == frag[IP].id and q[IP].ttl == 63
        ok &= len(q[IP]) <= exp["m4"]
        pl = bytes(q[IP].payload)[:q[IP].len - q[IP].ihl * 4]
        data += pl
        off += len(pl)
    ok &= bool(frag_parts) and not frag_parts[-1][IP].flags.MF and \
        all(q[IP].flags.MF for q in frag_parts[:-1])
    check(ok and data == bytes(frag[IP].payload),
          "%s: fragments (offsets, MF, id, size <= %d) reassemble to the original" %
          (tag, exp["m4"]))

    # MSS clamped to what fits the tunnel, checksum still right.
    for name, s, orig in (("v4v4", SAS["v4v4"], exp["syn4"]), ("v6v6", SAS["v6v6"], exp["syn6"])):
        q = syn_out.get(name)
        want = inner_mtu(s) - (40 if s["inner"] == 4 else 60)
        mss = dict(q[TCP].options).get("MSS") if q is not None else None
        check(mss == want, "%s: %s SYN MSS 1460 clamped to %s (want %d)" % (tag, name, mss, want))
        if q is not None:
            ip = (IP if s["inner"] == 4 else IPv6)(bytes(q))
            ip[TCP].chksum = None
            check(ip.__class__(bytes(ip))[TCP].chksum == q[TCP].chksum,
                  "%s: %s clamped SYN has a valid TCP checksum" % (tag, name))

    # tshark's view of the CBC SA with IPv6 inner: ICV good, addresses.
    rows = tshark_cbc(d, tag, [Ether() / e for e in esp_of(wan, SAS["v6v4"])])
    check(len(rows) == 3 and all(r[1] in ("1", "True") and r[2] == HOST6 for r in rows),
          "%s: tshark decrypts v6v4 (IPv6 in IPv4) with a good ICV: %r" % (tag, rows))

    # Inbound: decrypted on the private port of the inner family.
    for side, pkts, fam in (("lan", lan, 4), ("lan6", lan6, 6)):
        got = []
        for p in pkts:
            ip = p[IP] if fam == 4 and IP in p else (p[IPv6] if fam == 6 and IPv6 in p else None)
            if ip is None or UDP not in ip or ip[UDP].dport != 7000:
                continue
            check(p[Ether].dst == (HOST_MAC if fam == 4 else HOST6_MAC),
                  "%s: %s frame to the host's MAC" % (tag, side))
            got.append((ip.src, ip.dst, ip.ttl if fam == 4 else ip.hlim, bytes(ip[Raw].load)))
        want = [((IP if fam == 4 else IPv6)(r)) for r in exp[side]]
        want = [(w.src, w.dst, (w.ttl if fam == 4 else w.hlim) - 1, bytes(w[Raw].load))
                for w in want]
        check(sorted(got) == sorted(want), "%s: decrypted on %s: got %r want %r" %
              (tag, side, got, want))

    # ICMP errors on the private ports.
    icmp = [p for p in lan if ICMP in p and p[ICMP].type == 3]
    big = exp["big_df"]
    check(len(icmp) == 1 and icmp[0][IP].src == LAN_US and icmp[0][IP].dst == HOST and
          icmp[0][ICMP].code == 4 and icmp[0][ICMP].nexthopmtu == exp["m4"] and
          bytes(icmp[0][ICMP].payload)[:28] == bytes(big)[:28] and
          icmp[0][Ether].dst == HOST_MAC,
          "%s: DF packet of %d bytes -> ICMP frag needed, MTU %d: %r" %
          (tag, len(big), exp["m4"], [(p[ICMP].code, p[ICMP].nexthopmtu) for p in icmp]))
    ptb = [p for p in lan6 if ICMPv6PacketTooBig in p]
    big6 = exp["big6"]
    check(len(ptb) == 1 and ptb[0][IPv6].src == LAN6_US and ptb[0][IPv6].dst == HOST6 and
          ptb[0][ICMPv6PacketTooBig].mtu == exp["m6"] and
          bytes(ptb[0][ICMPv6PacketTooBig].payload)[:48] == bytes(big6)[:48],
          "%s: IPv6 packet of %d bytes -> packet too big, MTU %d: %r" %
          (tag, len(big6), exp["m6"], [p[ICMPv6PacketTooBig].mtu for p in ptb]))
    drops = stats["drops"]
    check(drops.get("mtu_exceeded") == 2, "%s: mtu_exceeded = %s" %
          (tag, drops.get("mtu_exceeded")))

    # Per SA and per worker: every SA counted on its owner.
    by = {(s["name"], s["direction"]): s for s in sas["sas"]}
    w = stats["workers"]
    for name, s in SAS.items():
        n_out = len(exp["out"][name]) + (1 if name in ("v4v4", "v6v6") else 0) + \
            (len(frag_parts) if name == "v4v4" else 0)
        check(by[(name, "out")]["packets"] == n_out and by[(name, "in")]["packets"] == 1,
              "%s: %s SA packets out %d (want %d) in %d (want 1)" %
              (tag, name, by[(name, "out")]["packets"], n_out, by[(name, "in")]["packets"]))
    if workers == 2:
        per = [0, 0]
        for name, s in SAS.items():
            per[s["in_spi"] % 2] += by[(name, "out")]["packets"]
        check([x["encrypted"] for x in w] == per,
              "%s: encrypted per worker %r, owners' share %r" %
              (tag, [x["encrypted"] for x in w], per))
        check([x["decrypted"] for x in w] == [2, 2], "%s: decrypted per worker %r" %
              (tag, [x["decrypted"] for x in w]))
        # Input all on worker 0's queues: what worker 1 owns is handed over, the
        # too-big IPv6 packet too (its owner refuses it).
        want = per[1] + 2 + 1
        check(w[0]["handoff_out"] == want and w[1]["handoff_in"] == want,
              "%s: handoffs %r (want %d)" % (tag, [(x["handoff_out"], x["handoff_in"]) for x in w],
                                            want))


def run_paths(d, workers, exp):
    tag = "%d worker%s" % (workers, "s" if workers > 1 else "")
    for f in os.listdir(d):
        if "_out" in f:
            os.unlink(os.path.join(d, f))
    dm = Daemon(d, workers, "paths%d" % workers)
    try:
        dm.wait_api()
        stats, rx = dm.wait_rx(exp["n_in"])
        check(rx == exp["n_in"], "%s: daemon received %d of %d packets" % (tag, rx, exp["n_in"]))
        sas = dm.api("sa")
    finally:
        rc = dm.stop()
    check(rc == 0, "%s: exit %s after SIGTERM" % (tag, rc))
    print("drops:", {k: v for k, v in stats["drops"].items() if v})
    check_paths(d, tag, workers, exp, stats, sas)


def run_rate(d):
    """bandwidth_mbps: 1 against an endless input; the API changes it live."""
    p = udp_pkt(4, HOST, "192.168.0.50", "rate", size=1300)
    # The only net_pcap port gets the first net_pcap MAC.
    wrpcap(os.path.join(d, "rate_in.pcap"), [Ether(src=HOST_MAC, dst=MAC[0]) / p] * 64)
    ports = ["net_null0,no-rx=1", "net_null1,no-rx=1",
             "net_pcap0,rx_pcap=%s/rate_in.pcap,infinite_rx=1,%s" % (
                 d, ",".join("tx_pcap=%s/rate_out%d.pcap" % (d, q) for q in range(2))),
             "net_null2,no-rx=1"]
    dm = Daemon(d, 1, "rate", rate=1, ports=ports)

    def sample():
        s = dm.api("stats")
        return s["drops"].get("rate_limited", 0), sum(w["encrypted"] for w in s["workers"])

    try:
        dm.wait_api()
        time.sleep(1.0)
        d0, e0 = sample()
        time.sleep(1.0)
        d1, e1 = sample()
        # 1 Mbit/s is ~95 packets of 1328 bytes a second, after a 32 KiB burst.
        check(d1 > d0 and e1 - e0 < 200,
              "rate 1 Mbit/s: rate_limited grows (%d -> %d), %d encrypted in 1 s" %
              (d0, d1, e1 - e0))
        check(dm.api("rate", {"mbps": 0}).get("mbps") == 0, "rate command sets 0")
        time.sleep(0.3)
        d2, e2 = sample()
        time.sleep(1.0)
        d3, e3 = sample()
        check(d3 == d2 and e3 - e2 > 2000,
              "rate unlimited: no rate_limited drops (%d -> %d), %d encrypted in 1 s" %
              (d2, d3, e3 - e2))
        check(dm.api("rate", {"mbps": 1}).get("mbps") == 1, "rate command sets 1")
        time.sleep(0.3)
        d4, e4 = sample()
        time.sleep(1.0)
        d5, e5 = sample()
        check(d5 > d4 and e5 - e4 < 200,
              "rate 1 Mbit/s again: rate_limited grows (%d -> %d), %d encrypted in 1 s" %
              (d4, d5, e5 - e4))
        text = metrics(dm.metrics_port)
        check('vpngw_drops_total{reason="rate_limited"}' in text,
              "/metrics carries rate_limited drops")
    finally:
        rc = dm.stop()
    check(rc == 0, "rate: exit %s after SIGTERM" % rc)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    with tempfile.TemporaryDirectory(prefix="vpngw-paths-") as d:
        exp = make_inputs(d)
        for workers in (1, 2):
            try:
                run_paths(d, workers, exp)
            except Exception as e:  # noqa: BLE001 - a crash is a failed check
                check(False, "%d workers: %s" % (workers, e))
        try:
            run_rate(d)
        except Exception as e:  # noqa: BLE001
            check(False, "rate: %s" % e)
        if faults and os.environ.get("VPNGW_KEEP_LOGS"):
            subprocess.run(["cp", "-r", d, d + "-kept"])
            print("logs kept in", d + "-kept")
    print("%d fault(s)" % len(faults))
    sys.exit(1 if faults else 0)


main()
