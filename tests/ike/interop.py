# SPDX-License-Identifier: BSD-3-Clause
"""vpngw against strongSwan's charon in network namespaces: the lab the IKE
interop suites (test_ikev2.py, test_ikev1.py) and the demo share.

    lanh (10.1.0.2, .130) --tap-- vpngw --tap-- wan router --veth-- swan
                   10.1.0.1   203.0.113.1  .254 | .254       198.51.100.2
                                                           LAN on lo: 10.2.0.1/24, 10.3.0.1/24

vpngw runs in the root namespace with net_tap ports, moved into lanh and
wan once they have started (tests/ns/topology.py: Gateway, attach,
detach). charon (tests/ike/swan.py) runs in swan with kernel-libipsec; its
LAN subnets are addresses on lo, there before charon starts (INTEROP.md).
The namespaces are made once per run; every case starts a fresh vpngw and
a fresh charon with its own configs, and stops both at its end.

A case is a function taking a Case; its checks print "ok"/"FAIL" lines,
and Lab.run prints one "PASS name"/"FAIL name" line, with evidence (vpnctl
status, vpngw log, charon log and SAs) on failure. Lab.close undoes
everything, also after an exception or SIGTERM.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ns"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from swan import Charon, ping  # noqa: E402
from topology import Gateway, Topology, attach, detach, sh  # noqa: E402

GW_PUB, GW_ROUTER, GW_LAN = "203.0.113.1", "203.0.113.254", "10.1.0.1"
LAN_HOST, LAN_HOST2 = "10.1.0.2", "10.1.0.130"  # the second inside 10.1.0.128/25
SWAN_PUB, SWAN_ROUTER = "198.51.100.2", "198.51.100.254"
SWAN_LAN, SWAN_LAN2 = "10.2.0.1", "10.3.0.1"
PSK = "interop-psk-0123456789"


def yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, str) and not re.fullmatch(r"[A-Za-z0-9._/:@-]+", v):
        return json.dumps(v)
    return str(v)


def yaml_block(d, indent):
    pad = " " * indent
    out = []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            out.append("%s%s:" % (pad, k))
            out.append(yaml_block(v, indent + 2))
        else:
            out.append("%s%s: %s" % (pad, k, yaml_value(v)))
    return "\n".join(out)


def vpngw_tunnels(peer, peer_addr, conns):
    """The YAML after vpngw's gateway section: one customer gateway and its
    connections. conns: list of dicts in DESIGN.md's keys (name,
    local_subnets, remote_subnets, effect_immediately, psk, ike: {...},
    ipsec: {...}, dpd, ...)."""
    out = ["customer_gateways:", "  - {name: %s, address: %s}" % (peer, peer_addr), "connections:"]
    for c in conns:
        c = dict(c)
        name = c.pop("name")
        out.append("  - name: %s" % name)
        out.append("    customer_gateway: %s" % c.pop("customer_gateway", peer))
        out.append(yaml_block(c, 4))
    return "\n".join(out) + "\n"


def swan_conn(name="vpn", version=2, proposals="default", esp_proposals="default",
              local_ts=("10.2.0.0/24",), remote_ts=("10.1.0.0/24",), start=False,
              local_id=SWAN_PUB, remote_id=GW_PUB, child="net", conn_opts=None, child_opts=None):
    """A strongSwan connection towards vpngw, as swan.py writes it. start:
    charon initiates once loaded (vpngw responds), else it only responds."""
    child_d = {"local_ts": list(local_ts), "remote_ts": list(remote_ts),
               "esp_proposals": esp_proposals, "start_action": "start" if start else "none"}
    child_d.update(child_opts or {})
    conn = {"version": version, "local_addrs": SWAN_PUB, "remote_addrs": GW_PUB,
            "proposals": proposals,
            "local": {"auth": "psk", "id": local_id},
            "remote": {"auth": "psk", "id": remote_id},
            "children": {child: child_d}}
    conn.update(conn_opts or {})
    return {name: conn}


def swan_secrets(psk=PSK, ids=(GW_PUB, SWAN_PUB)):
    s = {"secret": psk}
    for i, ident in enumerate(ids):
        s["id-%d" % (i + 1)] = ident
    return {"ike-1": s}


class CaseFailed(Exception):
    pass


class Case:
    """What one case sees: the lab, its checks, its gateway and charon."""

    def __init__(self, lab, name):
        self.lab, self.name = lab, name
        self.failed = []
        self.gw = None
        self.charon = None
        self.t0 = time.time()

    def check(self, cond, what, evidence=""):
        print("  %s %s" % ("ok  " if cond else "FAIL", what), flush=True)
        if not cond:
            self.failed.append(what)
            if evidence:
                print("    | " + "\n    | ".join(str(evidence).splitlines()[-25:]), flush=True)
        return cond

    def require(self, cond, what, evidence=""):
        """A check the rest of the case depends on: stop the case if it fails."""
        if not self.check(cond, what, evidence):
            raise CaseFailed(what)

    # -- the two peers --------------------------------------------------------

    def start_gateway(self, tunnels_yaml, workers=1, env=None):
        self.gw = self.lab.start_gateway(tunnels_yaml, workers, env)
        return self.gw

    def start_charon(self, conns, secrets=None, opts=None):
        self.charon = self.lab.charon
        self.charon.start(conns, secrets if secrets is not None else swan_secrets(), opts)
        return self.charon

    # -- vpngw's view ---------------------------------------------------------

    def status(self, conn=None):
        """vpngw's `vpnctl status` as JSON: one connection (by name) or all."""
        r = self.gw.api("status", {"name": conn} if conn else None)
        cs = r.get("connections", [])
        return cs[0] if conn and cs else (None if conn else cs)

    def wait_status(self, conn, pred, timeout=30):
        """Poll status until pred(status) holds; the last status seen (or None)."""
        end = time.time() + timeout
        st = None
        while True:
            try:
                st = self.status(conn)
            except (OSError, RuntimeError, ValueError) as e:
                st = {"error": str(e)}
            if st is not None and "error" not in st and pred(st):
                return st
            if time.time() > end:
                return st
            if self.gw.proc.poll() is not None:
                return st
            time.sleep(0.3)

    def wait_up(self, conn, children=1, timeout=30):
        """vpngw says phase2 succeeded with at least `children` children."""
        return self.wait_status(conn, lambda s: s.get("state") == "phase2 succeeded" and
                                len(s.get("children") or []) >= children, timeout)

    def wait_cause(self, conn, cause, timeout=40):
        return self.wait_status(conn, lambda s: s.get("cause") == cause, timeout)

    def sas(self):
        return self.gw.api("sa").get("sas", [])

    # -- traffic ----------------------------------------------------------------

    def ping(self, dst=SWAN_LAN, count=10, src=None, interval=0.2, warmup=True):
        """Replies to count pings from the LAN host (after a short warm-up for
        ARP and an on-demand tunnel): (received, output)."""
        ns = self.lab.ns["lanh"]
        if warmup:
            ping(ns, dst, count=3, interval=0.3, src=src, wait=2)
        return ping(ns, dst, count=count, interval=interval, src=src)

    def check_ping(self, dst=SWAN_LAN, count=10, src=None, what=None):
        got, out = self.ping(dst, count, src)
        return self.check(got == count, "%s: %d of %d ping replies" % (
            what or "ping %s -> %s" % (src or LAN_HOST, dst), got, count), out)

    def iperf(self, dst=SWAN_LAN, seconds=3, background=False, mbps=None):
        """iperf3 TCP from the LAN host to dst in swan's namespace: (bytes
        received, Mbit/s, output); background: the running client instead.
        mbps: a rate cap (rekey cases: traffic under the rekeys without
        filling every queue, so a lost ping means the rekey lost it)."""
        srv = subprocess.Popen(["ip", "netns", "exec", self.lab.ns["swan"], "iperf3", "-s", "-1",
                                "-B", dst], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        self.lab.procs.append(srv)
        time.sleep(0.5)
        cmd = ["ip", "netns", "exec", self.lab.ns["lanh"], "iperf3", "-c", dst, "-t", str(seconds),
               "-J", "--connect-timeout", "5000"] + (["-b", "%dM" % mbps] if mbps else [])
        if background:
            cli = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
            self.lab.procs.append(cli)
            return cli
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
        self.lab.reap(srv)
        return iperf_result(r.stdout + r.stderr)

    def check_iperf(self, dst=SWAN_LAN, seconds=3):
        got, mbps, out = self.iperf(dst, seconds)
        return self.check(got > 1_000_000, "iperf3 TCP %s -> %s: %d bytes, %.0f Mbit/s" % (
            LAN_HOST, dst, got, mbps), out[-1500:])

    def evidence(self):
        out = []
        if self.gw is not None:
            try:
                out.append("vpnctl status: " + json.dumps(self.status(), indent=1))
            except Exception as e:  # the daemon may be gone
                out.append("vpnctl status: %s" % e)
            try:
                out.append("vpnctl sa: " + json.dumps(
                    [{k: s.get(k) for k in ("name", "spi", "direction", "packets", "state")}
                     for s in self.sas()]))
            except Exception as e:
                out.append("vpnctl sa: %s" % e)
            noise = re.compile(r"tap_nl_dump|qdisc|rte flow|TELEMETRY|EAL: ")
            lines = [l for l in self.gw.read_log().splitlines() if not noise.search(l)]
            out.append("vpngw log (tail):\n" + "\n".join(lines[-30:]))
            try:
                stats = self.gw.api("stats")
                out.append("vpnctl stats .drops (non-zero): " + json.dumps(
                    {k: v for k, v in (stats.get("drops") or {}).items() if v}))
                out.append("vpnctl stats .ike: " + json.dumps(stats.get("ike")))
            except Exception as e:
                out.append("vpnctl stats: %s" % e)
        if self.charon is not None:
            if self.charon.alive():
                out.append("swanctl --list-sas:\n" + self.charon.list_sas_text())
            out.append("charon log (tail):\n" + self.charon.log_tail(40))
        return "\n".join(out)


class Lab:
    """The namespaces, made once; a fresh vpngw and charon per case."""

    def __init__(self, vpngw, workers=1, suffix=None):
        self.vpngw = vpngw
        self.workers = workers
        self.suffix = suffix or secrets.token_hex(2)
        self.dir = tempfile.mkdtemp(prefix="vpngw-ike-")
        self.ns = {k: "%s%s" % (k, self.suffix) for k in ("lanh", "wan", "swan")}
        self.veth = ("sw%s" % self.suffix, "sr%s" % self.suffix)  # swan side, router side
        self.gw = None
        self.n_gw = 0
        self.charon = None
        self.procs = []
        self.results = []

    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def up(self):
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        wan, swan = self.ns["wan"], self.ns["swan"]
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=wan)
        sh("ip", "link", "add", self.veth[0], "netns", swan, "type", "veth", "peer", "name",
           self.veth[1], "netns", wan)
        sh("ip", "addr", "add", SWAN_PUB + "/24", "dev", self.veth[0], ns=swan)
        sh("ip", "link", "set", self.veth[0], "up", ns=swan)
        sh("ip", "route", "add", "default", "via", SWAN_ROUTER, ns=swan)
        sh("ip", "addr", "add", SWAN_ROUTER + "/24", "dev", self.veth[1], ns=wan)
        sh("ip", "link", "set", self.veth[1], "up", ns=wan)
        # strongSwan's LAN: addresses on lo, before any charon starts.
        for a in (SWAN_LAN, SWAN_LAN2):
            sh("ip", "addr", "add", a + "/24", "dev", "lo", ns=swan)
        self.charon = Charon(swan, self.dir, "swan")

    # -- vpngw ------------------------------------------------------------------

    def start_gateway(self, tunnels_yaml, workers=None, env=None):
        """A fresh vpngw with this tunnels section, ports attached. env: extra
        environment (the glue's VPNGW_IKE_* test tunables, control/ike_glue.h)."""
        self.stop_gateway()
        self.n_gw += 1
        # topology.Gateway wants these of its topology: vpngw, workers, suffix, dir.
        self.workers_now = workers or self.workers
        gw = Gateway(_GwTopo(self, self.workers_now), self.n_gw, GW_PUB, GW_ROUTER, GW_LAN,
                     "10.1.0.0/24", SWAN_PUB, "10.2.0.0/24", tunnels_yaml)
        self.gw = gw
        saved = dict(os.environ)
        try:
            # The engines' debug lines are the evidence a failed case shows.
            os.environ.update({"VPNGW_IKE_DEBUG": "1"}, **(env or {}))
            gw.start()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        gw.wait_ready()
        attach(gw, self.ns["wan"], GW_ROUTER, self.ns["lanh"], LAN_HOST)
        sh("ip", "addr", "add", LAN_HOST2 + "/24", "dev", gw.tap_lan, ns=self.ns["lanh"])
        return gw

    def stop_gateway(self):
        code = None
        if self.gw is not None:
            detach(self.gw, self.ns["wan"], self.ns["lanh"])
            code = self.gw.stop()
            self.gw = None
        return code

    # -- cases ------------------------------------------------------------------

    def reap(self, p):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def end_case(self):
        for p in list(self.procs):
            self.reap(p)
        if self.charon is not None:
            self.charon.stop()
        return self.stop_gateway()

    def capture_start(self, name):
        """VPNGW_IKE_CAPTURE=1: tshark on the wan router's link to strongSwan,
        one pcap per case next to the logs (kept with VPNGW_KEEP_LOGS)."""
        if not os.environ.get("VPNGW_IKE_CAPTURE"):
            return
        path = os.path.join(self.dir, "case%02d.pcap" % (len(self.results) + 1))
        p = subprocess.Popen(["ip", "netns", "exec", self.ns["wan"], "tshark", "-q", "-i",
                              self.veth[1], "-w", path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        time.sleep(1)
        print("  capture: %s (%s)" % (path, name), flush=True)

    def run(self, name, fn):
        """Run one case; returns True when it passed."""
        print("== %s ==" % name, flush=True)
        self.capture_start(name)
        c = Case(self, name)
        try:
            fn(c)
        except CaseFailed:
            pass
        except Exception:
            c.failed.append("exception")
            print("  FAIL exception:\n    | " + "\n    | ".join(
                traceback.format_exc().splitlines()), flush=True)
        if c.failed:
            print("  evidence:\n    | " + "\n    | ".join(c.evidence().splitlines()), flush=True)
        try:
            code = self.end_case()
            if c.gw is not None and code not in (0, None):
                c.failed.append("vpngw exit %s" % code)
                print("  FAIL vpngw stopped with exit code %s" % code, flush=True)
        except Exception as e:
            c.failed.append("cleanup: %s" % e)
            print("  FAIL cleanup: %s" % e, flush=True)
        ok = not c.failed
        print("%s %s (%.1fs)" % ("PASS" if ok else "FAIL", name, time.time() - c.t0), flush=True)
        self.results.append((name, ok))
        return ok

    def summary(self):
        failed = [n for n, ok in self.results if not ok]
        print("ike interop: %d passed, %d failed%s" % (
            len(self.results) - len(failed), len(failed),
            (": " + ", ".join(failed)) if failed else ""), flush=True)
        # check's summary format, which scripts/test.sh counts case by case.
        print("Checks: %d, Failures: %d, Errors: 0" % (len(self.results), len(failed)), flush=True)
        return 1 if failed else 0

    def close(self):
        try:
            self.end_case()
        finally:
            for ns in self.ns.values():
                sh("ip", "netns", "del", ns, check=False)
            if os.environ.get("VPNGW_KEEP_LOGS") is None:
                shutil.rmtree(self.dir, ignore_errors=True)
            else:
                print("logs kept in %s" % self.dir)


class _GwTopo:
    """What topology.Gateway reads of its topology."""

    def __init__(self, lab, workers):
        self.vpngw, self.workers, self.suffix, self.dir = lab.vpngw, workers, lab.suffix, lab.dir


def iperf_result(text):
    """(bytes received, Mbit/s) from iperf3 -J output; (0, 0) if it failed."""
    m = re.search(r'"sum_received":\s*\{[^}]*"bytes":\s*(\d+)[^}]*"bits_per_second":\s*([\d.e+]+)',
                  text, re.S)
    if not m:
        return 0, 0.0, text
    return int(m.group(1)), float(m.group(2)) / 1e6, text


def main_loop(cases, argv):
    """Run the named cases (all when none named) in one lab: argv is
    [VPNGW, [CASE...]]; a CASE may be a prefix. Exit status 1 on any failure."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if len(argv) < 1:
        sys.exit("usage: %s VPNGW [CASE...]" % sys.argv[0])
    vpngw, wanted = argv[0], argv[1:]
    chosen = [(n, f) for n, f in cases if not wanted or any(n.startswith(w) for w in wanted)]
    if not chosen:
        sys.exit("no case matches %s; cases: %s" % (wanted, ", ".join(n for n, _ in cases)))
    t0 = time.time()
    with Lab(vpngw) as lab:
        for name, fn in chosen:
            lab.run(name, fn)
    rc = lab.summary()
    print("total %.0fs" % (time.time() - t0))
    return rc


# -- helpers the IKEv1 and IKEv2 cases share ----------------------------------

CONN = "swan1"  # vpngw's connection to strongSwan


def gw_conn(version, initiator, ike, ipsec, local=("10.1.0.0/24",), remote=("10.2.0.0/24",),
            psk=PSK, peer_addr=SWAN_PUB, **extra):
    """vpngw's tunnels section: connection CONN to strongSwan (its customer
    gateway at peer_addr). version: "ikev1" / "ikev2"; ike, ipsec:
    DESIGN.md's keys (version is added)."""
    c = {"name": CONN, "local_subnets": list(local), "remote_subnets": list(remote),
         "effect_immediately": initiator, "psk": psk,
         "ike": dict({"version": version}, **ike), "ipsec": dict(ipsec)}
    c.update(extra)
    return vpngw_tunnels("swan", peer_addr, [c])


def spi_hex(s):
    """'0xc1000001' / 'c1000001' -> 'c1000001'."""
    try:
        return "%08x" % int(s, 16)
    except (TypeError, ValueError):
        return ""


def gw_children(st):
    return (st or {}).get("children") or []


def spi_pairs(st):
    """vpngw's children as {(spi_in, spi_out)}."""
    return {(spi_hex(ch.get("spi_in")), spi_hex(ch.get("spi_out"))) for ch in gw_children(st)}


def check_spis_agree(c, st, swan_child, what=""):
    """vpngw's inbound SPI is strongSwan's outbound one and the reverse."""
    want = (swan_child["spi_out"], swan_child["spi_in"])
    pairs = spi_pairs(st)
    return c.check(want in pairs, "%sSPIs agree: vpngw in/out %s, strongSwan out/in %s" % (
        what, sorted(pairs), want))


def bring_up(c, initiator, gw_tail, swan, secrets=None, env=None, children=1, opts=None,
             swan_children=1):
    """Start both sides; require the tunnel up on both; (vpngw status,
    strongSwan's installed children of IKE SA "vpn")."""
    c.start_gateway(gw_tail, env=env)
    c.start_charon(swan, secrets, opts)
    st = c.wait_up(CONN, children=children, timeout=30)
    c.require(st is not None and st.get("state") == "phase2 succeeded" and gw_children(st),
              "vpnctl status: %s phase2 succeeded with %d child(ren) (vpngw %s)" % (
                  CONN, children, "initiator" if initiator else "responder"),
              json.dumps(st, indent=1))
    cs = c.charon.wait_child("vpn", None, timeout=10, count=swan_children)
    c.require(len(cs) >= swan_children, "strongSwan: %d CHILD_SA(s) installed" % swan_children,
              c.charon.list_sas_text())
    return st, cs


def wait_new_child(c, old_spis, timeout=15, child=None):
    """strongSwan's installed children whose inbound SPI is not in old_spis."""
    end = time.time() + timeout
    while True:
        new = [x for x in c.charon.children("vpn", child) if x["spi_in"] not in old_spis]
        if new or time.time() > end:
            return new
        time.sleep(0.3)


def gw_to_gw_tail(peer_name, peer_addr, local, remote, initiator, ike, ipsec):
    return vpngw_tunnels(peer_name, peer_addr, [{
        "name": "to-" + peer_name, "local_subnets": [local], "remote_subnets": [remote],
        "effect_immediately": initiator, "psk": PSK, "ike": ike, "ipsec": ipsec}])


def vpngw_to_vpngw(c, ike, ipsec):
    """Two vpngw back to back (tests/ns/topology.py) with connections
    instead of static SAs: plain ESP (no NAT), ping both ways and iperf3."""
    t1 = gw_to_gw_tail("gw2", "198.51.100.1", "10.1.0.0/24", "10.2.0.0/24", True, ike, ipsec)
    t2 = gw_to_gw_tail("gw1", "203.0.113.1", "10.2.0.0/24", "10.1.0.0/24", False, ike, ipsec)
    with Topology(c.lab.vpngw, t1, t2) as t:
        gw1, gw2 = t.gws
        end = time.time() + 30
        s1 = s2 = {}
        while time.time() < end:
            s1 = (gw1.api("status").get("connections") or [{}])[0]
            s2 = (gw2.api("status").get("connections") or [{}])[0]
            if s1.get("state") == s2.get("state") == "phase2 succeeded" and \
               gw_children(s1) and gw_children(s2):
                break
            time.sleep(0.3)
        ok = c.check(s1.get("state") == s2.get("state") == "phase2 succeeded",
                     "both gateways: phase2 succeeded (%s / %s)" % (s1.get("state"), s2.get("state")),
                     json.dumps([s1, s2], indent=1) + "\ngw1 log:\n" + gw1.read_log() +
                     "\ngw2 log:\n" + gw2.read_log())
        if ok:
            p1 = spi_pairs(s1)
            p2 = {(b, a) for a, b in spi_pairs(s2)}
            c.check(bool(p1 & p2), "SPIs agree (gw1 in/out %s, gw2 out/in %s)" % (p1, p2))
            ping(t.ns["lan1"], "10.2.0.2", count=3, wait=2)  # ARP on both sides
            got, out = ping(t.ns["lan1"], "10.2.0.2", count=10)
            c.check(got == 10, "ping lan1 -> lan2: %d of 10 replies" % got, out)
            got, out = ping(t.ns["lan2"], "10.1.0.2", count=5)
            c.check(got == 5, "ping lan2 -> lan1: %d of 5 replies" % got, out)
            srv = subprocess.Popen(["ip", "netns", "exec", t.ns["lan2"], "iperf3", "-s", "-1", "-B",
                                    "10.2.0.2"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
            c.lab.procs.append(srv)
            time.sleep(0.5)
            r = sh("iperf3", "-c", "10.2.0.2", "-t", "2", "-J", ns=t.ns["lan1"], check=False,
                   timeout=40)
            nbytes, mbps, _ = iperf_result(r.stdout)
            c.check(nbytes > 1_000_000, "iperf3 lan1 -> lan2: %d bytes, %.0f Mbit/s" % (
                nbytes, mbps), (r.stdout + r.stderr)[-1500:])
            c.lab.reap(srv)
            sas = gw1.api("sa").get("sas", [])
            c.check(sas and not any(s.get("udp_encap") for s in sas),
                    "plain ESP without a NAT (%d SAs, udp_encap %s)" % (
                        len(sas), [s.get("udp_encap") for s in sas]))
    c.check(t.exit_codes == [0, 0], "both gateways stop cleanly (exit %s)" % t.exit_codes)


def udp_rcvbuf_errors(ns):
    """UDP datagrams the kernel of namespace ns dropped on a full socket
    receive buffer (/proc/net/snmp Udp RcvbufErrors)."""
    r = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"], capture_output=True,
                       text=True)
    rows = [l.split()[1:] for l in r.stdout.splitlines() if l.startswith("Udp:")]
    if len(rows) < 2 or "RcvbufErrors" not in rows[0]:
        return 0
    return int(rows[1][rows[0].index("RcvbufErrors")])


def traffic_across_rekeys(c, min_child=2, min_ike=1, pings=120):
    """iperf3 (capped) and a ping every 0.1 s from the LAN host while the
    tunnel's SAs are rekeyed (by whichever side the case set up): every ping
    answered, the rekeys seen in strongSwan's log (new CHILD_SA / IPsec SA
    ids, new or rekeyed IKE SA ids) and in vpngw's counters, the tunnel still
    up. Returns vpngw's status after the run."""
    c.check_ping(count=5)
    mark = c.charon.log_size()
    st0 = c.status(CONN) or {}
    udp0 = udp_rcvbuf_errors(c.lab.ns["swan"])
    # Capped: charon's userspace ESP shares its UDP 4500 socket with IKE and
    # drops datagrams on a full receive buffer (UDP RcvbufErrors) well below
    # what vpngw sends; the cap keeps that from passing for a rekey loss.
    cli = c.iperf(seconds=pings // 10 + 2, background=True, mbps=10)
    got, out = ping(c.lab.ns["lanh"], SWAN_LAN, count=pings, interval=0.1, wait=2)
    try:
        text, _ = cli.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        text = "iperf3 client timed out"
    c.lab.reap(cli)
    nbytes, mbps, _ = iperf_result(text)
    st = c.status(CONN) or {}
    log = c.charon.read_log(mark)
    child_ids = set(re.findall(r"CHILD_SA net\{(\d+)\} established", log))
    ike_ids = set(re.findall(r"IKE_SA vpn\[(\d+)\] (?:established|rekeyed)", log))
    c.check(len(child_ids) >= min_child,
            "%d new CHILD_SAs during the run (strongSwan's log; vpngw child_sa_up %s -> %s)" % (
                len(child_ids), st0.get("child_sa_up"), st.get("child_sa_up")),
            c.charon.log_tail(30, mark))
    c.check(len(ike_ids) >= min_ike,
            "%d new IKE SAs during the run (strongSwan's log; vpngw ike_sa_up %s -> %s)" % (
                len(ike_ids), st0.get("ike_sa_up"), st.get("ike_sa_up")),
            c.charon.log_tail(30, mark))
    overflow = udp_rcvbuf_errors(c.lab.ns["swan"]) - udp0
    c.check(got == pings, "no ping lost across the rekeys: %d of %d replies" % (got, pings),
            out + "\nstrongSwan's namespace: %d UDP datagrams dropped on a full receive buffer "
            "during the run (charon's ESP and IKE socket)" % overflow)
    c.check(nbytes > 1_000_000, "iperf3 across the rekeys: %d bytes, %.0f Mbit/s" % (nbytes, mbps),
            text[-1500:])
    c.check(st.get("state") == "phase2 succeeded", "vpnctl status still phase2 succeeded (%s)" %
            st.get("state"), json.dumps(st, indent=1))
    return st


# Quick verdicts where a case waits for a failure (control/ike_glue.h).
FAST = {"VPNGW_IKE_RETRANSMIT_BASE_MS": "500", "VPNGW_IKE_RETRANSMIT_TRIES": "3",
        "VPNGW_IKE_LIVENESS_MS": "2000", "VPNGW_IKE_RESTART_DELAY_MS": "1000"}


# DESIGN.md's remedy for each cause, as a regex over vpnctl status' remedy.
REMEDY = {
    "psk_mismatch": r"same pre-shared key",
    "ike_version_mismatch": r"same IKE version",
    "mode_mismatch": r"same negotiation mode",
    "id_mismatch": r"matching local.?id\s*/\s*remote.?id",
    "proposal_mismatch": r"align the (IPsec )?algorithms",
    "dh_group_mismatch": r"same DH group",
    "peer_not_responding": r"peer's address",
    "unknown_peer": r"customer gateway's public IP",
    "ts_mismatch": r"same local/remote subnets",
    "pfs_mismatch": r"same PFS group",
}

# A DH group as the evidence may name it: vpngw's config name or IANA's.
DH_NAME = {"group2": r"(group ?2\b|modp.?1024)", "group14": r"(group ?14\b|modp.?2048)",
           "group19": r"(group ?19\b|ecp.?256)", "group5": r"(group ?5\b|modp.?1536)"}


def check_diagnosis(c, st, cause, state, evidence_re=None):
    """vpnctl status names cause in state, with evidence (matching every
    regex of evidence_re) and DESIGN.md's remedy."""
    if not c.check(st is not None and st.get("cause") == cause,
                   "vpnctl status cause %s (got %s)" % (cause, (st or {}).get("cause")),
                   json.dumps(st, indent=1)):
        return False
    ok = c.check(st.get("state") == state, "state %s (%s)" % (state, st.get("state")))
    ev, rem = st.get("evidence") or "", st.get("remedy") or ""
    ok &= c.check(bool(ev), "evidence given: %r" % ev)
    ok &= c.check(re.search(REMEDY[cause], rem, re.I) is not None,
                  "remedy as DESIGN.md says (/%s/): %r" % (REMEDY[cause], rem))
    if isinstance(evidence_re, str):
        evidence_re = [evidence_re]
    for rx in evidence_re or ():
        ok &= c.check(re.search(rx, ev, re.I) is not None, "the evidence names it: /%s/" % rx)
    return ok


def misconfig(c, gw_tail, swan, cause, state, swan_log=None, secrets=None, opts=None,
              evidence_re=None, env=None):
    """vpngw against a peer configured differently (swan None: no peer at
    all): vpnctl status must name the cause, in the right state, with
    evidence and remedy (evidence_re: a regex or a list of them the evidence
    must match), and strongSwan's log the matching complaint (swan_log, a
    regex). Returns vpngw's status."""
    c.start_gateway(gw_tail, env=dict(FAST, **(env or {})))
    if swan is not None:
        c.start_charon(swan, secrets, opts)
    st = c.wait_cause(CONN, cause, timeout=40)
    check_diagnosis(c, st, cause, state, evidence_re)
    if swan_log:
        c.check(c.charon.wait_log(swan_log, timeout=5) is not None,
                "strongSwan's log says so: /%s/" % swan_log, c.charon.log_tail(20))
    return st


def check_version_settled(c, seconds=3):
    """A peer that spoke the other IKE version: the diagnosis stays
    ike_version_mismatch while vpngw's own attempts go on failing (the
    peer's NO_PROPOSAL_CHOSEN to them is the same mismatch, DESIGN.md)."""
    seen = set()
    end = time.time() + seconds
    while time.time() < end:
        seen.add((c.status(CONN) or {}).get("cause"))
        time.sleep(0.1)
    return c.check(seen == {"ike_version_mismatch"},
                   "the cause stays ike_version_mismatch for %d s (seen %s)" % (
                       seconds, sorted(str(x) for x in seen)),
                   json.dumps(c.status(CONN), indent=1))


def check_no_tunnel(c, what="strongSwan"):
    """strongSwan holds no established IKE SA and no CHILD_SA."""
    sas = [s for s in c.charon.list_sas().get("vpn", []) if s["state"] == "ESTABLISHED"]
    kids = c.charon.children("vpn", None, state=None)
    return c.check(not sas and not kids, "%s: no established IKE SA, no CHILD_SA (%d / %d)" % (
        what, len(sas), len(kids)), c.charon.list_sas_text())


def ike_stats(c):
    """vpnctl stats .ike: the glue's and each engine's counters."""
    return c.gw.api("stats").get("ike") or {}


def nft(ns, script):
    """An nftables script (nft -f -) in namespace ns."""
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script, text=True,
                       capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("nft in %s failed: %s\n%s" % (ns, r.stderr, script))


def count_packets(ns, iface, bpf, seconds):
    """Packets matching the capture filter bpf on iface in namespace ns
    during the next `seconds` (tshark): [(src, sport), ...]."""
    r = subprocess.run(["ip", "netns", "exec", ns, "tshark", "-n", "-q", "-i", iface, "-f", bpf,
                        "-a", "duration:%d" % seconds, "-T", "fields", "-e", "ip.src",
                        "-e", "udp.srcport"], capture_output=True, text=True,
                       timeout=seconds + 30)
    return [tuple(l.split("\t")) for l in r.stdout.splitlines() if l.strip()]


# -- identities ---------------------------------------------------------------

SWAN_FQDN, GW_FQDN = "swan.example.net", "vpngw.example.com"


class Ident:
    """One identity as each side writes it: vpngw's config (local_id /
    remote_id), strongSwan's swanctl.conf, how `swanctl --list-sas` prints
    it and how vpngw's evidence prints it (ike_id_str)."""

    def __init__(self, gw, swan, swan_shows, gw_shows, id_type, data):
        self.gw, self.swan, self.swan_shows, self.gw_shows = gw, swan, swan_shows, gw_shows
        # The ID payload: its type (RFC 7296 3.5, RFC 2407 4.6.2.1) and bytes.
        self.id_type, self.data = id_type, data

    def __repr__(self):
        return self.gw


def fqdn_id(name):
    return Ident(name, name, name, "fqdn:" + name, 2, name.encode())


def user_fqdn_id(name):
    return Ident(name, name, name, "user_fqdn:" + name, 3, name.encode())


def keyid_text(text):
    """KEY_ID with the bytes of text: vpngw's keyid:TEXT, strongSwan's
    keyid: prefix (its identity parser's type prefix; a bare string would be
    an FQDN there)."""
    return Ident("keyid:" + text, "keyid:" + text, text, "keyid:" + text, 11, text.encode())


def keyid_hex(hexstr):
    """KEY_ID with binary bytes: vpngw's keyid:0xHEX, strongSwan's "@#HEX"
    (quoted: # starts a comment in swanctl.conf); strongSwan lists a binary
    KEY_ID as colon-separated hex."""
    pairs = [hexstr[i:i + 2] for i in range(0, len(hexstr), 2)]
    return Ident("keyid:0x" + hexstr, '"@#%s"' % hexstr, ":".join(pairs), "keyid:0x" + hexstr, 11,
                 bytes.fromhex(hexstr))


class Capture:
    """tshark writing a pcap of what matches the capture filter bpf on iface
    in namespace ns, from its construction (capture running) to stop()."""

    def __init__(self, lab, ns, iface, bpf, name):
        self.lab = lab
        self.path = os.path.join(lab.dir, "%s-%d.pcap" % (name, len(lab.results) + 1))
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "tshark", "-q", "-n", "-i", iface,
                                      "-f", bpf, "-w", self.path], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        lab.procs.append(self.proc)
        # dumpcap writes the file's header once it captures.
        end = time.time() + 15
        while not (os.path.exists(self.path) and os.path.getsize(self.path) > 0):
            if self.proc.poll() is not None or time.time() > end:
                raise RuntimeError("tshark on %s did not start: %s" % (
                    iface, self.proc.stderr.read() if self.proc.poll() is not None else "timeout"))
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # tshark flushes the file on SIGINT
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.lab.reap(self.proc)

    def fields(self, display_filter, *fields):
        """The captured packets matching display_filter: one tuple of fields each."""
        cmd = ["tshark", "-n", "-r", self.path, "-Y", display_filter, "-T", "fields"]
        for f in fields:
            cmd += ["-e", f]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("tshark -r %s -Y %r failed: %s" % (self.path, display_filter,
                                                                  r.stderr))
        return [tuple(l.split("\t")) for l in r.stdout.splitlines() if l.strip()]


def ids_up(c, initiator, gw_tail, swan, gw_id, swan_id, opts=None, what="IKE_SA"):
    """Bring the tunnel up with these identities (gw_tail, swan: made with
    them), then: strongSwan's SA names both as it received and sent them,
    the SPIs agree, ping through."""
    st, cs = bring_up(c, initiator, gw_tail, swan, opts=opts,
                      secrets=swan_secrets(ids=(gw_id.swan, swan_id.swan)))
    sa = [s for s in c.charon.list_sas()["vpn"] if s["state"] == "ESTABLISHED"][0]
    c.check(sa.get("local_id") == swan_id.swan_shows and sa.get("remote_id") == gw_id.swan_shows,
            "strongSwan's %s: local '%s', remote '%s' (want '%s', '%s')" % (
                what, sa.get("local_id"), sa.get("remote_id"), swan_id.swan_shows,
                gw_id.swan_shows),
            "\n".join(sa["lines"][:4]))
    check_spis_agree(c, st, cs[-1])
    c.check_ping(count=5)
    return st, cs


def check_ike_sas_deleted(c, timeout=5):
    """Every IKE_SA strongSwan established was deleted again (its log), and
    at some moment within timeout it holds no IKE_SA and no CHILD_SA at all,
    in any state (a retry of the refused peer may come and go)."""
    end = time.time() + timeout
    while True:
        log = c.charon.read_log()
        est = set(re.findall(r"IKE_SA vpn\[(\d+)\] established", log))
        gone = set(re.findall(r"IKE_SA vpn\[(\d+)\] state change: \w+ => DESTROYING", log))
        sas = c.charon.list_sas().get("vpn", [])
        kids = [k for s in sas for k in s["children"]]
        if (est <= gone and not sas and not kids) or time.time() > end:
            break
        time.sleep(0.2)
    c.check(bool(est) and est <= gone,
            "strongSwan deleted every IKE_SA it had established (established %s, destroyed %s)" % (
                sorted(est), sorted(gone)), c.charon.log_tail(25))
    return c.check(not sas and not kids, "strongSwan holds no IKE_SA and no CHILD_SA (%d / %d)" % (
        len(sas), len(kids)), c.charon.list_sas_text())


# -- a real NAT in the wan router (nftables) ----------------------------------

NAT_TABLE = "vpngwnat"  # the wan router's nftables table (NAT, duplication)


def nat_rules(c, rule):
    """The wan router's NAT: one postrouting rule (replacing any before)."""
    nft(c.lab.ns["wan"], "table ip %s\ndelete table ip %s\ntable ip %s {\n"
        " chain post {\n  type nat hook postrouting priority srcnat;\n  %s\n }\n}\n" % (
            NAT_TABLE, NAT_TABLE, NAT_TABLE, rule))


def nat_clear(c):
    nft(c.lab.ns["wan"], "table ip %s\ndelete table ip %s\n" % (NAT_TABLE, NAT_TABLE))
    sh("conntrack", "-F", ns=c.lab.ns["wan"], check=False)


def peer_port(st):
    """The peer's port in vpnctl status ("203.0.113.254:10123"), or None."""
    m = re.search(r":(\d+)$", (st or {}).get("peer") or "")
    return int(m.group(1)) if m else None


def check_gw_log(c, rx, what):
    log = c.gw.read_log()
    return c.check(re.search(rx, log, re.M) is not None, "vpngw's log: %s (/%s/)" % (what, rx),
                   log[-1500:])


def nat_gw_behind(c, gw_tail, swan, opts=None, nat_log=None):
    """vpngw's public address masqueraded by the wan router towards
    strongSwan (whose remote_addrs must be %any); vpngw initiates (gw_tail):
    both detect the NAT (vpngw: it sends keepalives, which it does only
    behind one; nat_log: a regex its log must match too), float to 4500,
    ESP in UDP, traffic passes."""
    router = SWAN_ROUTER
    nat_rules(c, "ip saddr %s oifname \"%s\" masquerade" % (GW_PUB, c.lab.veth[1]))
    try:
        st, cs = bring_up(c, True, gw_tail, swan, opts=opts,
                          env={"VPNGW_IKE_KEEPALIVE_MS": "1000"})
        c.check(c.charon.wait_log(r"remote host is behind NAT", timeout=2) is not None,
                "strongSwan's log: remote host is behind NAT", c.charon.log_tail(20))
        sa = [s for s in c.charon.list_sas()["vpn"] if s["state"] == "ESTABLISHED"][0]
        c.check(sa.get("remote") == "%s[4500]" % router,
                "strongSwan sees vpngw at the NAT's address, floated: %s" % sa.get("remote"),
                "\n".join(sa["lines"][:4]))
        raw = c.charon.swanctl_cmd("--list-sas", "--raw", check=False).stdout
        c.check(re.search(r"\bnat-remote=yes", raw) is not None and
                re.search(r"\bnat-local=yes", raw) is None,
                "strongSwan's list-sas: NAT on vpngw's side only (nat-remote=yes)", raw[:1500])
        c.check(st.get("peer") == "%s:4500" % SWAN_PUB,
                "vpnctl status: peer %s (4500)" % st.get("peer"))
        sas = c.sas()
        c.check(sas and all(x.get("udp_encap") for x in sas),
                "vpngw's SAs are ESP in UDP (%s)" % [x.get("udp_encap") for x in sas])
        ka = count_packets(c.lab.ns["wan"], c.lab.veth[1],
                           "udp and src host %s and dst port 4500 and udp[4:2] = 9 and "
                           "udp[8] = 0xff" % router, 4)
        c.check(len(ka) >= 2, "NAT keepalives from vpngw through the NAT: %d in 4 s (%s)" % (
            len(ka), sorted(set(ka))))
        if nat_log:
            check_gw_log(c, nat_log, "it detected the NAT on its side")
        c.check_ping()
        c.check_iperf(seconds=2)
    finally:
        nat_clear(c)


def nat_swan_behind(c, gw_tail_for, swan, opts=None, moved_log=None, nat_log=None):
    """strongSwan behind the wan router's NAT (source ports 10000-10999)
    initiates (swan: start, DPD every 2 s) to vpngw, whose customer gateway
    is the NAT's address (gw_tail_for(nat_address)); then the NAT's mapping
    changes (ports 20000-20999, conntrack flushed): vpngw follows the peer's
    new port on its next authenticated message (strongSwan's DPD) and
    traffic passes. moved_log: a regex (with %(nat)s, %(p0)d, %(p1)d) vpngw's
    log must match once it moved; nat_log: one it must match once up (its
    NAT detection)."""
    nat = GW_ROUTER
    rule = "meta l4proto udp ip saddr %s ip daddr %s masquerade to :%%s" % (SWAN_PUB, GW_PUB)
    nat_rules(c, rule % "10000-10999")
    try:
        st, cs = bring_up(c, False, gw_tail_for(nat), swan, opts=dict({"keep_alive": "2s"},
                                                                    **(opts or {})))
        p0 = peer_port(st)
        c.check((st.get("peer") or "").startswith(nat + ":") and p0 and 10000 <= p0 <= 10999,
                "vpnctl status: peer %s (the NAT's address and port)" % st.get("peer"))
        c.check(c.charon.wait_log(r"local host is behind NAT", timeout=2) is not None,
                "strongSwan's log: local host is behind NAT", c.charon.log_tail(20))
        raw = c.charon.swanctl_cmd("--list-sas", "--raw", check=False).stdout
        c.check(re.search(r"\bnat-local=yes", raw) is not None,
                "strongSwan's list-sas: NAT on its own side (nat-local=yes)", raw[:1500])
        if nat_log:
            check_gw_log(c, nat_log, "it detected the NAT on the peer's side")
        sas = c.sas()
        c.check(sas and all(x.get("udp_encap") for x in sas),
                "vpngw's SAs are ESP in UDP (%s)" % [x.get("udp_encap") for x in sas])
        c.check_ping(count=5)
        nat_rules(c, rule % "20000-20999")
        sh("conntrack", "-F", ns=c.lab.ns["wan"])
        t0 = time.time()
        st = c.wait_status(CONN, lambda s: (peer_port(s) or 0) >= 20000, timeout=15)
        p1 = peer_port(st)
        c.check(p1 is not None and 20000 <= p1 <= 20999,
                "vpnctl status: peer moved to the new mapping %s in %.1fs (was port %s)" % (
                    (st or {}).get("peer"), time.time() - t0, p0),
                json.dumps(st, indent=1) + "\n" + c.charon.log_tail(15))
        c.check(st is not None and st.get("state") == "phase2 succeeded",
                "still phase2 succeeded (%s)" % (st or {}).get("state"))
        # The old mapping is gone from conntrack: ESP sent to the old port
        # ends in the router, so replies prove vpngw's SAs moved too; the
        # wire on vpngw's side of the NAT says where its ESP went.
        cap = Capture(c.lab, c.lab.ns["wan"], c.gw.tap_pub, "udp port 4500", "nat-moved")
        c.check_ping(count=10, what="ping after the NAT mapping changed")
        cap.stop()
        esp = cap.fields("esp && ip.src == %s" % GW_PUB, "udp.dstport")
        ports = sorted({int(r[0]) for r in esp})
        c.check(ports == [p1], "vpngw's ESP in UDP goes to the new mapping's port %s (seen: %s)" % (
            p1, ports))
        if moved_log:
            check_gw_log(c, moved_log % {"nat": re.escape(nat), "p0": p0, "p1": p1 or 0},
                         "peer moved to the new port")
    finally:
        nat_clear(c)
