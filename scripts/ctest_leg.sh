#!/usr/bin/env bash
# quanta — one test leg: configure, build and ctest a CMake preset, and keep
# a running count of tests passed and failed across legs.
QUANTA_PASSED=0
QUANTA_FAILED=0
QUANTA_SKIPPED=0
QUANTA_LEG_ERRORS=0

quanta_leg() {
  local preset=$1
  local log="build/${preset}-ctest.log"
  mkdir -p build
  echo "== ${preset}: configure and build"
  if ! cmake --preset "$preset" >"build/${preset}-configure.log" 2>&1; then
    tail -30 "build/${preset}-configure.log"
    echo "== ${preset}: configure FAILED"
    QUANTA_LEG_ERRORS=$((QUANTA_LEG_ERRORS + 1))
    return
  fi
  if ! cmake --build --preset "$preset" >"build/${preset}-build.log" 2>&1; then
    grep -E "error|FAILED" "build/${preset}-build.log" | head -40
    echo "== ${preset}: build FAILED"
    QUANTA_LEG_ERRORS=$((QUANTA_LEG_ERRORS + 1))
    return
  fi
  echo "== ${preset}: ctest"
  ctest --preset "$preset" >"$log" 2>&1
  local line total failed
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  if [[ -z $line ]]; then
    tail -30 "$log"
    echo "== ${preset}: ctest printed no summary"
    QUANTA_LEG_ERRORS=$((QUANTA_LEG_ERRORS + 1))
    return
  fi
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  # ctest counts a skipped test as passed; count it apart, with its reason.
  local skipped
  skipped=$(grep -cE '^[[:space:]]+[0-9]+ - .*\(Skipped\)$' "$log")
  if ((failed)); then
    sed -n '/The following tests FAILED/,$p' "$log"
  fi
  if ((skipped)); then
    grep -E '^[[:space:]]+[0-9]+ - .*\(Skipped\)$' "$log"
  fi
  echo "== ${preset}: $((total - failed - skipped)) passed, ${failed} failed, ${skipped} skipped ($(grep -E '^Total Test time' "$log" | sed 's/.*= *//'))"
  QUANTA_PASSED=$((QUANTA_PASSED + total - failed - skipped))
  QUANTA_FAILED=$((QUANTA_FAILED + failed))
  QUANTA_SKIPPED=$((QUANTA_SKIPPED + skipped))
}

# Prints the closing line; returns non-zero when anything failed.
quanta_summary() {
  if ((QUANTA_LEG_ERRORS)); then
    echo "quanta: ${QUANTA_LEG_ERRORS} leg(s) did not build or run"
  fi
  echo "${QUANTA_PASSED} passed, ${QUANTA_FAILED} failed, ${QUANTA_SKIPPED} skipped"
  ((QUANTA_FAILED == 0 && QUANTA_LEG_ERRORS == 0))
}
