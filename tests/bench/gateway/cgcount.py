#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Instructions per packet from a callgrind output of vpngw's worker.

  cgcount.py CALLGRIND_OUT TOP TITLE

Reads callgrind's own format: "fn=(id) name" starts a function's costs,
"cfn=" and "calls=N ..." name a call whose inclusive cost is the next cost
line (not the caller's own), "ob=" / "cob=" name the objects; a name is
given once with its id, then by the id alone. Packets are the RX bursts
(calls into net_pcap, the input port) times 32: net_pcap's infinite_rx
fills every burst; the call counts of dp_classify_burst, dp_outb_submit
and dp_inb_submit, where they are still functions, are checked against
that.
"""

import re
import sys


def main():
    out, top, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    names = {"ob": {}, "fn": {}}
    self_ir, calls, total = {}, {}, 0
    ob = cob = fn = cfn = None
    after_call = False

    def name(kind, v):
        m = re.match(r"\((\d+)\)(?: (.*))?$", v)
        if not m:
            return v
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), v)

    with open(out, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            key, eq, val = line.partition("=")
            if eq and key in ("ob", "cob", "fn", "cfn"):
                v = name("ob" if key in ("ob", "cob") else "fn", val)
                if key == "ob":
                    ob = cob = v.rsplit("/", 1)[-1]
                elif key == "cob":
                    cob = v.rsplit("/", 1)[-1]
                elif key == "fn":
                    fn, cob = (v, ob), ob
                else:
                    cfn = (v, cob)
                continue
            if eq and key == "calls":
                calls[cfn] = calls.get(cfn, 0) + int(val.split()[0])
                after_call = True
                continue
            if line and line[0] in "0123456789+-*":
                parts = line.split()
                ir = int(parts[1]) if len(parts) > 1 else 0
                if after_call:
                    after_call = False
                    cob = ob
                    continue
                self_ir[fn] = self_ir.get(fn, 0) + ir
                total += ir

    def ncalls(f):
        return sum(v for (n, _), v in calls.items() if n == f)

    # RX bursts: calls into net_pcap (the input; the output is net_null).
    pkts = 32 * sum(v for (_, o), v in calls.items() if o and "librte_net_pcap" in o)
    if pkts == 0:
        sys.exit("cgcount.py: no RX bursts counted")
    for f in ("dp_classify_burst", "dp_outb_submit", "dp_inb_submit"):
        c = ncalls(f)
        if c and c * (32 if f == "dp_classify_burst" else 1) != pkts:
            print("note: %s called %d times, %d packets from the bursts" % (f, c, pkts))
    print("%s: %d packets, %.1f Ir/packet in the worker" % (what, pkts, total / pkts))
    for (n, o), ir in sorted(self_ir.items(), key=lambda kv: -kv[1])[:top]:
        print("%8.1f  %-40s %s" % (ir / pkts, n, o))


if __name__ == "__main__":
    main()
