#!/bin/sh
# quanta-tune --env prints lines the shell accepts and that Config::from_env()
# reads back as the same values (quanta-tune --check-env prints what it read).
# usage: env_round_trip.sh path/to/quanta-tune
set -eu
tool=$1
out=$("$tool" --env)
printf '%s\n' "$out"
eval "$out"
back=$("$tool" --check-env)
if [ "$out" != "$back" ]; then
  printf 'Config::from_env() read back:\n%s\n' "$back"
  exit 1
fi
