#!/usr/bin/env bash
# Runs the benchmarks and prints their figures (not part of the test suite's pass/fail).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
# The benchmarks import @botrun/* from the sources, as the workspace does (the "@botrun/source" export condition).
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--conditions=@botrun/source"
for b in test/bench/*.ts; do
  echo "== $b"
  node_modules/.bin/tsx "$b"
done
