#!/usr/bin/env bash
# quanta — checks that a project can consume quanta::quanta through
# find_package (after cmake --install) and through add_subdirectory.
# Prints "N passed, N failed". Usage: bash scripts/check_consumers.sh
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=build/consumers
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
check() {  # name, then the commands as one string
  local name=$1 cmd=$2
  if (eval "$cmd") >"$out/$name.log" 2>&1; then
    echo "consumer $name: passed ($(tail -1 "$out/$name.log"))"
    passed=$((passed + 1))
  else
    tail -20 "$out/$name.log"
    echo "consumer $name: FAILED"
    failed=$((failed + 1))
  fi
}
check find_package "
  cmake -S . -B $out/lib -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUANTA_BUILD_TESTS=OFF -DQUANTA_BUILD_BENCH=OFF &&
  cmake --build $out/lib && cmake --install $out/lib --prefix $out/prefix &&
  cmake -S tests/consumer -B $out/fp -G Ninja -DCMAKE_PREFIX_PATH=$root/$out/prefix &&
  cmake --build $out/fp && $out/fp/consumer"
check add_subdirectory "
  cmake -S tests/consumer -B $out/as -G Ninja -DQUANTA_CONSUMER_MODE=add_subdirectory -DQUANTA_SOURCE_DIR=$root &&
  cmake --build $out/as && $out/as/consumer"
echo "$passed passed, $failed failed"
((failed == 0))
