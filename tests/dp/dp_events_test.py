#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Worker -> control events through the real daemon (net_pcap ports, 1 and 2 workers).

Run "limits" (a finite pcap through three static SAs and one IKE connection):
- lifetime by packets (hard 20, soft 18) and by bytes (hard 2000 inner bytes
  of 100-byte packets), outbound and inbound: soft then hard; exactly the
  hard limit passes, the rest is dropped as sa_expired (per
  SA and in total); the API "sa" shows state expired with the limit that
  did it; vpngw_sa_events_total counts soft_expire and hard_expire once;
  one log line each naming the SA and the limit.
- sequence number near its end: out.initial_seq just below the margin
  (no ESN): the ESP leaves with initial_seq + 1, + 2, ...; the SA goes to
  state seq_near_end, counted and logged.
- acquire: traffic to both remote subnets of a connection (no SA): one
  ACQUIRE per policy (acquire_total 2), every packet dropped as no_sa,
  one log line per policy, API "status" shows the connection negotiating
  (the acquire started IKE) with traffic_waiting; nothing leaves the
  public port in the clear but IKE (UDP 500) to the peer.
Run "flood" (a looping pcap, bandwidth-limited so the output stays small;
two workers, one SA's traffic each, so no SA depends on how a shared meter
splits its tokens):
- lifetime by time (3 s, soft at 2 s): soft then hard while traffic flows;
  then only sa_expired drops for that SA. An SA with no traffic at all
  goes soft then expired the same way (the workers sweep their SAs).
- 1000 replaces of a static SA with the same keys (sa_replace) and 100
  re-sends of SPD and routes (tables_resend) while its traffic flows: no
  gap in its ESP output beyond 300 ms, sequence numbers 1, 2, 3, ... (the
  worker carries them over at each replace: no reuse, no skip),
  every packet decrypts with the keys, every retired object comes back
  (retire.outstanding 0), no message or event lost.
Then a bad lifetime key: the daemon exits 2 naming the key and its line.

usage: dp_events_test.py VPNGW
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

import dptest
from dptest import api, check, empty_pcap, faults, free_port, metrics, read_pcaps

VPNGW = sys.argv[1]

WAN_MAC, LAN_MAC = "02:70:63:61:70:00", "02:70:63:61:70:01"
GW_MAC, HOST_MAC = "52:54:00:00:00:fe", "52:54:00:00:00:05"
US, PEER, LAN_US, HOST = "203.0.113.1", "198.51.100.7", "10.0.0.1", "10.0.0.5"
KEY_OUT = "00112233445566778899aabbccddeeff01020304"
KEY_IN = "ffeeddccbbaa99887766554433221100a1a2a3a4"
SEQ_MARGIN = 1 << 20  # DP_SA_SEQ_MARGIN
SEQ_START = 0xffffffff - SEQ_MARGIN - 5

def sa_yaml(name, remote, out_spi, in_spi, extra="", out_extra=""):
    return """  - name: %s
    peer: %s
    local_subnets: [10.0.0.0/24]
    remote_subnets: [%s]
    encryption: aes-gcm-128
%s    out: {spi: 0x%x, enc_key: "%s"%s}
    in: {spi: 0x%x, enc_key: "%s"}
""" % (name, PEER, remote, extra, out_spi, KEY_OUT, out_extra, in_spi, KEY_IN)


def config(d, tag, metrics_port, lan_rx, static_sas, rate=0, connections="", workers=1):
    # One TX queue per worker and one for control: a tx_pcap each.
    def tx(name):
        return ",".join("tx_pcap=%s/%s_%s_out%d.pcap" % (d, tag, name, q)
                        for q in range(workers + 1))
    return """gateway:
  name: ev-%s
  workers: %d
  poll_mode: adaptive
  bandwidth_mbps: %d
  control_socket: %s/%s.sock
  metrics_listen: 127.0.0.1:%d
  ports:
    - name: wan
      device: "net_pcap0,rx_pcap=%s/%s_wan_in.pcap,%s"
      role: public
      address: %s/24
      gateway: 203.0.113.254
      neighbours: [{ip: 203.0.113.254, mac: "%s"}]
    - name: lan
      device: "net_pcap1,%s,%s"
      role: private
      address: %s/24
      neighbours: [{ip: %s, mac: "%s"}]
%sstatic_sas:
%s""" % (tag, workers, rate, d, tag, metrics_port, d, tag, tx("wan"), US, GW_MAC, lan_rx,
         tx("lan"), LAN_US, HOST, HOST_MAC, connections, static_sas)


