#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The IKE glue in the real daemon (control/ike_glue.c), two vpngw back to
back in network namespaces (tests/ns/topology.py) with IKE connections:

- make-before-break from our side: child lifetimes of a few seconds
  (VPNGW_IKE_TEST_IPSEC_LIFETIME_S), so vpngw itself rekeys the child SA
  (and the IKE SA) several times while a ping runs every 0.1 s: not one
  reply lost, the old SAs deleted from the data plane, the new child's SAs
  owned by the worker its inbound SPI names (2 workers), the API and
  /metrics agreeing; IKEv2 and IKEv1;
- volume lifetimes: ipsec.lifetime_bytes on one side only; the data
  plane's soft byte limit (90%) makes that side rekey under ping, with no
  reply lost and the hard limit on the SAs the API shows;
- vpnctl diagnose: traffic to a host that never answers gives the
  one_way_traffic hint on the sending side after IKE_GLUE_ONE_WAY_MS;
- vpnctl down / up: the SAs leave the data plane and come back.

Usage: test_ike_glue_ns.py VPNGW VPNCTL   (root)
"""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ns"))

from topology import Topology  # noqa: E402

VPNGW, VPNCTL = sys.argv[1], sys.argv[2]
failures = 0


def check(ok, what, evidence=""):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1
        for line in str(evidence).splitlines()[-40:]:
            print("    | " + line)
    return ok


def tunnel(peer_addr, local, remote, initiator, version, ipsec_extra=""):
    ike = ("{version: %s, encryption: aes256, integrity: sha256, dh_group: group14%s}" %
           (version, ", mode: main" if version == "ikev1" else ""))
    return f"""customer_gateways:
  - {{name: peer, address: {peer_addr}}}
connections:
  - name: tun
    customer_gateway: peer
    local_subnets: [{local}]
    remote_subnets: [{remote}]
    effect_immediately: {"true" if initiator else "false"}
    psk: "glue-test-psk"
    ike: {ike}
    ipsec: {{encryption: aes-gcm-128, pfs: group14{ipsec_extra}}}
