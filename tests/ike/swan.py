# SPDX-License-Identifier: BSD-3-Clause
"""strongSwan's charon as an IKE peer in a network namespace (INTEROP.md).

The kernel here has no XFRM, so charon runs with the kernel-libipsec plugin
(userspace ESP through a TUN device, always UDP-encapsulated on 4500).
Each charon gets its own mount namespace with a private /run (its pid file
and sockets have fixed paths there), its own strongswan.conf, vici socket
and log file in a directory of ours. Connections are described as Python
dicts and written as swanctl.conf:

    c = Charon(ns, dir)
    c.start(conns={"vpn": {"version": 2, "local_addrs": "198.51.100.2", ...,
                           "local": {"auth": "psk", "id": "198.51.100.2"},
                           "remote": {"auth": "psk", "id": "203.0.113.1"},
                           "children": {"net": {"local_ts": ["10.2.0.0/24"], ...}}}},
            secrets={"ike-1": {"id-1": "203.0.113.1", "secret": "s3cret"}})
    c.wait_child("vpn", "net")
    c.stop()

Values: a list is written comma separated, a bool as yes/no, a dict as a
section. Nothing here knows vpngw: tests/ike/interop.py puts the two
together.
"""

import os
import re
import signal
import subprocess
import time

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"

# INTEROP.md: an explicit plugin list (Debian's build has no separate
# curve25519/chapoly plugins: openssl brings X25519 and ChaCha20-Poly1305;
# 3DES for the IKEv1 3des-md5 case comes from openssl too).
PLUGINS = ("random nonce openssl pem pkcs1 x509 pubkey sha1 sha2 md5 hmac gmp kdf aes gcm "
           "kernel-libipsec kernel-netlink socket-default vici")


