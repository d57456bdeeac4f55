#!/usr/bin/env bash
# quanta — installs the Debian packages a script needs, only when missing.
# Usage: source scripts/deps.sh; quanta_need pkg...
quanta_need() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "quanta: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

QUANTA_BUILD_PKGS=(cmake ninja-build g++ make pkg-config libgtest-dev googletest libhwloc-dev libconcurrentqueue-dev)
QUANTA_BENCH_PKGS=(libbenchmark-dev libboost-context-dev libboost-fiber-dev libtbb-dev)
QUANTA_CROSS_PKGS=(g++-aarch64-linux-gnu g++-riscv64-linux-gnu qemu-user)