class Daemon(dptest.Daemon):
    def __init__(self, d, tag, cfg_text, workers=1):
        super().__init__(VPNGW, cfg_text, os.path.join(d, "%s.sock" % tag),
                         os.path.join(d, tag), "vpngw-ev-%d-%s" % (os.getpid(), tag), workers)


def inner(src, dst, i, size=100):
    p = IP(src=src, dst=dst, ttl=64, id=i & 0xffff) / UDP(sport=40000, dport=7000)
    return p / Raw(b"e" * (size - len(p)))


def scapy_sa(spi, key, src, dst):
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=bytes.fromhex(key),
                               tunnel_header=IP(src=src, dst=dst))


def esp_of(pkts, spi):
    """(timestamp, seq, frame) of our ESP packets with this SPI."""
    out = []
    for p in pkts:
        if IP in p and p[IP].proto == 50:
            raw = bytes(p[IP].payload)
            if struct.unpack("!I", raw[:4])[0] == spi:
                out.append((float(p.time), struct.unpack("!I", raw[4:8])[0], p))
    return out


def sa_by(sas, name, direction):
    for s in sas["sas"]:
        if s["name"] == name and s["direction"] == direction:
            return s
    return None


# ---- run 1: packets, bytes, sequence, acquire ----

LIMIT_SAS = {  # name: remote, out spi, in spi, hard packets / bytes
    "pk": ("192.168.1.0/24", 0x1100, 0x2100, "    lifetime: {packets: 20}\n"),
    "by": ("192.168.2.0/24", 0x1200, 0x2200, "    lifetime: {bytes: 2000, seconds: 0}\n"),
}
N_LIMIT = 40   # packets per SA and direction
N_SEQ = 10
N_ACQ = (20, 5)
CONN = """customer_gateways:
  - {name: idc, address: 198.51.100.9}
connections:
  - name: idc-1
    customer_gateway: idc
    local_subnets: [10.0.0.0/24]
    remote_subnets: [192.168.50.0/24, 172.16.0.0/24]
    psk: s3cret
"""


