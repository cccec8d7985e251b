#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + libFuzzer) in their own build
# directory and runs each one for a number of seconds or executions.
#
#   scripts/fuzz.sh [--seconds N | --runs N] [--seed N] [--target fuzz_scenario|fuzz_set]... \
#                   [--build-dir DIR] [--no-install]
#
# --runs N is libFuzzer -runs (executions, the corpus replay included); with --seed the same
# inputs are tried on every machine, which is what the ctest fuzz_short uses. Defaults: 30 seconds
# per target, both targets, build dir build-fuzz. Installs clang and
# libFuzzer (Debian: clang, libclang-rt-dev) when missing, unless --no-install, in which case
# it exits 77 ("skipped", for ctest) when they are missing. Seeds: scenarios/*.json and
# fuzz/seeds/<target>/; the growing corpus is DIR/corpus/<target>; a crash, hang or leak is
# written to DIR/artifacts/ and the script exits 1. Every finding becomes a regression test
# in tests/ (replay one with: DIR/fuzz/<target> ARTIFACT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=30 runs="" seed="" build="$root/build-fuzz" install=1 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; runs=""; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_scenario fuzz_set)

have_fuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  local probe; probe=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/p.cpp"
  clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" >/dev/null 2>&1
  local rc=$?; rm -rf "$probe"; return $rc
}
if ! have_fuzzer; then
  if [ $install -eq 0 ]; then echo "fuzz.sh: clang++ with libFuzzer not found: skipped" >&2; exit 77; fi
  echo "fuzz.sh: installing clang and libFuzzer" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
  have_fuzzer || { echo "fuzz.sh: clang++ -fsanitize=fuzzer still does not link" >&2; exit 1; }
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DIOPFSIM_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j2 --target "${targets[@]}"

# A dictionary of every scenario key and enum choice, taken from the parameter tables.
dict="$build/scenario.dict"
{
  # every parameter table's keys, and every enum table's names (models/**/*, sim/*)
  grep -ho '{"[a-z_0-9]*", ParamType' "$root"/sim/*.cpp "$root"/models/*/*.cpp |
    sed 's/{"\([a-z_0-9]*\)".*/"\\"\1\\""/' || true
  grep -ho '::k[A-Za-z0-9]*, "[a-z_0-9]*"}' "$root"/sim/*.hpp "$root"/models/*/*.hpp "$root"/models/*/*.cpp |
    sed 's/.*, "\([a-z_0-9]*\)"}/"\\"\1\\""/' || true
  for k in comment host iommu iotlb walk_cache engine domains devices paths workload atc invalidations \
           KiB MiB GiB TiB ns us ms Mpps GB/s Gbps iopfsim.scenario/1; do echo "\"$k\""; done
} | sort -u | awk '{ printf "k%d=%s\n", NR, $0 }' >"$dict"

failed=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" seeds="$build/seeds/$t"
  mkdir -p "$corpus" "$seeds" "$build/artifacts"
  cp "$root"/fuzz/seeds/"${t#fuzz_}"/* "$seeds/"
  [ "$t" = fuzz_scenario ] && cp "$root"/scenarios/*.json "$seeds/"
  limit=(-max_total_time="$seconds"); [ -n "$runs" ] && limit=(-runs="$runs")
  extra=(); [ "$t" = fuzz_scenario ] && extra=(-dict="$dict")
  [ -n "$seed" ] && extra+=(-seed="$seed")
  log="$build/$t.log"
  echo "fuzz.sh: $t ${limit[*]}" >&2
  if "$build/fuzz/$t" "${limit[@]}" "${extra[@]}" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$corpus" "$seeds" >"$log" 2>&1; then
    echo "fuzz.sh: $t ok: $(grep -h 'stat::number_of_executed_units' "$log" | awk '{print $2}') executions," \
         "$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{print $2}')/s, corpus $(ls "$corpus" | wc -l)," \
         "coverage $(grep -o 'cov: [0-9]*' "$log" | tail -1)" >&2
  else
    failed=1
    echo "fuzz.sh: $t FAILED (log $log, artifacts in $build/artifacts):" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|terminate|what\(\)' "$log" | head -20 >&2 || true
  fi
done
exit $failed
