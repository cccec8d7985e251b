#!/usr/bin/python3
"""ctest: the analysis/ plots on a small run and a small sweep. Each plot must write PNG and
SVG, and the series it plotted (its CSV, written from the plotted lines) must be the report's
percentiles and the summary's means and confidence bounds.

Usage: /usr/bin/python3 tests/test_plots.py IOPFSIM_BINARY SOURCE_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

IOPFSIM, SOURCE = sys.argv[1], sys.argv[2]
PY = "/usr/bin/python3"
DATA = os.path.join(SOURCE, "tests", "data")


def run(args, expect=0):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != expect:
        raise AssertionError(f"{args}: exit {r.returncode}, expected {expect}\n{r.stdout}\n{r.stderr}")
    return r


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Plots(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.reports = []
        for rate in ("500kpps", "1Mpps"):
            rep = os.path.join(cls.dir, f"r-{rate}.json")
            run([IOPFSIM, "run", os.path.join(DATA, "sweep-base.json"), "--quiet", "--report", rep,
                 "--set", f"/devices/0/paths/0/workload/rate={rate}"])
            cls.reports.append(rep)
        cls.timeseries = os.path.join(cls.dir, "ts.csv")
        run([IOPFSIM, "run", os.path.join(DATA, "sweep-base.json"), "--quiet", "--timeseries", cls.timeseries,
             "--sample-interval", "50us"])
        cls.sweep = os.path.join(cls.dir, "sweep")
        run([IOPFSIM, "sweep", os.path.join(DATA, "sweep-small.json"), "-j", "2", "--out", cls.sweep])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_images(self, prefix):
        with open(prefix + ".png", "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(prefix + ".svg") as f:
            svg = f.read()
        self.assertIn("<svg", svg)
        self.assertGreater(os.path.getsize(prefix + ".png"), 10000)

    def test_latency_cdf_is_the_reports_percentiles(self):
        prefix = os.path.join(self.dir, "cdf")
        run([PY, os.path.join(SOURCE, "analysis", "plot_latency_cdf.py"), *self.reports, "--out", prefix])
        self.check_images(prefix)
        with open(prefix + ".svg") as f:
            self.assertIn("reconstructed from the report", f.read())
        got = rows(prefix + ".csv")
        want = []
        for rep in self.reports:
            r = json.load(open(rep))
            for d in r["devices"]:
                for p in d["paths"]:
                    h = p["dma"]["latency_ns"]
                    for k, q in (("min", 0.0), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999), ("max", 1.0)):
                        want.append((rep, d["name"], p["name"], q, h[k]))
        self.assertEqual([(g["report"], g["device"], g["path"], float(g["fraction"]), int(g["latency_ns"])) for g in got],
                         want)
        # The two reports differ where the rate changed, so the curves are not one curve twice.
        self.assertNotEqual([w[4] for w in want[:6]], [w[4] for w in want[12:18]])

    def test_latency_cdf_bad_input(self):
        r = run([PY, os.path.join(SOURCE, "analysis", "plot_latency_cdf.py"), os.path.join(DATA, "sweep-small.json"),
                 "--out", os.path.join(self.dir, "x")], expect=2)
        self.assertIn("not an iopfsim report", r.stderr)

    def test_timeseries_panels_are_the_csv(self):
        prefix = os.path.join(self.dir, "ts-panels")  # not "ts": ts.csv is the series itself
        run([PY, os.path.join(SOURCE, "analysis", "plot_timeseries.py"), self.timeseries, "--out", prefix])
        self.check_images(prefix)
        with open(prefix + ".svg") as f:
            svg = f.read()
        for unit in ("(Gb/s)", "(us)", "(GiB)"):
            self.assertIn(unit, svg)
        ts = rows(self.timeseries)
        self.assertGreater(len(ts), 5)
        got = {}
        for g in rows(prefix + ".csv"):
            got.setdefault((g["panel"], g["series"]), []).append((int(g["end_ns"]), g["value"]))
        paths = [c[: -len("/completed")] for c in ts[0] if c.endswith("/completed")]
        self.assertTrue(paths)
        for p in paths:
            want = [(int(r["end_ns"]), float(r[p + "/bytes"]) * 8 / ((int(r["end_ns"]) - int(r["start_ns"])) * 1e-9) / 1e9)
                    for r in ts]
            self.assertEqual([(e, float(v)) for e, v in got[("throughput", p)]], want)
            want = [(int(r["end_ns"]), r[p + "/latency_ns.p99"]) for r in ts]
            self.assertEqual([(e, "" if v == "" else float(v)) for e, v in got[("DMA latency", p + " p99")]],
                             [(e, "" if v == "" else float(v) / 1e3) for e, v in want])
        # The data moved: a run that completed nothing would plot a flat zero line.
        self.assertGreater(sum(float(v) for _, v in got[("throughput", paths[0])]), 0)
        r = run([PY, os.path.join(SOURCE, "analysis", "plot_timeseries.py"), os.path.join(DATA, "sweep-small.json"),
                 "--out", os.path.join(self.dir, "z")], expect=2)
        self.assertIn("not an iopfsim time series", r.stderr)

    def test_sweep_curves_are_the_summary(self):
        prefix = os.path.join(self.dir, "curves")
        metric = "nic0/rx/dma.latency_ns.p99"
        run([PY, os.path.join(SOURCE, "analysis", "plot_sweep.py"), os.path.join(self.sweep, "summary.csv"),
             "--x", "resident", "--y", metric, "--by", "rate", "--out", prefix])
        self.check_images(prefix)
        with open(prefix + ".svg") as f:
            self.assertIn("(ns)", f.read())  # unit on the y axis
        got = rows(prefix + ".csv")
        summary = rows(os.path.join(self.sweep, "summary.csv"))
        want = sorted(((s["rate"], float(s["resident"]), float(s[metric + ":mean"]), float(s[metric + ":ci95_low"]),
                        float(s[metric + ":ci95_high"])) for s in summary))
        self.assertEqual(len(got), 4)
        self.assertEqual(sorted((g["by"], float(g["x"]), float(g["mean"]), float(g["ci95_low"]), float(g["ci95_high"]))
                                for g in got), want)

    def test_sweep_marks_failed_points_and_draws_the_bound(self):
        # A point whose every replica failed (replicas 0, metrics empty) is marked, not plotted.
        summary = rows(os.path.join(self.sweep, "summary.csv"))
        metric = "nic0/rx/dma.latency_ns.p99"
        for k in summary[0]:
            if ":" in k:
                summary[0][k] = ""
        summary[0]["replicas"] = "0"
        path = os.path.join(self.dir, "failed-summary.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(summary[0].keys()), lineterminator="\n")
            w.writeheader()
            w.writerows(summary)
        prefix = os.path.join(self.dir, "failed")
        run([PY, os.path.join(SOURCE, "analysis", "plot_sweep.py"), path, "--x", "resident", "--y", metric,
             "--by", "rate", "--hline", "12345", "--hline-label", "my bound", "--out", prefix])
        self.check_images(prefix)
        with open(prefix + ".svg") as f:
            svg = f.read()
        self.assertIn("every replica failed", svg)
        self.assertIn(f"rate = {summary[0]['rate']}: failed", svg)
        self.assertIn("my bound (12345)", svg)
        got = rows(prefix + ".csv")
        self.assertEqual(len(got), 3)
        self.assertNotIn((summary[0]["rate"], summary[0]["resident"]), [(g["by"], g["x"]) for g in got])

    def test_sweep_bad_metric_and_unfixed_axis(self):
        script = os.path.join(SOURCE, "analysis", "plot_sweep.py")
        summary = os.path.join(self.sweep, "summary.csv")
        r = run([PY, script, summary, "--x", "resident", "--y", "nic0/nope", "--out", os.path.join(self.dir, "y")], expect=2)
        self.assertIn("no metric", r.stderr)
        r = run([PY, script, summary, "--x", "resident", "--y", "nic0/rx/dma.latency_ns.p99", "--out",
                 os.path.join(self.dir, "y")], expect=2)
        self.assertIn("--where rate=", r.stderr)
        run([PY, script, summary, "--x", "resident", "--y", "nic0/rx/dma.latency_ns.p99", "--where", "rate=1Mpps",
             "--out", os.path.join(self.dir, "y")])
        self.assertEqual(len(rows(os.path.join(self.dir, "y.csv"))), 2)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