def run_limits(d):
    tag = "limits"
    sas = ""
    for name, (remote, o, i, extra) in LIMIT_SAS.items():
        sas += sa_yaml(name, remote, o, i, extra)
    sas += sa_yaml("sq", "192.168.3.0/24", 0x1300, 0x2300, "",
                   ", initial_seq: %d" % SEQ_START)
    lan, wan = [], []
    for i in range(N_LIMIT):
        for name, (remote, o, ispi, _) in LIMIT_SAS.items():
            lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) /
                       inner(HOST, remote.replace("0/24", "10"), i))
    for i in range(N_SEQ):
        lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / inner(HOST, "192.168.3.10", i))
    for i in range(N_ACQ[0]):
        lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / inner(HOST, "192.168.50.10", i))
    for i in range(N_ACQ[1]):
        lan.append(Ether(src=HOST_MAC, dst=LAN_MAC) / inner(HOST, "172.16.0.10", i))
    for name, (remote, o, ispi, _) in LIMIT_SAS.items():
        sa = scapy_sa(ispi, KEY_IN, PEER, US)
        for seq in range(1, N_LIMIT + 1):
            wan.append(Ether(src=GW_MAC, dst=WAN_MAC) /
                       sa.encrypt(inner(remote.replace("0/24", "20"), HOST, seq), seq_num=seq))
    wrpcap(os.path.join(d, "limits_lan_in.pcap"), lan)
    wrpcap(os.path.join(d, "limits_wan_in.pcap"), wan)
    mport = free_port()
    dm = Daemon(d, tag, config(d, tag, mport, "rx_pcap=%s/limits_lan_in.pcap" % d, sas,
                               connections=CONN))
    try:
        dm.wait_api()
        _, rx = dm.wait_rx(len(lan) + len(wan))
        check(rx == len(lan) + len(wan), "limits: received %d of %d" % (rx, len(lan) + len(wan)))
        time.sleep(0.3)  # events reach control within a loop
        stats = dm.api("stats")
        sas_now = dm.api("sa")
        status = dm.api("status")
        status1 = dm.api("status", {"name": "idc-1"})
        text = metrics(mport)
    finally:
        rc = dm.stop()
    check(rc == 0, "limits: exit %s after SIGTERM" % rc)
    log = open(dm.logpath).read()
    print(log[-3000:])
    wan_out = read_pcaps(d, tag + "_wan", 2)
    lan_out = read_pcaps(d, tag + "_lan", 2)
    drops = stats["drops"]
    total_expired = 0
    for name, (remote, o, ispi, _) in LIMIT_SAS.items():
        what = "packets" if name == "pk" else "bytes"
        out = esp_of(wan_out, o)
        dec = [p for p in lan_out if IP in p and p[IP].src == remote.replace("0/24", "20")]
        for direction, passed in (("out", len(out)), ("in", len(dec))):
            s = sa_by(sas_now, name, direction)
            tag2 = "%s %s" % (name, direction)
            # The hard limit is 20 packets (2000 bytes of 100-byte packets): staged
            # packets are counted against it before the crypto, so exactly 20 leave.
            check(passed == 20,
                  "%s: %d of %d packets passed (hard limit 20, not one more)" %
                  (tag2, passed, N_LIMIT))
            check(s is not None and s["state"] == "expired" and s["hard_limit"] == what and
                  s["soft_limit"] == what,
                  "%s: API state %s, soft by %s, hard by %s" %
                  (tag2, s and s["state"], s and s["soft_limit"], s and s["hard_limit"]))
            check(s is not None and s["drops"].get("sa_expired", 0) == N_LIMIT - passed,
                  "%s: sa_expired drops %s, expected %d" %
                  (tag2, s and s["drops"], N_LIMIT - passed))
            total_expired += N_LIMIT - passed
            for ev in ("soft_expire", "hard_expire"):
                series = ('vpngw_sa_events_total{connection="%s",spi="0x%08x",direction="%s",'
                          'event="%s"} 1' % (name, o if direction == "out" else ispi,
                                             direction, ev))
                check(series in text, "%s: /metrics has %s" % (tag2, series))
            spi = o if direction == "out" else ispi
            for kind in ("soft", "hard"):
                n = len(re.findall(r"SA %s %s spi 0x%08x: %s lifetime reached \(%s" %
                                   (name, direction, spi, kind, what), log))
                check(n == 1, "%s: %d log lines for the %s lifetime by %s" %
                      (tag2, n, kind, what))
        check(s["lifetime"]["hard_packets" if name == "pk" else "hard_bytes"] ==
              (20 if name == "pk" else 2000), "%s: API shows the hard limit" % name)
    check(drops.get("sa_expired") == total_expired,
          "sa_expired drops in total %s, expected %d" % (drops.get("sa_expired"), total_expired))
    check(stats["control"]["soft_expires"] == 4 and stats["control"]["hard_expires"] == 4,
          "control counted %d soft / %d hard expiries (4 each)" %
          (stats["control"]["soft_expires"], stats["control"]["hard_expires"]))

    # Sequence space: the ESP carries initial_seq + 1..N; the SA is near its end.
    seqs = sorted(x[1] for x in esp_of(wan_out, 0x1300))
    check(seqs == list(range(SEQ_START + 1, SEQ_START + 1 + N_SEQ)),
          "sq: ESP sequence numbers %s... from initial_seq %d" % (seqs[:3], SEQ_START))
    s = sa_by(sas_now, "sq", "out")
    check(s["state"] == "seq_near_end", "sq: API state %s" % s["state"])
    check(sa_by(sas_now, "sq", "in")["state"] == "active", "sq in: still active")
    check('vpngw_sa_events_total{connection="sq",spi="0x00001300",direction="out",'
          'event="seq_near_end"} 1' in text, "sq: seq_near_end in /metrics")
    check(len(re.findall(r"SA sq out spi 0x00001300: sequence numbers nearly used up", log)) == 1,
          "sq: one log line")
    check(stats["control"]["seq_near_end"] == 1, "control seq_near_end %d" %
          stats["control"]["seq_near_end"])

    # Acquire: once per policy, every packet dropped, one log line each.
    check(drops.get("no_sa") == sum(N_ACQ), "no_sa drops %s, expected %d" %
          (drops.get("no_sa"), sum(N_ACQ)))
    check('vpngw_acquire_total{connection="idc-1"} 2' in text,
          "acquire_total 2 for idc-1: %s" %
          [ln for ln in text.splitlines() if "acquire_total" in ln])
    for rem in ("192.168.50.0/24", "172.16.0.0/24"):
        n = log.count("acquire: connection idc-1 (10.0.0.0/24 -> %s)" % rem)
        check(n == 1, "acquire for %s logged %d time(s)" % (rem, n))
    conns = status["connections"]
    check(len(conns) == 1 and conns[0]["name"] == "idc-1" and
          conns[0]["state"] == "phase1 negotiating" and conns[0]["acquires"] == 2 and conns[0]["traffic_waiting"] is True and
          conns[0]["cause"] is None and conns[0]["last_acquire"]["local_subnet"] == "10.0.0.0/24",
          "status: %r" % conns)
    check([c["name"] for c in status1["connections"]] == ["idc-1"],
          "status idc-1: %r" % status1)
    plain = [p for p in wan_out if IP in p and p[IP].proto != 50 and
             not (UDP in p and p[UDP].dport in (500, 4500) and p[IP].dst == "198.51.100.9")]
    check(not plain, "no plain traffic on the public port: %r" % plain[:3])


