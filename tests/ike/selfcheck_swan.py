# SPDX-License-Identifier: BSD-3-Clause
"""Harness self-check: two strongSwan charons (kernel-libipsec) in two
network namespaces joined by a veth pair, IKEv2 PSK, ping through the
tunnel. Proves the recipe of INTEROP.md and tests/ike/swan.py on this
machine before vpngw is put in front of it.

    left (192.0.2.1, LAN 10.8.0.1 on lo) --veth-- right (192.0.2.2, LAN 10.9.0.1 on lo)

Usage: selfcheck_swan.py  (root)
"""

import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

from swan import Charon, ping


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr))
    return r


def conn(me, peer, my_lan, peer_lan, start):
    return {"vpn": {
        "version": 2, "local_addrs": me, "remote_addrs": peer,
        "proposals": "aes128-sha256-modp2048",
        "local": {"auth": "psk", "id": me}, "remote": {"auth": "psk", "id": peer},
        "children": {"net": {"local_ts": my_lan, "remote_ts": peer_lan,
                             "esp_proposals": "aes128gcm16",
                             "start_action": "start" if start else "none"}}}}


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    sfx = secrets.token_hex(2)
    ns = {"left": "swl" + sfx, "right": "swr" + sfx}
    d = tempfile.mkdtemp(prefix="vpngw-swan-")
    charons = []
    ok = False
    try:
        for n in ns.values():
            sh("ip", "netns", "add", n)
            sh("ip", "link", "set", "lo", "up", ns=n)
        sh("ip", "link", "add", "swa" + sfx, "netns", ns["left"], "type", "veth", "peer", "name",
           "swb" + sfx, "netns", ns["right"])
        for n, dev, addr, lan in ((ns["left"], "swa" + sfx, "192.0.2.1/24", "10.8.0.1/24"),
                                  (ns["right"], "swb" + sfx, "192.0.2.2/24", "10.9.0.1/24")):
            sh("ip", "addr", "add", addr, "dev", dev, ns=n)
            sh("ip", "link", "set", dev, "up", ns=n)
            sh("ip", "addr", "add", lan, "dev", "lo", ns=n)  # before charon starts
        psk = {"ike-1": {"id-1": "192.0.2.1", "id-2": "192.0.2.2", "secret": "selfcheck-psk"}}
        right = Charon(ns["right"], d, "right")
        charons.append(right)
        right.start(conn("192.0.2.2", "192.0.2.1", "10.9.0.0/24", "10.8.0.0/24", False), psk)
        left = Charon(ns["left"], d, "left")
        charons.append(left)
        left.start(conn("192.0.2.1", "192.0.2.2", "10.8.0.0/24", "10.9.0.0/24", True), psk)
        cs = left.wait_child("vpn", "net", timeout=20)
        print("left children: %s" % [(c["name"], c["mode"], c["proto"]) for c in cs])
        got, out = ping(ns["left"], "10.9.0.1", count=5, src="10.8.0.1")
        print(out.splitlines()[-2] if out else "")
        ok = bool(cs) and got == 5
        if not ok:
            print(left.list_sas_text())
            print(left.log_tail(30))
            print(right.log_tail(30))
    finally:
        for c in charons:
            c.stop()
        for n in ns.values():
            sh("ip", "netns", "del", n, check=False)
        shutil.rmtree(d, ignore_errors=True)
    print("%s swan-to-swan IKEv2 PSK, ping through kernel-libipsec" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
