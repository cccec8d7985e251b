#!/usr/bin/python3
"""Sweep curves from an iopfsim sweep's summary.csv: an axis on x, a metric on y, one line per
value of another axis, with the replicas' 95 % confidence interval as a band.

Usage: /usr/bin/python3 analysis/plot_sweep.py DIR/summary.csv --x AXIS --y METRIC
           [--by AXIS] [--where AXIS=VALUE]... [--out PREFIX] [--logx] [--logy]
           [--hline Y [--hline-label TEXT]] [--title TEXT]

METRIC is a summary column without its ":mean" suffix, e.g. nic0/rx/dma.latency_ns.p99.
Axes other than --x and --by must be fixed with --where when they take several values. Writes
PREFIX.png, PREFIX.svg and PREFIX.csv (the plotted series: by, x, mean, ci95_low, ci95_high,
from the plotted data). A point where no replica succeeded (replicas = 0: see the sweep's
failed.csv) has no value; it is drawn as an x on the x axis in its line's colour, so a missing
point reads as "failed", not as "not swept". --hline draws a horizontal line at Y (a bound).
Exit status 2 on bad input.
"""
import argparse
import math
import sys

import pandas as pd

from plot_common import plt, save, unit_of, write_series


def fail(msg):
    print(f"plot_sweep: {msg}", file=sys.stderr)
    return 2


def mark_failed(ax, failed_marks, colors, by):
    """An x on the x axis at each point where every replica failed, in its line's colour."""
    for g, xs in failed_marks:
        ax.plot(xs, [0.0] * len(xs), linestyle="none", marker="x", markersize=9, color=colors.get(g, "black"),
                transform=ax.get_xaxis_transform(), clip_on=False,
                label=f"{by} = {g}: failed" if by else "failed")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("summary")
    ap.add_argument("--x", required=True)
    ap.add_argument("--y", required=True)
    ap.add_argument("--by")
    ap.add_argument("--where", action="append", default=[])
    ap.add_argument("--out", default="sweep")
    ap.add_argument("--logx", action="store_true")
    ap.add_argument("--logy", action="store_true")
    ap.add_argument("--hline", type=float)
    ap.add_argument("--hline-label", default="bound")
    ap.add_argument("--title")
    a = ap.parse_args(argv)
    try:
        df = pd.read_csv(a.summary, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as e:
        return fail(f"{a.summary}: {e}")
    cols = list(df.columns)
    if not cols or cols[0] != "point" or "replicas" not in cols:
        return fail(f"{a.summary}: not a sweep summary.csv")
    axes = cols[1 : cols.index("replicas")]
    for name in [a.x] + ([a.by] if a.by else []):
        if name not in axes:
            return fail(f"{a.summary}: no axis {name!r}; axes: {', '.join(axes)}")
    if a.y + ":mean" not in cols:
        metrics = [c[: -len(":mean")] for c in cols if c.endswith(":mean")]
        return fail(f"{a.summary}: no metric {a.y!r}; metrics: {', '.join(metrics)}")
    for w in a.where:
        k, _, v = w.partition("=")
        if k not in axes:
            return fail(f"--where {w}: no axis {k!r}")
        df = df[df[k] == v]
    for other in axes:
        if other not in (a.x, a.by) and df[other].nunique() > 1:
            return fail(f"axis {other!r} takes several values: fix it with --where {other}=VALUE")
    if df.empty:
        return fail("no point left after --where")

    def num(s):
        try:
            return float(s)
        except ValueError:
            return None

    numeric_x = all(num(v) is not None for v in df[a.x])
    order = list(dict.fromkeys(df[a.x]))  # categorical x: the sweep's order
    groups = list(dict.fromkeys(df[a.by])) if a.by else [None]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted, failed_marks = [], []
    for g in groups:
        sub = df[df[a.by] == g] if a.by else df
        pts, failed = [], []
        for _, row in sub.iterrows():
            x = num(row[a.x]) if numeric_x else order.index(row[a.x])
            m = num(row[a.y + ":mean"])
            if m is None:
                if row["replicas"] == "0":
                    failed.append(x)
                continue
            lo, hi = num(row[a.y + ":ci95_low"]), num(row[a.y + ":ci95_high"])
            pts.append((x, m, math.nan if lo is None else lo, math.nan if hi is None else hi, row[a.x]))
        pts.sort(key=lambda t: t[0])
        if failed:
            failed_marks.append((g, failed))
        if not pts:
            continue
        label = f"{a.by} = {g}" if a.by else a.y
        (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        band = ax.fill_between([p[0] for p in pts], [p[2] for p in pts], [p[3] for p in pts],
                               alpha=0.2, color=line.get_color())
        plotted.append((g, line, pts, band))
    if not plotted:
        return fail(f"no value of {a.y!r} to plot")
    mark_failed(ax, failed_marks, {g: line.get_color() for g, line, _, _ in plotted}, a.by)
    if a.hline is not None:
        ax.axhline(a.hline, color="black", linestyle="--", linewidth=1, label=f"{a.hline_label} ({a.hline:g})")
    if not numeric_x:
        ax.set_xticks(range(len(order)))
        ax.set_xticklabels(order)
    if a.logx:
        ax.set_xscale("log")
    if a.logy:
        ax.set_yscale("log")
    ax.set_xlabel(a.x + ("" if numeric_x else " (as given in the sweep)"))
    ax.set_ylabel(f"{a.y} ({unit_of(a.y)})")
    ax.grid(True, which="both", alpha=0.3)
    title = f"{a.y}: mean over replicas, band = 95 % confidence interval (Student t)"
    if failed_marks:
        title += "\nx on the x axis: every replica failed (see failed.csv)"
    ax.set_title((a.title + "\n" if a.title else "") + title, fontsize=9)
    if a.by or a.hline is not None:
        ax.legend(fontsize=8)
    rows = []
    for g, line, pts, _ in plotted:
        xs, ys = line.get_xdata(), line.get_ydata()
        for (x, y), p in zip(zip(xs, ys), pts):
            rows.append(["" if g is None else g, p[4], repr(float(y)), repr(p[2]), repr(p[3])])
    save(fig, a.out)
    write_series(a.out + ".csv", ["by", "x", "mean", "ci95_low", "ci95_high"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
