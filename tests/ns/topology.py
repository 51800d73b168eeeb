# SPDX-License-Identifier: BSD-3-Clause
"""Two vpngw gateways back to back, each with a LAN host, in network namespaces.

    lan1 (10.1.0.2) --tap-- gw1 [vpngw] --tap-- wan router --tap-- [vpngw] gw2 --tap-- lan2 (10.2.0.2)
                    10.1.0.1      203.0.113.1  .254 | .254  198.51.100.1     10.2.0.1

Both gateways run in the root namespace with net_tap ports (DPDK makes the
tap devices); once their ports have started, the taps are moved into the
namespaces (INTEROP.md: a tap moved before port start carries nothing).
The wan namespace routes between the two public subnets, as the Internet
would. Names carry a random suffix so runs never clash; close() undoes
everything, also after a failure.

A gateway's tunnels are static SAs (sa: a dict, see Gateway) or any YAML
after the gateway section (sa: a str, e.g. customer_gateways and
connections for IKE: tests/ike). attach() and detach() move one gateway's
taps into and out of the namespaces, for topologies of other shapes.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from daemonctl import api, free_port, terminate  # noqa: E402


def sh(*args, check=True, ns=None, timeout=60, capture=True):
    cmd = list(args)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def static_sa_yaml(idx, lan_net, peer_pub, remote_net, sa):
    """The static_sas section of one gateway: sa holds encryption, integrity,
    udp_encap, out_/in_ spi, key and auth (None for AEAD)."""
    return f"""static_sas:
  - name: tun{idx}
    peer: {peer_pub}
    local_subnets: [{lan_net}]
    remote_subnets: [{remote_net}]
    encryption: {sa["encryption"]}
    integrity: {sa["integrity"]}
    udp_encap: {"true" if sa["udp_encap"] else "false"}
    out: {{spi: {sa["out_spi"]}, enc_key: "{sa["out_key"]}"{', auth_key: "%s"' % sa["out_auth"] if sa["out_auth"] else ""}}}
    in:  {{spi: {sa["in_spi"]}, enc_key: "{sa["in_key"]}"{', auth_key: "%s"' % sa["in_auth"] if sa["in_auth"] else ""}}}
