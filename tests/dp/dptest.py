# SPDX-License-Identifier: BSD-3-Clause
"""Shared pieces of the dp tests (pcap in -> pcap out through the real
daemon): checks counted in faults, the daemon on net_pcap ports with its
EAL arguments, waiting for its API and for its input to be consumed,
/metrics, pcap files and tshark."""

import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from daemonctl import api, free_port, terminate  # noqa: E402

from scapy.all import PcapWriter, rdpcap  # noqa: E402

__all__ = ["Daemon", "api", "check", "eal_args", "empty_pcap", "faults", "free_port",
           "metrics", "read_pcaps", "run_tshark", "static_sa_yaml", "terminate"]

faults = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        faults.append(what)


def eal_args(file_prefix, workers):
    """No hugepages or PCI; lcores may share CPUs (this box may have two):
    the config asks for adaptive polling."""
    return ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", file_prefix,
            "--lcores", ",".join("%d@%d" % (i, i % min(2, os.cpu_count()))
                                 for i in range(workers + 1)),
            "--log-level", "lib.eal:error"]


class Daemon:
    """vpngw with cfg_text written to BASE.yaml, its output in BASE.log."""

    def __init__(self, vpngw, cfg_text, sock, base, file_prefix, workers=1):
        self.sock = sock
        cfg = base + ".yaml"
        with open(cfg, "w") as f:
            f.write(cfg_text)
        self.logpath = base + ".log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([vpngw, "--config", cfg, "--"] +
                                     eal_args(file_prefix, workers),
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, cmd, args=None, timeout=5):
        return api(self.sock, cmd, args, timeout)

    def wait_api(self, timeout=60):
        """Stats, once the control socket answers."""
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("vpngw exited with %d:\n%s" % (self.proc.returncode,
                                                                  self.read_log()[-4000:]))
            try:
                return self.api("stats")
            except (OSError, ValueError, RuntimeError):
                time.sleep(0.2)
        raise RuntimeError("vpngw API not up:\n" + self.read_log()[-4000:])

    def wait_rx(self, expect, timeout=60):
        """(stats, packets received) once at least expect packets came in and
        the count stood still for three polls (or timeout seconds passed)."""
        end, last, stable, stats = time.time() + timeout, -1, 0, None
        while time.time() < end and stable < 3:
            time.sleep(0.2)
            stats = self.wait_api()
            rx = sum(w["rx_packets"] for w in stats["workers"])
            stable = stable + 1 if rx == last and rx >= expect else 0
            last = rx
        return stats, last

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def stop(self):
        rc = terminate(self.proc)
        self.log.close()
        return rc


def static_sa_yaml(name, peer, local, remote, encryption, integrity, udp_encap,
                   out_spi, out_key, out_auth, in_spi, in_key, in_auth):
    """One static_sas entry of the config; an auth key of "" is left out."""
    def keys(spi, key, auth):
        return '{spi: 0x%x, enc_key: "%s"%s}' % (spi, key,
                                                  ', auth_key: "%s"' % auth if auth else "")
    return """  - name: %s
    peer: %s
    local_subnets: [%s]
    remote_subnets: [%s]
    encryption: %s
    integrity: %s
    udp_encap: %s
    out: %s
    in: %s
""" % (name, peer, local, remote, encryption, integrity, "true" if udp_encap else "false",
       keys(out_spi, out_key, out_auth), keys(in_spi, in_key, in_auth))


def metrics(port):
    return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                  timeout=5).read().decode()


def empty_pcap(path):
    PcapWriter(path, linktype=1, sync=True).close()
    open(path, "ab").close()


def read_pcaps(d, name, queues):
    """The packets of NAME_out0.pcap .. NAME_out<queues-1>.pcap in d."""
    pkts = []
    for q in range(queues):
        p = os.path.join(d, "%s_out%d.pcap" % (name, q))
        if os.path.exists(p) and os.path.getsize(p) > 24:
            pkts += list(rdpcap(p))
    return pkts


def run_tshark(cmd):
    """tshark with an empty home: no user preferences change what it decodes."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
