# SPDX-License-Identifier: BSD-3-Clause
"""scripts/demo.sh: two vpngw gateways back to back with a LAN host behind
each (tests/ns/topology.py), traffic across the tunnel, and what an operator
sees: `vpnctl sa`, `vpnctl stats` and a /metrics excerpt. Then IKEv2
between vpngw and a strongSwan peer (charon with kernel-libipsec,
tests/ike/interop.py): the tunnel negotiated, ping and iperf3 across it,
`vpnctl status` and strongSwan's own view (`swanctl --list-sas`).

The names are fixed ("demo" suffix) so that a run killed halfway is cleaned
up by the next one before it starts.

Every step is checked: a tunnel that does not come up, a lost ping, an
iperf3 that moves nothing, a vpnctl that fails or a gateway that does not
exit cleanly is reported as it happens and again at the end, and the demo
exits 1 (after cleaning up, like a passing run).
"""

import os
import re
import subprocess
import sys
import time

import topology
from topology import Topology, sh

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ike"))
import interop  # noqa: E402

SUFFIX = "demo"


def cleanup_stale():
    """Whatever an earlier, killed demo left: daemons, namespaces, taps."""
    subprocess.run(["pkill", "-f", "file-prefix vpngw[12]%s" % SUFFIX], capture_output=True)
    time.sleep(0.5)
    for ns in ("lan1", "lan2", "wan"):
        name = ns + SUFFIX
        for tap in ("v1p", "v1l", "v2p", "v2l"):
            sh("ip", "link", "set", tap + SUFFIX, "netns", "1", ns=name, check=False)
        sh("ip", "netns", "del", name, check=False)
    # The IKE part's lab (interop.Lab with this suffix): charon first (its
    # pids are those in its namespace), then the taps and namespaces.
    swan = "swan" + SUFFIX
    pids = sh("ip", "netns", "pids", swan, check=False).stdout.split()
    for pid in pids:
        subprocess.run(["kill", "-9", pid], capture_output=True)
    for tap, ns in (("v1p", "wan"), ("v1l", "lanh")):
        sh("ip", "link", "set", tap + SUFFIX, "netns", "1", ns=ns + SUFFIX, check=False)
    for ns in ("lanh", "wan", "swan"):
        sh("ip", "netns", "del", ns + SUFFIX, check=False)


def banner(text):
    print("\n\033[1m== %s ==\033[0m" % text, flush=True)


FAILED = []  # what went wrong, in order


def failed(what):
    print("\033[1mdemo: FAILED: %s\033[0m" % what, flush=True)
    FAILED.append(what)


def run(cmd, ns=None):
    """Show and run a command; a non-zero exit is a failed step."""
    shown = " ".join(cmd)
    print("$ %s%s" % ("ip netns exec %s " % ns if ns else "", shown), flush=True)
    full = (["ip", "netns", "exec", ns] if ns else []) + cmd
    r = subprocess.run(full, capture_output=True, text=True, timeout=60)
    print((r.stdout + r.stderr).rstrip(), flush=True)
    if r.returncode != 0:
        failed("`%s` exited with %d" % (shown, r.returncode))
    return r


def ping_step(ns, dst, count=5):
    """Pings shown as they run; every one must be answered (ping -c exits 0
    even when some replies are lost: count them)."""
    cmd = ["ping", "-c", str(count), "-i", "0.2", "-W", "2", dst]
    print("$ ip netns exec %s %s" % (ns, " ".join(cmd)), flush=True)
    r = subprocess.run(["ip", "netns", "exec", ns] + cmd, capture_output=True, text=True,
                       timeout=60)
    print((r.stdout + r.stderr).rstrip(), flush=True)
    m = re.search(r"(\d+) received", r.stdout)
    got = int(m.group(1)) if m else 0
    if got != count:
        failed("ping %s from netns %s: %d of %d replies" % (dst, ns, got, count))


def iperf_step(got_bytes, mbps, seconds, what, note=""):
    print("%.1f MB in %d s: %.0f Mbit/s%s" % (got_bytes / 1e6, seconds, mbps, note), flush=True)
    if got_bytes <= 0:
        failed("iperf3 %s moved nothing" % what)


def exit_codes_step(codes, what):
    if any(c != 0 for c in codes):
        failed("%s exited with %s" % (what, codes))


