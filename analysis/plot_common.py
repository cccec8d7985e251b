"""Shared helpers of the analysis/ plots (Debian's python3-matplotlib, run with /usr/bin/python3)."""
import csv
import os

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

# Units from the report's key names (the same rule as sim/metrics.cpp).
def unit_of(metric):
    leaf = metric.rsplit("/", 1)[-1]
    stat = leaf.rsplit(".", 1)
    if len(stat) == 2 and stat[1] in ("min", "mean", "p50", "p90", "p99", "p999", "max"):
        leaf = stat[0]
    elif len(stat) == 2 and stat[1] == "count":
        return "count"
    if leaf.endswith("bytes_per_s"):
        return "bytes/s"
    if leaf.endswith("ops_per_s"):
        return "ops/s"
    if leaf.endswith("_ns"):
        return "ns"
    if leaf == "bytes" or leaf.endswith("_bytes") or leaf.endswith(".bytes"):
        return "bytes"
    return "count"


def save(fig, prefix):
    """Writes PREFIX.png and PREFIX.svg; returns their paths."""
    d = os.path.dirname(prefix)
    if d:
        os.makedirs(d, exist_ok=True)
    out = []
    for ext in ("png", "svg"):
        path = f"{prefix}.{ext}"
        # No date in the SVG, so the same data give the same file.
        fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        out.append(path)
    plt.close(fig)
    return out


def write_series(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
