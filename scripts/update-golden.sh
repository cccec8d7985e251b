#!/usr/bin/env bash
# Regenerates tests/golden/<scenario>.json from every file in scenarios/: the report of
# `iopfsim run scenarios/X.json --checker` (seed as in the file), with the wall-clock fields
# (sim.wall_s, sim.dma_per_wall_s) removed. Run it on purpose only: a commit that changes a
# golden file says in its message which figures moved and why.
# Usage: scripts/update-golden.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/iopfsim"
[ -x "$bin" ] || { echo "update-golden: $bin not built" >&2; exit 2; }
mkdir -p tests/golden
rm -f tests/golden/*.json
for s in scenarios/*.json; do
  name=$(basename "$s" .json)
  tmp=$(mktemp)
  "$bin" run "$s" --checker --quiet --report "$tmp"
  /usr/bin/python3 - "$tmp" "tests/golden/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("wall_s", "dma_per_wall_s"):
    r["sim"].pop(k, None)
with open(sys.argv[2], "w") as f:
    json.dump(r, f, indent=1, sort_keys=True)
    f.write("\n")
PY
  rm -f "$tmp"
  echo "golden: $name"
done
