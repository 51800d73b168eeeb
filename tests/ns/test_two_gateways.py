# SPDX-License-Identifier: BSD-3-Clause
"""Two real vpngw daemons back to back in network namespaces (issue 3, 5):
ping and iperf3 between the LAN hosts through the tunnel, with AES-GCM over
plain ESP and with AES-CBC + HMAC-SHA1 over ESP-in-UDP; a 1500-byte DF ping
gets fragmentation-needed and TCP still works (MSS clamping); /metrics,
scraped with curl during traffic, shows the counters moving.

Usage: test_two_gateways.py VPNGW
"""

import re
import signal
import subprocess
import sys
import time

from topology import Topology, sh

KEY_A = "000102030405060708090a0b0c0d0e0f"
KEY_B = "101112131415161718191a1b1c1d1e1f"
AUTH_A = "2021222324252627282920212223242526272829"
AUTH_B = "3031323334353637383930313233343536373839"

CASES = {
    "aes-gcm-128 plain ESP": dict(encryption="aes-gcm-128", integrity="none", udp_encap=False,
                                  key_a=KEY_A + "a0a1a2a3", key_b=KEY_B + "b0b1b2b3",
                                  auth_a=None, auth_b=None, workers=1),
    "aes + sha1 ESP-in-UDP": dict(encryption="aes", integrity="sha1", udp_encap=True,
                                  key_a=KEY_A, key_b=KEY_B, auth_a=AUTH_A, auth_b=AUTH_B,
                                  workers=2),
}

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def sas(c):
    # gw1 sends with A and receives with B; gw2 the other way round.
    sa1 = dict(encryption=c["encryption"], integrity=c["integrity"], udp_encap=c["udp_encap"],
               out_spi="0x1000", out_key=c["key_a"], out_auth=c["auth_a"],
               in_spi="0x2000", in_key=c["key_b"], in_auth=c["auth_b"])
    sa2 = dict(encryption=c["encryption"], integrity=c["integrity"], udp_encap=c["udp_encap"],
               out_spi="0x2000", out_key=c["key_b"], out_auth=c["auth_b"],
               in_spi="0x1000", in_key=c["key_a"], in_auth=c["auth_a"])
    return sa1, sa2


def esp_packets(metrics_text):
    """Sum of every vpngw_*packets* counter series: what moves with traffic."""
    total = 0
    for line in metrics_text.splitlines():
        if line.startswith("vpngw_") and "packets" in line.split("{")[0].split(" ")[0]:
            try:
                total += int(float(line.rsplit(" ", 1)[1]))
            except ValueError:
                pass
    return total


def run_case(vpngw, name, c):
    print("== %s ==" % name, flush=True)
    sa1, sa2 = sas(c)
    with Topology(vpngw, sa1, sa2, workers=c["workers"]) as t:
        lan1, lan2 = t.ns["lan1"], t.ns["lan2"]
        before = esp_packets(t.gws[0].metrics())
        # The first packets wait for ARP on both sides: warm up, then count.
        sh("ping", "-c", "3", "-W", "2", "10.2.0.2", ns=lan1, check=False)
        r = sh("ping", "-c", "10", "-i", "0.2", "-W", "2", "10.2.0.2", ns=lan1, check=False)
        got = re.search(r"(\d+) received", r.stdout)
        check(got is not None and int(got.group(1)) == 10,
              "%s: 10 of 10 pings lan1 -> lan2 answered (%s)" % (name, got.group(0) if got else r.stdout[-200:]))
        r = sh("ping", "-c", "3", "-W", "2", "10.1.0.2", ns=lan2, check=False)
        got = re.search(r"(\d+) received", r.stdout)
        check(got is not None and int(got.group(1)) == 3, "%s: pings lan2 -> lan1 answered" % name)
        after = esp_packets(t.gws[0].metrics())
        check(after >= before + 20, "%s: /metrics packet counters moved (%d -> %d)" % (name, before, after))

        # 1500-byte DF ping: too big once encapsulated -> fragmentation needed.
        r = sh("ping", "-c", "2", "-M", "do", "-s", "1472", "-W", "2", "10.2.0.2", ns=lan1, check=False)
        out = r.stdout + r.stderr
        check(re.search(r"[Ff]rag needed|message too long|mtu", out) is not None,
              "%s: DF ping of 1500 bytes gets fragmentation-needed (%s)" % (name, out.strip().splitlines()[-1] if out.strip() else ""))

        # TCP across the tunnel: MSS clamping lets full-size segments through.
        srv = subprocess.Popen(["ip", "netns", "exec", lan2, "iperf3", "-s", "-1", "-B", "10.2.0.2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            r = sh("iperf3", "-c", "10.2.0.2", "-t", "3", "-J", ns=lan1, check=False, timeout=30)
            m = re.search(r'"sum_received":\s*\{[^}]*"bytes":\s*(\d+)[^}]*"bits_per_second":\s*([\d.e+]+)', r.stdout, re.S)
            ok = r.returncode == 0 and m is not None and int(m.group(1)) > 1_000_000
            check(ok, "%s: iperf3 TCP lan1 -> lan2 (%s)" % (
                name, "%.0f Mbit/s" % (float(m.group(2)) / 1e6) if m else r.stdout[-300:] + r.stderr[-300:]))
        finally:
            srv.kill()
            srv.wait()
        sa = t.gws[0].api("sa")
        check(any(s.get("packets", 0) > 0 for s in sa.get("sas", [])), "%s: vpnctl sa shows traffic" % name)
        # The same counters on DPDK's telemetry socket.
        tel = t.gws[0].telemetry("/vpngw/metrics").get("/vpngw/metrics", {})
        sa_pkts = tel.get("vpngw_sa_packets_total", {})
        check(isinstance(sa_pkts, dict) and sum(sa_pkts.values()) > 0,
              "%s: rte_telemetry /vpngw/metrics carries the SA counters (%s)" % (name, sa_pkts))
    check(t.exit_codes == [0, 0], "%s: both gateways stop cleanly on SIGTERM (exit %s)" % (name, t.exit_codes))


def main():
    vpngw = sys.argv[1]
    # A runner's timeout sends SIGTERM: unwind so the topology is torn down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    for name, c in CASES.items():
        try:
            run_case(vpngw, name, c)
        except Exception as e:  # a broken topology is a failure, not a crash of the runner
            check(False, "%s: %s" % (name, e))
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
