#!/usr/bin/python3
"""Time-series panels from `iopfsim run --timeseries FILE.csv`.

Usage: /usr/bin/python3 analysis/plot_timeseries.py TIMESERIES.csv [--out PREFIX]
           [--path DEVICE/PATH]...

One panel per kind of column, sharing the simulated-time axis (ms, each interval drawn at its
end): throughput per path (bytes in the interval / interval length, Gb/s), DMA latency p50 and
p99 per path (us; a gap where an interval completed none), page requests and failed DMAs per
interval, resident and swapped bytes per domain (GiB), invalidations per interval by domain and
reason (only reasons that occur), and the PRQ depth. Panels with nothing in them are left out.
Writes PREFIX.png, PREFIX.svg and PREFIX.csv (the plotted series: panel, series, end_ns, value;
written from the plotted lines themselves). Exit status 2 on bad input.
"""
import argparse
import csv
import math
import os
import sys

from plot_common import plt, save, write_series


def read(file):
    with open(file, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "start_ns" not in rows[0] or "end_ns" not in rows[0]:
        raise ValueError("not an iopfsim time series (no start_ns, end_ns columns)")
    return rows


def num(text):
    return float(text) if text != "" else math.nan


def panels(rows, only_paths):
    """[(title, y label, [(series, [values])])] in the order drawn."""
    cols = list(rows[0].keys())
    paths = [c[: -len("/completed")] for c in cols if c.endswith("/completed")]
    if only_paths:
        paths = [p for p in paths if p in only_paths]
    secs = [(int(r["end_ns"]) - int(r["start_ns"])) * 1e-9 for r in rows]
    col = {c: [num(r[c]) for r in rows] for c in cols}
    out = []
    out.append(("throughput", "Gb/s", [(p, [b * 8 / s / 1e9 if s > 0 else math.nan
                                            for b, s in zip(col[p + "/bytes"], secs)]) for p in paths]))
    out.append(("DMA latency", "us", [(f"{p} {q}", [v / 1e3 for v in col[f"{p}/latency_ns.{q}"]])
                                      for p in paths for q in ("p50", "p99")]))
    out.append(("page requests and failed DMAs", "count per interval",
                [(f"{p} {k}", col[f"{p}/{k}"]) for p in paths for k in ("page_requests", "failed")
                 if any(v > 0 for v in col[f"{p}/{k}"])]))
    mem = [c for c in cols if c.startswith("domain/") and c.endswith("_bytes")]
    out.append(("guest memory", "GiB", [(c[len("domain/"):], [v / 2**30 for v in col[c]]) for c in mem]))
    inv = [c for c in cols if c.startswith("domain/") and "/invalidations." in c and any(v > 0 for v in col[c])]
    out.append(("invalidations", "count per interval", [(c[len("domain/"):], col[c]) for c in inv]))
    if "iommu/prq_depth" in col:
        out.append(("PRQ depth at the interval's end", "entries", [("iommu/prq_depth", col["iommu/prq_depth"])]))
    return [p for p in out if p[2]]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("timeseries")
    ap.add_argument("--out", default="timeseries", help="output prefix (default timeseries)")
    ap.add_argument("--path", action="append", default=[], help="only DEVICE/PATH (repeatable)")
    a = ap.parse_args(argv)
    try:
        rows = read(a.timeseries)
        drawn = panels(rows, a.path)
    except (OSError, ValueError, KeyError) as e:
        print(f"plot_timeseries: {a.timeseries}: {e}", file=sys.stderr)
        return 2
    if a.path and not any(s.startswith(p) for _, _, series in drawn for s, _ in series for p in a.path):
        print(f"plot_timeseries: {a.timeseries}: no path matching --path", file=sys.stderr)
        return 2
    end_ns = [int(r["end_ns"]) for r in rows]
    x_ms = [e / 1e6 for e in end_ns]
    fig, axes = plt.subplots(len(drawn), 1, figsize=(8, 2.2 * len(drawn)), sharex=True, squeeze=False)
    series_rows = []
    for ax, (title, unit, series) in zip(axes[:, 0], drawn):
        for name, values in series:
            (line,) = ax.plot(x_ms, values, marker=".", markersize=3, label=name)
            for e, y in zip(end_ns, line.get_ydata()):
                series_rows.append([title, name, e, "" if math.isnan(y) else repr(float(y))])
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(f"({unit})", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("simulated time at the interval's end (ms)")
    fig.suptitle(os.path.basename(a.timeseries), fontsize=9)
    fig.tight_layout()
    save(fig, a.out)
    write_series(a.out + ".csv", ["panel", "series", "end_ns", "value"], series_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
