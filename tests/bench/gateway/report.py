#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Markdown table of `scripts/bench.sh gateway` from its samples.

  report.py RESULTS.tsv META.json TSC_HZ RUNS SECONDS

RESULTS.tsv lines: DIR ALG SIZE PROG RUN PPS [SHARE] (PROG secgw or vpngw;
PPS "-" when that program did not run; SHARE the CPU share its worker
thread got, "-" unknown). Medians per row; Gbps counts inner IPv4 bytes
(net_null counts none: computed from the pcap's known sizes);
cycles/packet is TSC Hz / pps for the one worker core.

A second table divides each run's rate by its worker's CPU share: packets
per second of worker CPU time. On a shared machine other processes take
turns on the worker's core, unevenly between runs; this rate is what the
program does while it runs, and the ratio of the two is the steadier one.
"""

import json
import platform
import statistics
import sys

ALG_NAMES = {"gcm": "AES-128-GCM", "cbc": "AES-128-CBC+HMAC-SHA1-96"}
DIR_NAMES = {"enc": "encrypt", "dec": "decrypt"}
SIZE_ORDER = ["64", "512", "1420", "IMIX"]
TARGETS = {"64": 1.3, "1420": 1.05}


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: report.py RESULTS.tsv META.json TSC_HZ RUNS SECONDS")
    results, meta_path, tsc_hz, runs, seconds = sys.argv[1:]
    tsc_hz = float(tsc_hz)
    with open(meta_path, encoding="ascii") as f:
        meta = json.load(f)
    samples = {}
    per_cpu = {}
    shares = {}
    order = []
    with open(results, encoding="ascii") as f:
        for line in f:
            fields = line.split()
            d, alg, size, prog, _run, pps = fields[:6]
            share = fields[6] if len(fields) > 6 else "-"
            row = (d, alg, size)
            if row not in samples:
                samples[row] = {"secgw": [], "vpngw": []}
                per_cpu[row] = {"secgw": [], "vpngw": []}
                shares[row] = {"secgw": [], "vpngw": []}
                order.append(row)
            if pps != "-":
                samples[row][prog].append(float(pps))
                if share != "-" and float(share) > 0:
                    per_cpu[row][prog].append(float(pps) / float(share))
                    shares[row][prog].append(float(share))
    order.sort(key=lambda r: (r[0] != "enc", r[1] != "gcm", SIZE_ORDER.index(r[2])))

    print("CPU: %s; TSC %.3f GHz; one worker lcore each; medians of %s runs of %s s; "
          "Gbps counts inner IPv4 bytes." % (cpu_model(), tsc_hz / 1e9, runs, seconds))
    print()
    print("| direction | algorithm | inner size | ipsec-secgw Mpps | Gbps | cyc/pkt "
          "| vpngw Mpps | Gbps | cyc/pkt | vpngw / ipsec-secgw |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    missed = table(order, samples, meta, tsc_hz)
    if missed:
        print()
        print("Targets missed: %s" % ", ".join(missed))
    if any(per_cpu[row][prog] for row in order for prog in ("secgw", "vpngw")):
        print()
        print("Per second of worker CPU time (each run's rate divided by the CPU share "
              "its worker thread got; median share in brackets):")
        print()
        print("| direction | algorithm | inner size | ipsec-secgw Mpps | Gbps | cyc/pkt "
              "| vpngw Mpps | Gbps | cyc/pkt | vpngw / ipsec-secgw |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        missed = table(order, per_cpu, meta, tsc_hz, shares)
        if missed:
            print()
            print("Targets missed per CPU second: %s" % ", ".join(missed))


def table(order, samples, meta, tsc_hz, shares=None):
    """Prints one row per (dir, alg, size); returns the rows that miss a target."""
    missed = []
    for row in order:
        d, alg, size = row
        key = ("enc-%s" % size) if d == "enc" else ("dec-%s-%s" % (alg, size))
        inner = meta[key]["inner_bytes"]
        cells = [DIR_NAMES[d], ALG_NAMES[alg], "%s B" % size if size != "IMIX" else "IMIX"]
        med = {}
        for prog in ("secgw", "vpngw"):
            vals = samples[row][prog]
            if not vals:
                cells += ["-", "-", "-"]
                continue
            pps = statistics.median(vals)
            med[prog] = pps
            share = ""
            if shares is not None and shares[row][prog]:
                share = " (%.0f%%)" % (100 * statistics.median(shares[row][prog]))
            cells += ["%.2f%s" % (pps / 1e6, share), "%.2f" % (pps * inner * 8 / 1e9),
                      "%.0f" % (tsc_hz / pps) if pps > 0 else "-"]
        if "secgw" in med and "vpngw" in med and med["secgw"] > 0:
            ratio = med["vpngw"] / med["secgw"]
            mark = ""
            if size in TARGETS:
                ok = ratio >= TARGETS[size]
                mark = " (target %.2f: %s)" % (TARGETS[size], "met" if ok else "MISSED")
                if not ok:
                    missed.append("%s %s %s" % (d, alg, size))
            cells.append("%.2f%s" % (ratio, mark))
        else:
            cells.append("-")
        print("| " + " | ".join(cells) + " |")
    return missed


if __name__ == "__main__":
    main()
