#!/usr/bin/env bash
# quanta — the main job: release build, then quanta-bench prints the table of
# quanta next to its peers, all measured in this run. Installs its Debian
# packages when missing. Extra arguments go to quanta-bench (e.g. --json F).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
quanta_need "${QUANTA_BUILD_PKGS[@]}" "${QUANTA_BENCH_PKGS[@]}"
cmake --preset release >build-release-configure.log 2>&1 || { cat build-release-configure.log; exit 1; }
rm -f build-release-configure.log
cmake --build --preset release --target quanta-bench
./build/release/bench/quanta-bench "$@"