"""


def attach(gw, wan_ns, router, lan_ns, host):
    """Once gw's ports have started: its public tap into wan_ns with address
    router/24 (the gateway's next hop), its LAN tap into lan_ns with address
    host/24 and a default route via the gateway."""
    sh("ip", "link", "set", gw.tap_pub, "netns", wan_ns)
    sh("ip", "addr", "add", router + "/24", "dev", gw.tap_pub, ns=wan_ns)
    sh("ip", "link", "set", gw.tap_pub, "up", ns=wan_ns)
    sh("ip", "link", "set", gw.tap_lan, "netns", lan_ns)
    sh("ip", "addr", "add", host + "/24", "dev", gw.tap_lan, ns=lan_ns)
    sh("ip", "link", "set", gw.tap_lan, "up", ns=lan_ns)
    sh("ip", "route", "add", "default", "via", gw.lan, ns=lan_ns)


def detach(gw, wan_ns, lan_ns):
    """gw's taps back to the root namespace (before a namespace is deleted:
    that would destroy a tap under DPDK's feet). Quiet when already gone."""
    for tap, ns in ((gw.tap_pub, wan_ns), (gw.tap_lan, lan_ns)):
        sh("ip", "link", "set", tap, "netns", "1", ns=ns, check=False)


class Gateway:
    def __init__(self, topo, idx, pub, pub_gw, lan, lan_net, peer_pub, remote_net, sa):
        self.topo, self.idx = topo, idx
        s = topo.suffix
        self.tap_pub = "v%dp%s" % (idx, s)
        self.tap_lan = "v%dl%s" % (idx, s)
        self.dir = os.path.join(topo.dir, "gw%d" % idx)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "vpngw.sock")
        self.metrics_port = free_port()
        self.cfg = os.path.join(self.dir, "vpngw.yaml")
        self.log = os.path.join(self.dir, "vpngw.log")
        self.pub, self.lan = pub, lan
        if isinstance(sa, str):
            tunnels = sa
        else:
            tunnels = static_sa_yaml(idx, lan_net, peer_pub, remote_net, sa)
        with open(self.cfg, "w") as f:
            f.write(f"""gateway:
  name: gw{idx}
  workers: {topo.workers}
  poll_mode: adaptive
  ports:
    - name: wan
      device: "net_tap0,iface={self.tap_pub}"
      role: public
      address: {pub}/24
      gateway: {pub_gw}
    - name: lan
      device: "net_tap1,iface={self.tap_lan}"
      role: private
      address: {lan}/24
  control_socket: {self.sock}
  metrics_listen: 127.0.0.1:{self.metrics_port}
""" + tunnels)
        self.proc = None
        self.file_prefix = "vpngw%d%s" % (idx, topo.suffix)

    def start(self):
        # lcore i on cpu i % ncpu: more lcores than cores is fine in adaptive mode
        # (EAL refuses "-l 0-2" on two cores).
        ncpu = os.cpu_count() or 1
        lcores = ",".join("%d@%d" % (i, i % ncpu) for i in range(self.topo.workers + 1))
        eal = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", self.file_prefix,
               "--lcores", lcores, "--log-level", "*:warning"]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([self.topo.vpngw, "--config", self.cfg, "--"] + eal,
                                     stdout=self.logf, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=30):
        """The control socket answers once ports have started."""
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("gw%d exited with %d:\n%s" % (self.idx, self.proc.returncode, self.read_log()))
            try:
                self.api("stats")
                if os.path.exists("/sys/class/net/%s" % self.tap_pub) and \
                   os.path.exists("/sys/class/net/%s" % self.tap_lan):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gw%d not ready in %ds:\n%s" % (self.idx, timeout, self.read_log()))

    def api(self, cmd, args=None, timeout=5):
        return api(self.sock, cmd, args, timeout, who="gw%d" % self.idx)

    def telemetry(self, cmd):
        """One command on DPDK's telemetry socket of this gateway (JSON)."""
        path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % self.file_prefix
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        try:
            s.connect(path)
            s.recv(1024)  # the greeting: version, pid, max_output_len
            s.send(cmd.encode())
            return json.loads(s.recv(1 << 20))
        finally:
            s.close()

    def metrics(self):
        r = sh("curl", "-sf", "http://127.0.0.1:%d/metrics" % self.metrics_port)
        return r.stdout

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        return terminate(self.proc, timeout=15) if self.proc else None


class Topology:
    def __init__(self, vpngw, sa1, sa2, workers=1):
        self.vpngw = vpngw
        self.workers = workers
        self.suffix = secrets.token_hex(2)
        self.dir = tempfile.mkdtemp(prefix="vpngw-ns-")
        self.ns = {k: "%s%s" % (k, self.suffix) for k in ("lan1", "lan2", "wan")}
        self.gws = [
            Gateway(self, 1, "203.0.113.1", "203.0.113.254", "10.1.0.1", "10.1.0.0/24",
                    "198.51.100.1", "10.2.0.0/24", sa1),
            Gateway(self, 2, "198.51.100.1", "198.51.100.254", "10.2.0.1", "10.2.0.0/24",
                    "203.0.113.1", "10.1.0.0/24", sa2),
        ]

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
        for gw in self.gws:
            gw.start()
        for gw in self.gws:
            gw.wait_ready()
        wan = self.ns["wan"]
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=wan)
        for gw, lan, host, router in ((self.gws[0], self.ns["lan1"], "10.1.0.2", "203.0.113.254"),
                                      (self.gws[1], self.ns["lan2"], "10.2.0.2", "198.51.100.254")):
            attach(gw, wan, router, lan, host)

    def close(self):
        # Taps go back to the root namespace before the namespaces go
        # (deleting a namespace destroys a tap inside it under DPDK's feet).
        for gw in self.gws:
            detach(gw, self.ns["wan"], self.ns["lan%d" % gw.idx])
        codes = [gw.stop() for gw in self.gws]
        for ns in self.ns.values():
            sh("ip", "netns", "del", ns, check=False)
        self.exit_codes = codes
        if os.environ.get("VPNGW_KEEP_LOGS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        return codes