"""


def ping(ns, dst, count, interval=0.1):
    r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-c", str(count), "-i",
                        str(interval), "-W", "2", dst], capture_output=True, text=True,
                       timeout=count * (interval + 2) + 20)
    m = re.search(r"(\d+) received", r.stdout)
    return (int(m.group(1)) if m else 0), r.stdout[-600:]


def vpnctl(gw, *args):
    return subprocess.run([VPNCTL, "--socket", gw.sock] + list(args), capture_output=True,
                          text=True, timeout=20)


def wait_up(gws, timeout=30):
    end = time.time() + timeout
    st = []
    while time.time() < end:
        st = [gw.api("status")["connections"][0] for gw in gws]
        if all(s["state"] == "phase2 succeeded" and s["children"] for s in st):
            return st
        time.sleep(0.2)
    return st


def owner_ok(gw):
    """Every SA pair of the connection lives on worker spi_in % 2 (dp.h)."""
    sas = gw.api("sa")["sas"]
    ins = [s for s in sas if s["direction"] == "in"]
    return bool(ins) and all(s["worker"] == int(s["spi"], 16) % 2 for s in ins), sas


def case_rekey(version):
    print("== %s: vpngw rekeys its child SAs under ping, 2 workers ==" % version)
    os.environ["VPNGW_IKE_TEST_IPSEC_LIFETIME_S"] = "5"
    os.environ["VPNGW_IKE_TEST_IKE_LIFETIME_S"] = "13"
    try:
        t1 = tunnel("198.51.100.1", "10.1.0.0/24", "10.2.0.0/24", True, version)
        t2 = tunnel("203.0.113.1", "10.2.0.0/24", "10.1.0.0/24", False, version)
        with Topology(VPNGW, t1, t2, workers=2) as t:
            gw1, gw2 = t.gws
            st = wait_up(t.gws)
            if not check(len(st) == 2 and all(s["state"] == "phase2 succeeded" for s in st),
                         "both gateways up: %s" % [s.get("state") for s in st],
                         json.dumps(st, indent=1) + gw1.read_log()[-3000:]):
                return
            ping(t.ns["lan1"], "10.2.0.2", 3)  # ARP on both sides
            got, out = ping(t.ns["lan1"], "10.2.0.2", 200)
            s1 = gw1.api("status")["connections"][0]
            log = gw1.read_log() + gw2.read_log()
            check(got == 200, "no reply lost across the rekeys: %d of 200" % got, out)
            rekeys = log.count("child SA deleted")
            check(rekeys >= 4, "children rekeyed and deleted: %d deletions" % rekeys, log[-3000:])
            for gw in t.gws:
                ok, sas = owner_ok(gw)
                check(ok, "gw%d: SAs on the worker their inbound SPI names" % gw.idx,
                      json.dumps(sas, indent=1))
                check(len(sas) <= 4, "gw%d: old SAs gone (%d SAs left)" % (gw.idx, len(sas)),
                      json.dumps(sas, indent=1))
            ch = s1["children"][0]
            sa_in = [s for s in gw1.api("sa")["sas"] if s["spi"] == ch["spi_in"]]
            check(len(sa_in) == 1 and sa_in[0]["packets"] == ch["packets_in"],
                  "status and sa agree on the child's inbound counters",
                  json.dumps([ch, sa_in], indent=1))
            m = gw1.metrics()
            check('vpngw_connection_state{connection="tun",state="phase2 succeeded"} 1' in m,
                  "/metrics: the connection's state gauge")
            check('vpngw_sa_packets_total{connection="tun",spi="%s",direction="in"}' %
                  ch["spi_in"] in m, "/metrics: the child's SA series")
            # down: both SAs leave the data plane; up: the tunnel comes back.
            r = vpnctl(gw1, "down", "tun")
            check(r.returncode == 0 and "state: down" in r.stdout, "vpnctl down tun",
                  r.stdout + r.stderr)
            end = time.time() + 10
            while time.time() < end and gw1.api("sa")["sas"]:
                time.sleep(0.2)
            check(gw1.api("sa")["sas"] == [], "after down: no SA in the data plane",
                  json.dumps(gw1.api("sa"), indent=1))
            r = vpnctl(gw1, "up", "tun")
            check(r.returncode == 0, "vpnctl up tun", r.stdout + r.stderr)
            st = wait_up(t.gws)
            check(all(s["state"] == "phase2 succeeded" for s in st), "after up: tunnel back",
                  json.dumps(st, indent=1))
            got, out = ping(t.ns["lan1"], "10.2.0.2", 10)
            check(got == 10, "after up: %d of 10 replies" % got, out)
    finally:
        os.environ.pop("VPNGW_IKE_TEST_IPSEC_LIFETIME_S", None)
        os.environ.pop("VPNGW_IKE_TEST_IKE_LIFETIME_S", None)


def case_volume_rekey(version):
    print("== %s: ipsec.lifetime_bytes: vpngw rekeys by volume under ping ==" % version)
    limit = 60000
    t1 = tunnel("198.51.100.1", "10.1.0.0/24", "10.2.0.0/24", True, version,
                ", lifetime_bytes: %d" % limit)
    t2 = tunnel("203.0.113.1", "10.2.0.0/24", "10.1.0.0/24", False, version)
    with Topology(VPNGW, t1, t2) as t:
        gw1, gw2 = t.gws
        st = wait_up(t.gws)
        if not check(all(s["state"] == "phase2 succeeded" for s in st), "tunnel up",
                     json.dumps(st, indent=1) + gw1.read_log()[-3000:]):
            return
        # IKEv2 has no lifetime negotiation: the limit is gw1's alone. IKEv1
        # proposes it as a kilobyte lifetime (rounded down), which gw2 takes.
        hard = limit if version == "ikev2" else limit // 1024 * 1024
        sas = gw1.api("sa")["sas"]
        check(sas and all(s["lifetime"]["hard_bytes"] == hard and
                          s["lifetime"]["soft_bytes"] == hard * 9 // 10
                          for s in sas),
              "gw1's child SAs carry the byte limit (hard %d, soft 90%%)" % hard,
              json.dumps(sas, indent=1))
        want2 = 0 if version == "ikev2" else hard
        check(all(s["lifetime"]["hard_bytes"] == want2 for s in gw2.api("sa")["sas"]),
              "gw2 (no lifetime_bytes of its own): hard limit %d" % want2,
              json.dumps(gw2.api("sa")["sas"], indent=1))
        ping(t.ns["lan1"], "10.2.0.2", 3)
        # 200 x 1000-byte pings: about 200 KB inner each way, several soft limits.
        r = subprocess.run(["ip", "netns", "exec", t.ns["lan1"], "ping", "-n", "-c", "200", "-i",
                            "0.05", "-s", "1000", "-W", "2", "10.2.0.2"],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"(\d+) received", r.stdout)
        got = int(m.group(1)) if m else 0
        check(got == 200, "no reply lost across volume rekeys: %d of 200" % got, r.stdout[-600:])
        log = gw1.read_log() + gw2.read_log()
        soft = len(re.findall(r"soft lifetime reached \(bytes:", log))
        # child_sa_up counts installs, rekeys included (IKEv1: either side may
        # rekey first, both have the limit).
        ups = gw1.api("status")["connections"][0]["child_sa_up"]
        check(soft >= 2 and ups >= 3,
              "the soft byte limit was hit %d times; %d children installed on gw1" % (
                  soft, ups), log[-3000:])
        sas = gw1.api("sa")["sas"]
        check(all(s["bytes"] < limit for s in sas),
              "no SA went past its hard byte limit", json.dumps(sas, indent=1))


def case_one_way():
    print("== diagnose: one_way_traffic ==")
    t1 = tunnel("198.51.100.1", "10.1.0.0/24", "10.2.0.0/24", True, "ikev2")
    t2 = tunnel("203.0.113.1", "10.2.0.0/24", "10.1.0.0/24", False, "ikev2")
    with Topology(VPNGW, t1, t2) as t:
        gw1 = t.gws[0]
        st = wait_up(t.gws)
        if not check(all(s["state"] == "phase2 succeeded" for s in st), "tunnel up",
                     json.dumps(st, indent=1)):
            return
        # 10.2.0.99 does not exist: gw1 encrypts, nothing comes back.
        ping(t.ns["lan1"], "10.2.0.99", 3)
        d = gw1.api("diagnose", {"name": "tun"})
        check(not any(h["cause"] == "one_way_traffic" for h in d["hints"]),
              "no one_way_traffic hint before IKE_GLUE_ONE_WAY_MS", json.dumps(d, indent=1))
        time.sleep(10)
        d = gw1.api("diagnose", {"name": "tun"})
        check(any(h["cause"] == "one_way_traffic" and "received no ESP" in h["evidence"]
                  for h in d["hints"]), "one_way_traffic hint", json.dumps(d, indent=1))
        r = vpnctl(gw1, "diagnose", "tun")
        check(r.returncode == 0 and "hint: one_way_traffic" in r.stdout and
              "remedy: check peer routes" in r.stdout, "vpnctl diagnose prints it",
              r.stdout + r.stderr)


case_rekey("ikev2")
case_rekey("ikev1")
case_volume_rekey("ikev2")
case_volume_rekey("ikev1")
case_one_way()
print("%d failed" % failures)
sys.exit(1 if failures else 0)