# ---- run 2: time lifetime, flood of replaces and tables ----

FLOOD_SPI = 0x1500
FLOOD_WORKERS = 2


def run_flood(d):
    tag = "flood"
    # Two workers, one SA's traffic each (owner = inbound SPI % 2): tm on worker 0,
    # fl on worker 1. Each worker meters its own share of the bandwidth, so
    # neither SA's packets depend on how one meter splits its tokens.
    sas = sa_yaml("tm", "192.168.4.0/24", 0x1400, 0x2400, "    lifetime: {seconds: 3}\n")
    sas += sa_yaml("fl", "192.168.5.0/24", FLOOD_SPI, 0x2501)
    # No traffic at all: its time lifetime runs out all the same (worker sweep).
    sas += sa_yaml("id", "192.168.6.0/24", 0x1600, 0x2600, "    lifetime: {seconds: 3}\n")
    loop = []
    for i in range(64):
        loop.append(Ether(src=HOST_MAC, dst=LAN_MAC) /
                    inner(HOST, "192.168.4.10" if i % 2 else "192.168.5.10", i, size=200))
    wrpcap(os.path.join(d, "flood_loop.pcap"), loop)
    empty_pcap(os.path.join(d, "flood_wan_in.pcap"))
    mport = free_port()
    # 2 Mbit/s of 200-byte packets, 1 Mbit/s per worker: ~600 packets/s per SA
    # (the output stays small).
    dm = Daemon(d, tag, config(d, tag, mport, "rx_pcap=%s/flood_loop.pcap,infinite_rx=1" % d,
                               sas, rate=2, workers=FLOOD_WORKERS), FLOOD_WORKERS)
    watch = (("tm", "out"), ("id", "out"), ("id", "in"))
    t_soft, t_hard, tm_sent = {}, {}, 0
    try:
        dm.wait_api()
        t0 = time.time()
        while time.time() - t0 < 15 and len(t_hard) < len(watch):
            now = dm.api("sa")
            for w in watch:
                s = sa_by(now, *w)
                if s["state"] == "soft_expired" and w not in t_soft:
                    t_soft[w] = time.time()
                if s["state"] == "expired" and w not in t_hard:
                    t_hard[w] = time.time()
                    check(s["hard_limit"] == "seconds" and s["soft_limit"] == "seconds",
                          "%s %s: limits by %s / %s" % (w + (s["soft_limit"], s["hard_limit"])))
                if w == ("tm", "out") and w not in t_soft:
                    tm_sent = s["packets"]
            time.sleep(0.05)
        check(tm_sent > 100, "tm: %d packets sent before its soft lifetime" % tm_sent)
        for w in watch:
            ts, th = t_soft.get(w), t_hard.get(w)
            check(ts is not None and th is not None and 0.5 <= th - ts <= 1.6,
                  "%s %s: soft then hard about 1 s apart (soft at %s, hard at %s)" %
                  (w + (ts, th)))
        idle = sa_by(dm.api("sa"), "id", "out")
        check(idle["packets"] == 0 and idle["state"] == "expired",
              "id: expired without a packet (%d packets, %s)" % (idle["packets"], idle["state"]))
        a = sa_by(dm.api("sa"), "tm", "out")
        time.sleep(0.5)
        b = sa_by(dm.api("sa"), "tm", "out")
        check(b["packets"] == a["packets"] and
              b["drops"].get("sa_expired", 0) > a["drops"].get("sa_expired", 0),
              "tm after hard: packets %d -> %d, sa_expired %s -> %s" %
              (a["packets"], b["packets"], a["drops"].get("sa_expired"),
               b["drops"].get("sa_expired")))

        before = dm.api("stats")
        t_flood = time.time()
        r = dm.api("sa_replace", {"name": "fl", "count": 1000}, timeout=60)
        check(r.get("replaced") == 1000, "sa_replace answered %r" % r)
        r = dm.api("tables_resend", {"count": 100}, timeout=60)
        check(r.get("resent") == 100, "tables_resend answered %r" % r)
        t_flood_end = time.time()
        print("flood took %.2f s" % (t_flood_end - t_flood))
        time.sleep(0.5)  # traffic after the flood
        end = time.time() + 5
        while True:
            st = dm.api("stats")
            if st["control"]["retire"]["outstanding"] == 0 or time.time() > end:
                break
            time.sleep(0.1)
        ret = st["control"]["retire"]
        check(ret["outstanding"] == 0 and ret["expected"] >= 2000 + 200 and
              ret["sa_replaced"] == 1000,
              "every retired object came back: %r" % ret)
        check(st["control"]["messages_lost"] == 0 and st["control"]["events_lost"] == 0,
              "no message or event lost: %r" % st["control"])
        check(st["drops"].get("no_sa", 0) == before["drops"].get("no_sa", 0) == 0,
              "no packet met a missing SA during the replaces")
        try:
            api(dm.sock, "sa_replace", {"name": "nope"})
            check(False, "sa_replace of an unknown SA refused")
        except RuntimeError as e:
            check('no static SA named "nope"' in str(e), "sa_replace nope: %s" % e)
    finally:
        rc = dm.stop()
    check(rc == 0, "flood: exit %s after SIGTERM" % rc)
    log = open(dm.logpath).read()
    print(log[-2000:])
    wan_out = read_pcaps(d, tag + "_wan", FLOOD_WORKERS + 1)
    fl_sent = esp_of(wan_out, FLOOD_SPI)  # one worker sends them: in the order sent
    fl = sorted(fl_sent)
    check(len(fl) > 1000, "fl: %d ESP packets" % len(fl))
    during = [x for x in fl if t_flood - 0.5 <= x[0] <= t_flood_end + 0.5]
    check(len(during) > 100, "fl: %d ESP packets around the flood" % len(during))
    gaps = [b[0] - a[0] for a, b in zip(fl, fl[1:])]
    check(max(gaps) < 0.3, "fl: largest gap in its ESP %.3f s (bound 0.3 s)" % max(gaps))
    # The worker carries the sequence number over at each replace: 1, 2, 3, ...
    # across all 1000 of them, nothing reused, nothing skipped.
    seqs = [x[1] for x in fl_sent]
    jumps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
    check(seqs[:1] == [1] and not jumps,
          "fl: ESP sequence numbers 1..%d without a gap or reuse (%d packets, jumps %s)" %
          (seqs[-1] if seqs else 0, len(seqs), jumps[:5]))
    sa = scapy_sa(FLOOD_SPI, KEY_OUT, US, PEER)
    bad = 0
    for x in fl[::max(1, len(fl) // 200)]:
        try:
            p = sa.decrypt(x[2][IP])
            bad += p[IP].dst != "192.168.5.10"
        except Exception:
            bad += 1
    check(bad == 0, "fl: sampled ESP decrypts with the keys (%d bad)" % bad)


def run_bad_config(d):
    sas = sa_yaml("bad", "192.168.1.0/24", 0x1100, 0x2100, "    lifetime: {packets: many}\n")
    empty_pcap(os.path.join(d, "badcfg_wan_in.pcap"))
    cfg = os.path.join(d, "badcfg.yaml")
    with open(cfg, "w") as f:
        f.write(config(d, "badcfg", free_port(), "rx_pcap=%s/badcfg_wan_in.pcap" % d, sas))
    res = subprocess.run([VPNGW, "--config", cfg, "--", "--no-huge", "-m", "256", "--no-pci",
                          "--file-prefix", "vpngw-ev-bad-%d" % os.getpid()],
                         capture_output=True, text=True, timeout=60)
    want = "badcfg.yaml:26: static_sas[0].lifetime.packets: \"many\" is not allowed"
    check(res.returncode == 2 and want in res.stderr + res.stdout,
          "bad lifetime: exit %d, %r" % (res.returncode, (res.stderr + res.stdout)[-300:]))


def main():
    with tempfile.TemporaryDirectory(prefix="vpngw-ev-") as d:
        for run in (run_limits, run_flood, run_bad_config):
            try:
                run(d)
            except Exception as e:  # a crash is a fault, the other runs still go
                check(False, "%s: %s: %s" % (run.__name__, type(e).__name__, e))
    if faults:
        print("%d fault(s)" % len(faults))
        sys.exit(1)
    print("dp events test: all checks passed")


main()
