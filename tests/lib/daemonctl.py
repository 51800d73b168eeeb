# SPDX-License-Identifier: BSD-3-Clause
"""Talking to a running vpngw daemon, shared by the dp and ns tests: the JSON
API over its control socket, a free TCP port for metrics_listen, and a
SIGTERM stop. Scripts reach it by putting this folder on sys.path from their
own location."""

import json
import signal
import socket
import subprocess


def api(sock, cmd, args=None, timeout=5, who="api"):
    """One request on the control socket: its result, or RuntimeError
    "WHO CMD: error" when the daemon answers ok: false."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        s.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    r = json.loads(buf)
    if not r.get("ok"):
        raise RuntimeError("%s %s: %s" % (who, cmd, r.get("error")))
    return r["result"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def terminate(proc, timeout=30):
    """SIGTERM, then SIGKILL after timeout seconds: the exit status (-9 when
    it had to be killed); the status it already had if it has exited."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -int(signal.SIGKILL)
    return proc.returncode
