#!/usr/bin/env bash
# Installs the Debian packages iopfsim needs, only when one is missing (so a warm machine
# pays nothing). Runs as root (CI and the developers' machines are root); uses sudo otherwise.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config
      libsimgrid-dev libeigen3-dev libcli11-dev nlohmann-json3-dev
      libbenchmark-dev libgtest-dev googletest libboost-dev
      python3 python3-matplotlib python3-pandas python3-numpy
      clang libclang-rt-dev)  # clang and libFuzzer: the fuzz targets (scripts/fuzz.sh, ctest fuzz_short)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