def _value(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


def swanctl_conf(tree, indent=0):
    """A nested dict as swanctl.conf text (one setting per line: swanctl.conf
    has no ';' separator)."""
    pad = "  " * indent
    out = []
    for k, v in tree.items():
        if isinstance(v, dict):
            out.append("%s%s {" % (pad, k))
            out.append(swanctl_conf(v, indent + 1))
            out.append("%s}" % pad)
        elif v is not None:
            out.append("%s%s = %s" % (pad, k, _value(v)))
    return "\n".join(x for x in out if x != "")


def parse_list_sas(text):
    """`swanctl --list-sas` output as {ike_name: [ike_sa, ...]}, each IKE SA a
    dict: uniqueid, state, version, local, remote, lines (its text) and
    children: [{name, uniqueid, state, mode, proto, lines, local_ts,
    remote_ts, spi_in, spi_out, packets_in, packets_out}]."""
    sas = {}
    ike = child = None
    for line in text.splitlines():
        m = re.match(r"^(\S+): #(\d+), (\w+), IKEv(\d)", line)
        if m:
            ike = dict(name=m.group(1), uniqueid=int(m.group(2)), state=m.group(3),
                       version=int(m.group(4)), lines=[line], children=[])
            sas.setdefault(ike["name"], []).append(ike)
            child = None
            continue
        if ike is None:
            continue
        ike["lines"].append(line)
        m = re.match(r"^  (\S+): #(\d+), reqid \d+, (\w+), (\S+), (\S+)", line)
        if m:
            child = dict(name=m.group(1), uniqueid=int(m.group(2)), state=m.group(3),
                         mode=m.group(4), proto=m.group(5), lines=[line],
                         local_ts=[], remote_ts=[], spi_in=None, spi_out=None,
                         packets_in=0, packets_out=0)
            ike["children"].append(child)
            continue
        if child is None:
            m = re.match(r"^  (local|remote)\s+'([^']*)' @ (\S+)", line)
            if m:
                ike[m.group(1)] = m.group(3)
                ike[m.group(1) + "_id"] = m.group(2)
            continue
        child["lines"].append(line)
        m = re.match(r"^    (in|out)\s+([0-9a-f]{8})[^,]*,\s+(\d+) bytes,\s+(\d+) packets", line)
        if m:
            child["spi_" + m.group(1)] = m.group(2)
            child["packets_" + m.group(1)] = int(m.group(4))
            continue
        m = re.match(r"^    (local|remote)\s+(.*)$", line)
        if m:
            child[m.group(1) + "_ts"] = m.group(2).split()
    return sas


class Charon:
    """One charon in network namespace ns, files under dir."""

    def __init__(self, ns, dir, name="charon"):
        self.ns, self.name = ns, name
        self.dir = os.path.join(dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "strongswan.conf")
        self.swanctl = os.path.join(self.dir, "swanctl.conf")
        self.vici = os.path.join(self.dir, "vici")
        self.log = os.path.join(self.dir, "charon.log")
        self.uri = "unix://" + self.vici
        self.proc = None
        self.log_offset = 0

    def write(self, conns, secrets, charon_opts=None):
        opts = {
            "load": PLUGINS,
            "install_routes": True,
            # Quick verdicts for tests: 3 retransmits 1 s apart, then give up.
            "retransmit_timeout": 1.0,
            "retransmit_base": 1.4,
            "retransmit_tries": 3,
            # A new charon here must not wait for the entropy pool.
            "plugins": {
                "vici": {"socket": self.uri},
                "random": {"urandom": "/dev/urandom", "random": "/dev/urandom"},
            },
            "filelog": {"log": {"path": self.log, "time_format": "%H:%M:%S", "default": 1,
                                "ike": 2, "cfg": 2, "knl": 1, "esp": 1, "flush_line": True}},
        }
        opts.update(charon_opts or {})
        # swanctl reads the same file (STRONGSWAN_CONF): a short plugin list
        # keeps Debian's default one from printing load failures.
        tools = {"load": "random nonce openssl pem pkcs1 x509 pubkey"}
        with open(self.conf, "w") as f:
            f.write(swanctl_conf({"charon": opts, "swanctl": tools}) + "\n")
        with open(self.swanctl, "w") as f:
            f.write(swanctl_conf({"connections": conns, "secrets": secrets}) + "\n")

    def start(self, conns, secrets, charon_opts=None, timeout=15):
        """Write the config, start charon and load the connections."""
        self.write(conns, secrets, charon_opts)
        if os.path.exists(self.vici):
            os.unlink(self.vici)
        if os.path.exists(self.log):
            # An earlier start's log stays for VPNGW_KEEP_LOGS readers.
            self.starts = getattr(self, "starts", 0) + 1
            os.rename(self.log, "%s.%d" % (self.log, self.starts))
        self.log_offset = 0
        # ip netns exec, unshare and sh all exec: self.proc.pid is charon's.
        cmd = ["ip", "netns", "exec", self.ns, "unshare", "-m", "sh", "-c",
               "mount -t tmpfs tmpfs /run && STRONGSWAN_CONF=%s exec %s" % (self.conf, CHARON)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        end = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %d:\n%s" % (self.name, self.proc.returncode,
                                                               self.log_tail()))
            if os.path.exists(self.vici):
                r = self.swanctl_cmd("--stats", check=False)
                if r.returncode == 0:
                    break
            if time.time() > end:
                raise RuntimeError("%s: no vici socket in %ds:\n%s" % (self.name, timeout,
                                                                        self.log_tail()))
            time.sleep(0.1)
        self.swanctl_cmd("--load-all", "--file", self.swanctl)

    def swanctl_cmd(self, *args, check=True, timeout=30):
        r = subprocess.run([SWANCTL] + list(args) + ["--uri", self.uri], capture_output=True,
                           text=True, timeout=timeout, env=dict(os.environ, STRONGSWAN_CONF=self.conf))
        if check and r.returncode != 0:
            raise RuntimeError("%s: swanctl %s failed (%d): %s%s\n%s" % (
                self.name, " ".join(args), r.returncode, r.stdout, r.stderr, self.log_tail()))
        return r

    def initiate(self, child=None, ike=None, timeout=20):
        """Start a connection (blocking until done or failed); returns the
        swanctl result (check its returncode)."""
        args = ["--initiate", "--timeout", str(timeout)]
        if child:
            args += ["--child", child]
        if ike:
            args += ["--ike", ike]
        return self.swanctl_cmd(*args, check=False, timeout=timeout + 10)

    def rekey(self, child=None, ike=None):
        """Ask charon to rekey a CHILD_SA or IKE_SA now (returns at once)."""
        args = ["--rekey"] + (["--child", child] if child else ["--ike", ike])
        return self.swanctl_cmd(*args, check=False)

    def count_log(self, pattern, since=0):
        return len(re.findall(pattern, self.read_log(since)))

    def terminate_ike(self, ike):
        return self.swanctl_cmd("--terminate", "--ike", ike, "--timeout", "5", check=False)

    def list_sas(self):
        r = self.swanctl_cmd("--list-sas", check=False)
        return parse_list_sas(r.stdout) if r.returncode == 0 else {}

    def list_sas_text(self):
        # stderr carries swanctl's own plugin-load noise: not ours to show.
        r = self.swanctl_cmd("--list-sas", check=False)
        return r.stdout if r.returncode == 0 else r.stdout + r.stderr

    def children(self, ike, child=None, state="INSTALLED"):
        """Installed children of established IKE SAs named ike (child: that name)."""
        out = []
        for sa in self.list_sas().get(ike, []):
            if sa["state"] != "ESTABLISHED":
                continue
            for c in sa["children"]:
                if (child is None or c["name"] == child) and (state is None or c["state"] == state):
                    out.append(c)
        return out

    def wait_child(self, ike, child=None, timeout=20, count=1):
        """Wait until at least count children are installed; returns them, or
        [] on timeout."""
        end = time.time() + timeout
        while True:
            cs = self.children(ike, child)
            if len(cs) >= count:
                return cs
            if time.time() > end or (self.proc and self.proc.poll() is not None):
                return []
            time.sleep(0.3)

    def wait_log(self, pattern, timeout=20, since=0):
        """Wait for a regex in the log (from byte offset since); the match or None."""
        end = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.read_log(since))
            if m:
                return m
            if time.time() > end:
                return None
            time.sleep(0.3)

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def read_log(self, since=0):
        try:
            with open(self.log, errors="replace") as f:
                f.seek(since)
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=40, since=0):
        """The last lines of the log, without the connection dumps of a load
        (indented [CFG] lines) and vici chatter: what a reader needs."""
        keep = [l for l in self.read_log(since).splitlines()
                if not re.search(r"\[CFG\]\s{2,}|\[CFG\] vici client|\[CFG\] conn \S+:$", l)]
        return "\n".join(keep[-lines:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a crash: no DELETE goes to the peer."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        self._tidy_ns()

    def stop(self, timeout=10):
        """SIGTERM (charon needs about 2 s), SIGKILL after timeout."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._tidy_ns()

    def _tidy_ns(self):
        # A killed charon leaves its "lookup 220" rule and routes (INTEROP.md);
        # a later charon would warn and stack another rule.
        for _ in range(4):
            r = subprocess.run(["ip", "netns", "exec", self.ns, "ip", "rule", "del", "table", "220"],
                               capture_output=True)
            if r.returncode != 0:
                break
        subprocess.run(["ip", "netns", "exec", self.ns, "ip", "route", "flush", "table", "220"],
                       capture_output=True)


def ping(ns, dst, count=10, interval=0.2, src=None, wait=2, size=None):
    """Pings from namespace ns; returns (received, output). Counts replies:
    ping -c exits 0 even with losses (INTEROP.md)."""
    cmd = ["ip", "netns", "exec", ns, "ping", "-n", "-c", str(count), "-i", str(interval),
           "-W", str(wait)]
    if src:
        cmd += ["-I", src]
    if size:
        cmd += ["-s", str(size)]
    r = subprocess.run(cmd + [dst], capture_output=True, text=True,
                       timeout=count * (interval + wait) + 10)
    m = re.search(r"(\d+) received", r.stdout)
    got = int(m.group(1)) if m else 0
    out = (r.stdout + r.stderr).strip()
    if got < count:
        seen = {int(x) for x in re.findall(r"icmp_seq=(\d+) ", r.stdout)}
        missing = [i for i in range(1, count + 1) if i not in seen]
        out += "\nno reply to icmp_seq %s (sent every %ss)" % (
            ",".join(map(str, missing[:40])) + ("..." if len(missing) > 40 else ""), interval)
    return got, out
