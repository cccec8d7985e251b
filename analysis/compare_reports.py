#!/usr/bin/python3
"""Side-by-side comparison of iopfsim reports: one column per report.

Usage: /usr/bin/python3 analysis/compare_reports.py report1.json report2.json ...
Prints, per device path: issued, completed, failed, p50/p99 latency, page requests; and per
domain: pinned, resident and page-table bytes and set-up time.
"""
import json
import sys


def rows(report):
    out = {}
    for d in report["devices"]:
        for p in d["paths"]:
            key = f'{d["name"]}/{p["name"]}'
            m = p["dma"]
            out[f"{key} issued"] = m["issued"]
            out[f"{key} completed"] = m["completed"]
            out[f"{key} failed"] = m["failed"]
            out[f"{key} p50 ns"] = m["latency_ns"]["p50"]
            out[f"{key} p99 ns"] = m["latency_ns"]["p99"]
            out[f"{key} page requests"] = p["page_requests"]
    for d in report["domains"]:
        for k in ("pinned_bytes", "resident_bytes", "pt_bytes", "setup_ns", "faults_resolved"):
            out[f'domain {d["name"]} {k}'] = d[k]
    return out


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    reports = [json.load(open(p)) for p in paths]
    tables = [rows(r) for r in reports]
    keys = []
    for t in tables:
        keys += [k for k in t if k not in keys]
    names = [r["scenario"]["name"] for r in reports]
    width = max(len(k) for k in keys)
    print(" " * width + "".join(f"{n:>22}" for n in names))
    for k in keys:
        print(f"{k:<{width}}" + "".join(f"{str(t.get(k, '-')):>22}" for t in tables))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
