#!/bin/sh
# quanta-tune --env prints lines the shell accepts and that Config::from_env()
# reads back as the same values (quanta-tune --check-env prints what it read).
# Then every other variable: --check-env's lines, evaluated in an environment
# without QUANTA_* variables, give the same Config again.
# usage: env_round_trip.sh path/to/quanta-tune
set -eu
tool=$1
vars="QUANTA_PROFILE QUANTA_WORKERS QUANTA_SCHEDULER QUANTA_TIME_SLICE_US
QUANTA_PRIORITY_TIME_SLICES QUANTA_PREEMPT QUANTA_STACK_SIZE QUANTA_STACK_GUARD
QUANTA_SWITCH_TARGET_NS QUANTA_SCHEDTRACE QUANTA_METRICS QUANTA_THREAD_METRICS
QUANTA_TRACE QUANTA_TRACE_BUFFER"
# shellcheck disable=SC2086
unset $vars

out=$("$tool" --env)
printf '%s\n' "$out"
eval "$out"
back=$("$tool" --check-env)
if [ "$out" != "$back" ]; then
  printf 'Config::from_env() read back:\n%s\n' "$back"
  exit 1
fi

# shellcheck disable=SC2086
unset $vars
export QUANTA_PROFILE=latency QUANTA_PRIORITY_TIME_SLICES=31:200,0:5000
export QUANTA_STACK_GUARD=canary QUANTA_SWITCH_TARGET_NS=250 QUANTA_SCHEDTRACE=500
export QUANTA_METRICS=off QUANTA_THREAD_METRICS=1 QUANTA_TRACE_BUFFER=4096
export QUANTA_TRACE="traces/a trace's file.json"
all=$("$tool" --check-env)
printf '%s\n' "$all"
# shellcheck disable=SC2086
unset $vars
eval "$all"
again=$("$tool" --check-env)
if [ "$all" != "$again" ]; then
  printf 'Config::from_env() read back:\n%s\n' "$again"
  exit 1
fi
[ "$QUANTA_TRACE" = "traces/a trace's file.json" ] || {
  printf 'QUANTA_TRACE came back as: %s\n' "$QUANTA_TRACE"
  exit 1
}