def main():
    vpngw, vpnctl = sys.argv[1], sys.argv[2]
    cleanup_stale()
    key_a, key_b = "000102030405060708090a0b0c0d0e0fa0a1a2a3", "101112131415161718191a1b1c1d1e1fb0b1b2b3"
    sa1 = dict(encryption="aes-gcm-128", integrity="none", udp_encap=False, out_spi="0x1000", out_key=key_a,
               out_auth=None, in_spi="0x2000", in_key=key_b, in_auth=None)
    sa2 = dict(sa1, out_spi="0x2000", out_key=key_b, in_spi="0x1000", in_key=key_a)
    topology.secrets.token_hex = lambda n: SUFFIX  # fixed names, see cleanup_stale
    banner("starting two gateways (DPDK net_tap ports, AES-128-GCM static SAs)")
    with Topology(vpngw, sa1, sa2) as t:
        gw1, gw2 = t.gws
        print("gw1: public %s, LAN 10.1.0.0/24 (host 10.1.0.2 in netns %s)" % (gw1.pub, t.ns["lan1"]))
        print("gw2: public %s, LAN 10.2.0.0/24 (host 10.2.0.2 in netns %s)" % (gw2.pub, t.ns["lan2"]))
        print("wan: netns %s routes between the public subnets" % t.ns["wan"])
        banner("ping across the tunnel")
        sh("ping", "-c", "2", "-W", "2", "10.2.0.2", ns=t.ns["lan1"], check=False)  # ARP warm-up
        ping_step(t.ns["lan1"], "10.2.0.2")
        banner("iperf3 (TCP) across the tunnel")
        srv = subprocess.Popen(["ip", "netns", "exec", t.ns["lan2"], "iperf3", "-s", "-1", "-B", "10.2.0.2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        print("$ ip netns exec %s iperf3 -c 10.2.0.2 -t 3" % t.ns["lan1"], flush=True)
        r = subprocess.run(["ip", "netns", "exec", t.ns["lan1"], "iperf3", "-c", "10.2.0.2",
                            "-t", "3", "-J", "--connect-timeout", "5000"],
                           capture_output=True, text=True, timeout=60)
        nbytes, mbps, _ = interop.iperf_result(r.stdout)
        iperf_step(nbytes, mbps, 3, "across the static-SA tunnel")
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:  # the client never reached it
            srv.kill()
            srv.wait()
        banner("vpnctl sa (gw1)")
        run([vpnctl, "--socket", gw1.sock, "sa"])
        banner("vpnctl stats (gw1)")
        run([vpnctl, "--socket", gw1.sock, "stats"])
        banner("metrics excerpt: curl http://127.0.0.1:%d/metrics (gw1)" % gw1.metrics_port)
        lines = [l for l in gw1.metrics().splitlines() if l.startswith("vpngw_") and " 0" != l[-2:]]
        print("\n".join(lines[:25]))
        banner("stopping (SIGTERM) and cleaning up")
    print("gateways exited with %s; namespaces and taps removed" % t.exit_codes)
    exit_codes_step(t.exit_codes, "the two gateways")
    ike_demo(vpngw, vpnctl)
    if FAILED:
        print("\n\033[1mdemo FAILED (%d step(s)):\033[0m\n  %s" % (
            len(FAILED), "\n  ".join(FAILED)), flush=True)
        return 1
    print("\ndemo: every step passed")
    return 0


def ike_demo(vpngw, vpnctl):
    """IKEv2 between vpngw (initiator) and strongSwan's charon."""
    banner("IKEv2: vpngw <-> strongSwan (charon with kernel-libipsec)")
    tunnels = interop.gw_conn(
        "ikev2", True, dict(encryption="aes256", integrity="sha256", dh_group="group14"),
        dict(encryption="aes-gcm-128", pfs="group14"))
    swan = interop.swan_conn(proposals="aes256-sha256-modp2048", esp_proposals="aes128gcm16-modp2048")
    with interop.Lab(vpngw, suffix=SUFFIX) as lab:
        c = interop.Case(lab, "demo")
        gw = c.start_gateway(tunnels)
        print("vpngw: public %s, LAN 10.1.0.0/24 (host %s in netns %s)" % (
            interop.GW_PUB, interop.LAN_HOST, lab.ns["lanh"]))
        print("strongSwan: public %s in netns %s, LAN %s/24 (on lo)" % (
            interop.SWAN_PUB, lab.ns["swan"], interop.SWAN_LAN))
        print("\nvpngw's connection (%s):\n%s" % (gw.cfg, tunnels))
        c.start_charon(swan)
        with open(c.charon.swanctl) as f:
            print("strongSwan's swanctl.conf:\n" + f.read())
        st = c.wait_up(interop.CONN, timeout=30)
        kids = c.charon.wait_child("vpn", "net", timeout=10) if st and st.get(
            "state") == "phase2 succeeded" else []
        if not kids:
            print(c.evidence())
            failed("the IKEv2 tunnel did not come up (vpngw: %s, strongSwan: %d CHILD_SA)" % (
                (st or {}).get("state"), len(kids)))
        else:
            banner("swanctl --list-sas (strongSwan's view of the tunnel)")
            print(c.charon.list_sas_text().rstrip())
            banner("ping across the IKEv2 tunnel")
            sh("ping", "-c", "2", "-W", "2", interop.SWAN_LAN, ns=lab.ns["lanh"], check=False)
            ping_step(lab.ns["lanh"], interop.SWAN_LAN)
            banner("iperf3 (TCP) across the IKEv2 tunnel")
            nbytes, mbps, _ = c.iperf(seconds=3)
            iperf_step(nbytes, mbps, 3, "across the IKEv2 tunnel",
                       " (strongSwan's userspace ESP is the slow side)")
            banner("vpnctl status (vpngw's view: state, peer, child SAs and their counters)")
            run([vpnctl, "--socket", gw.sock, "status"])
            banner("vpnctl sa (vpngw): the negotiated SAs, ESP in UDP as kernel-libipsec asks")
            run([vpnctl, "--socket", gw.sock, "sa"])
        banner("stopping vpngw and charon, cleaning up")
        exit_codes_step([lab.end_case()], "vpngw")
    print("done; namespaces, taps and processes removed")


if __name__ == "__main__":
    sys.exit(main())
