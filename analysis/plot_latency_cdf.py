#!/usr/bin/python3
"""Latency CDF of DMA paths from one or several iopfsim reports.

Usage: /usr/bin/python3 analysis/plot_latency_cdf.py REPORT.json... [--out PREFIX]
           [--path DEVICE/PATH]... [--linear]

Writes PREFIX.png, PREFIX.svg and PREFIX.csv (the plotted series: label, report, device, path,
fraction, latency_ns; written from the plotted lines themselves). The report keeps a histogram
summary, not the samples, so each curve is reconstructed from its percentiles (min = 0,
p50, p90, p99, p99.9, max = 1) joined by straight lines; the plot says so. Paths that completed
no DMA are left out. Exit status 2 on bad input.
"""
import argparse
import json
import sys

from plot_common import plt, save, write_series

POINTS = [("min", 0.0), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999), ("max", 1.0)]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--out", default="latency-cdf", help="output prefix (default latency-cdf)")
    ap.add_argument("--path", action="append", default=[], help="only DEVICE/PATH (repeatable)")
    ap.add_argument("--linear", action="store_true", help="linear latency axis (default log)")
    a = ap.parse_args(argv)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    lines = []
    for file in a.reports:
        try:
            with open(file) as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            print(f"plot_latency_cdf: {file}: {e}", file=sys.stderr)
            return 2
        if r.get("schema") != "iopfsim.report/1":
            print(f"plot_latency_cdf: {file}: not an iopfsim report", file=sys.stderr)
            return 2
        scen = r["scenario"]["name"]
        for d in r["devices"]:
            for p in d["paths"]:
                name = f'{d["name"]}/{p["name"]}'
                if a.path and name not in a.path:
                    continue
                h = p["dma"]["latency_ns"]
                if h["count"] == 0:
                    continue
                xs = [h[k] for k, _ in POINTS]
                ys = [q for _, q in POINTS]
                label = f"{scen}: {name}" if len(a.reports) == 1 else f"{file}: {name}"
                (line,) = ax.plot(xs, ys, marker="o", markersize=3, label=label)
                lines.append((line, file, d["name"], p["name"]))
    if not lines:
        print("plot_latency_cdf: no path with completed DMAs" + (" matching --path" if a.path else ""), file=sys.stderr)
        return 2
    if not a.linear:
        ax.set_xscale("log")
    ax.set_xlabel("DMA latency (ns)")
    ax.set_ylabel("fraction of DMAs completed within the latency")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title("DMA latency CDF per path\n(reconstructed from the report's percentiles: min, p50, p90, p99, p99.9, max)",
                 fontsize=9)
    ax.legend(fontsize=8)
    rows = []
    for line, file, dev, path in lines:
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            rows.append([line.get_label(), file, dev, path, repr(float(y)), int(x)])
    save(fig, a.out)
    write_series(a.out + ".csv", ["label", "report", "device", "path", "fraction", "latency_ns"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
