#!/usr/bin/env bash
# A faster iopfsim for long sweeps: the same code, built a second time with GCC's
# profile-guided optimisation (CMake option IOPFSIM_PGO), laid out by a profile of the
# shipped scenarios. Its reports are the default build's, bit for bit (wall-clock fields
# aside): the script checks that against every golden report before it says done.
#   1. configure DIR with IOPFSIM_PGO=generate, build iopfsim (instrumented);
#   2. run every scenario in scenarios/ (scale-1tib-4k aside: minutes and 4 GiB), which
#      writes the profile to DIR/pgo-profile;
#   3. reconfigure DIR with IOPFSIM_PGO=use, build iopfsim, the scenario tests and the
#      whole-run benchmark with the profile;
#   4. run the golden-report tests with DIR's iopfsim.
# Usage: scripts/build-fast.sh [DIR]   (default: build-fast; then DIR/iopfsim)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build-fast}"

rm -rf "$dir/pgo-profile"
cmake -S . -B "$dir" -G Ninja -DIOPFSIM_PGO=generate
cmake --build "$dir" --target iopfsim
train_report="$dir/pgo-train-report.json"
for s in scenarios/*.json; do
  [ "$(basename "$s")" = scale-1tib-4k.json ] && continue
  "$dir/iopfsim" run "$s" --quiet --report "$train_report" >/dev/null
done
rm -f "$train_report"
[ -n "$(find "$dir/pgo-profile" -name '*.gcda' -print -quit)" ] || { echo "build-fast: no profile written" >&2; exit 1; }

cmake -S . -B "$dir" -G Ninja -DIOPFSIM_PGO=use
cmake --build "$dir" --target iopfsim scenario_tests bench_whole_run
ctest --test-dir "$dir" -R 'Golden' --output-on-failure -j2
echo "build-fast: $dir/iopfsim (profile-guided; golden reports unchanged)"
