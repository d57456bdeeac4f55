#!/usr/bin/env bash
# quanta — builds and runs every test: native, then ARM64 and RISC-V 64 under
# QEMU user mode. Installs its Debian packages when missing.
# Prints one line per leg and a final "N passed, N failed".
# Usage: bash scripts/test.sh [preset...]   (default: default aarch64 riscv64)
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
quanta_need "${QUANTA_BUILD_PKGS[@]}" "${QUANTA_CROSS_PKGS[@]}"

presets=("$@")
((${#presets[@]})) || presets=(default aarch64 riscv64)
source scripts/ctest_leg.sh
for preset in "${presets[@]}"; do
  quanta_leg "$preset"
done
quanta_summary
