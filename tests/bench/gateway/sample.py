#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Packet rate of one DPDK port, read from the process's rte_telemetry socket.

  sample.py RUNTIME_DIR TX_PORT RX_PORT WAIT WARMUP SECONDS [PID]

RUNTIME_DIR is /var/run/dpdk/<file-prefix>; ports are given by their
ethdev names (net_null0, net_pcap0), looked up in /ethdev/info. Waits up to WAIT seconds for
the socket and for TX_PORT to transmit, lets WARMUP seconds pass, then
reads /ethdev/stats of both ports SECONDS apart. Prints one line:
  tx_pps=... rx_pps=... tx_packets=... rx_missed=... rx_nombuf=... tx_errors=... cpu_share=...
and exits 1 with a message on stderr when the port never transmits or the
program (PID) exits first.

cpu_share is the CPU time the program's busiest thread (its polling
worker) got over the same interval, as a fraction of it, from
/proc/PID/task/*/schedstat ("-" without PID). On a shared machine a poll
loop is preempted by other work; tx_pps / cpu_share is then the rate per
second of worker CPU time, which that preemption does not change.
"""

import json
import os
import socket
import sys
import time


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.connect(path)
    # The server greets with its version, pid and max_output_len.
    json.loads(sock.recv(1 << 16).decode())
    return sock


def query(sock, cmd):
    sock.send(cmd.encode())
    reply = json.loads(sock.recv(1 << 20).decode())
    return reply


def stats(sock, port):
    reply = query(sock, "/ethdev/stats,%d" % port)
    data = reply.get("/ethdev/stats")
    if not isinstance(data, dict):
        raise RuntimeError("no /ethdev/stats for port %d: %r" % (port, reply))
    return data


def port_id(sock, name):
    for port in query(sock, "/ethdev/list").get("/ethdev/list") or []:
        info = query(sock, "/ethdev/info,%d" % port).get("/ethdev/info") or {}
        if info.get("name") == name:
            return port
    raise RuntimeError("no port named %s yet" % name)


def thread_cpu_ns(pid):
    """CPU nanoseconds of every thread of pid, by thread id."""
    times = {}
    if not pid:
        return times
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return times
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid), encoding="ascii") as f:
                times[tid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # the thread ended meanwhile
    return times


def check_alive(pid):
    if pid and not os.path.exists("/proc/%d" % pid):
        sys.exit("sample.py: the program (pid %d) exited" % pid)


def main():
    if len(sys.argv) not in (7, 8):
        sys.exit("usage: sample.py RUNTIME_DIR TX_PORT RX_PORT WAIT WARMUP SECONDS [PID]")
    pid = int(sys.argv[7]) if len(sys.argv) == 8 else 0
    rundir, tx_name, rx_name = sys.argv[1:4]
    wait, warmup, seconds = (float(a) for a in sys.argv[4:7])
    path = os.path.join(rundir, "dpdk_telemetry.v2")
    deadline = time.monotonic() + wait
    sock = None
    while sock is None:
        try:
            sock = connect(path)
        except OSError:
            check_alive(pid)
            if time.monotonic() > deadline:
                sys.exit("sample.py: no telemetry socket at %s after %.0f s" % (path, wait))
            time.sleep(0.2)
    tx_port = rx_port = None
    while True:
        try:
            if tx_port is None:
                tx_port, rx_port = port_id(sock, tx_name), port_id(sock, rx_name)
            if stats(sock, tx_port)["opackets"] > 0:
                break
        except RuntimeError:
            pass  # ports not there yet
        check_alive(pid)
        if time.monotonic() > deadline:
            sys.exit("sample.py: port %s transmitted nothing in %.0f s" % (tx_name, wait))
        time.sleep(0.2)
    time.sleep(warmup)
    c0 = thread_cpu_ns(pid)
    t0 = time.monotonic()
    tx0, rx0 = stats(sock, tx_port), stats(sock, rx_port)
    time.sleep(seconds)
    t1 = time.monotonic()
    tx1, rx1 = stats(sock, tx_port), stats(sock, rx_port)
    c1 = thread_cpu_ns(pid)
    dt = t1 - t0
    busiest = max((c1[t] - c0.get(t, c1[t]) for t in c1), default=0)
    share = "%.4f" % min(busiest / 1e9 / dt, 1.0) if busiest > 0 else "-"
    print("tx_pps=%.0f rx_pps=%.0f tx_packets=%d rx_missed=%d rx_nombuf=%d tx_errors=%d "
          "cpu_share=%s" %
          ((tx1["opackets"] - tx0["opackets"]) / dt, (rx1["ipackets"] - rx0["ipackets"]) / dt,
           tx1["opackets"], rx1["imissed"], rx1["rx_nombuf"], tx1["oerrors"], share))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as e:  # the program exited under us
        sys.exit("sample.py: telemetry connection lost: %s" % e)
