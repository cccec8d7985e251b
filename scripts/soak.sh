#!/usr/bin/env bash
# Soak: one long run of a slow-path-heavy scenario, at least N engine events (default 10^8),
# with the process's resident set sampled every second, to show that memory stays flat.
#
#   scripts/soak.sh [--events N] [--scenario FILE] [--out DIR] [--build-dir DIR]
#
# The scenario (default scenarios/invalidation-strict.json: unmaps and their invalidations,
# IOTLB and ATC, under a streaming device, at a steady event rate; not the partial-reclaim
# pair, whose page-request backlog grows with the run, nor a scenario whose faults stop once
# its region is in, such as quickstart or prq-bursty) is
# first run with its own window and with 4x it, to learn its engine events per simulated
# nanosecond; the soak then sets /duration so that the run makes at least N events. Writes DIR/rss.csv (wall_s, rss_kib), DIR/report.json and
# DIR/summary.txt, and exits 1 when the resident set of the last quarter of the run is more
# than 5% above that of the second quarter (after start-up) or the run made fewer than N
# events. Not a CI test: 10^8 events take several minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=100000000 scenario="$root/scenarios/invalidation-strict.json" out="$root/build/soak" build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bin="$build/iopfsim"
[ -x "$bin" ] || { echo "soak.sh: $bin not built" >&2; exit 2; }
mkdir -p "$out"

# Events per simulated ns at the margin (two runs, the window and 4x it), so start-up time
# (pinning: simulated time with few events) does not count.
"$bin" run "$scenario" --quiet --report "$out/calibrate-1.json"
window_ns=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sim"]["window_ns"])' "$out/calibrate-1.json")
"$bin" run "$scenario" --quiet --set "/duration=$((4 * window_ns))ns" --report "$out/calibrate-4.json"
duration_ns=$(/usr/bin/python3 - "$out" "$events" "$window_ns" <<'PY'
import json, math, sys
out, want, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
e1 = json.load(open(f"{out}/calibrate-1.json"))["sim"]["events"]
e4 = json.load(open(f"{out}/calibrate-4.json"))["sim"]["events"]
per_ns = (e4 - e1) / (3 * w)
if per_ns <= 0:
    sys.exit("soak.sh: the scenario makes no more events in a longer window")
print(w + math.ceil(max(0, want - e1) / per_ns * 1.1))
PY
)
echo "soak.sh: $(basename "$scenario") for ${duration_ns} ns of simulated time (>= $events events)" >&2

"$bin" run "$scenario" --quiet --set "/duration=${duration_ns}ns" --report "$out/report.json" &
pid=$!
echo "wall_s,rss_kib" >"$out/rss.csv"
start=$(date +%s.%N)
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(echo "$(date +%s.%N) - $start" | bc),$rss" >>"$out/rss.csv"
  sleep 1
done
wait "$pid"

/usr/bin/python3 - "$out" "$events" <<'PY'
import csv, json, statistics, sys
out, want = sys.argv[1], int(sys.argv[2])
r = json.load(open(f"{out}/report.json"))
rows = [(float(w), int(k)) for w, k in ((x["wall_s"], x["rss_kib"]) for x in csv.DictReader(open(f"{out}/rss.csv")))]
n = len(rows)
q2 = statistics.median(k for _, k in rows[n // 4: n // 2]) if n >= 8 else 0
q4 = statistics.median(k for _, k in rows[3 * n // 4:]) if n >= 8 else 0
growth = (q4 - q2) / q2 if q2 else float("nan")
lines = [
    f"events {r['sim']['events']} (wanted >= {want}), simulated {r['sim']['simulated_ns']} ns, wall {r['sim']['wall_s']:.1f} s",
    f"rss samples {n}; median rss second quarter {q2} KiB, last quarter {q4} KiB, growth {growth * 100:+.2f}%",
    f"peak rss {max(k for _, k in rows) if rows else 0} KiB; sim.memory total {r['sim']['memory']['total_bytes']} bytes",
]
ok = r["sim"]["events"] >= want and n >= 8 and growth <= 0.05
lines.append("flat" if ok else "NOT FLAT (or too short to tell)")
open(f"{out}/summary.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(0 if ok else 1)
PY
