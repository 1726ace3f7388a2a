#!/usr/bin/env bash
# Runs the benchmarks and prints their figures (not part of the test suite's pass/fail).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
# Start-up side by side (raw @xmpp/client script vs `botrun echo`, token login): it builds and runs
# the compiled packages, as a user's install does, so it runs without the source condition below.
echo "== test/bench/startup.ts"
node_modules/.bin/tsx test/bench/startup.ts
# The other benchmarks import @botrun/* from the sources, as the workspace does (the "@botrun/source" export condition).
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--conditions=@botrun/source"
# The entry points (the other files there are their shared modules: stats.ts, echo-figures.ts).
for b in test/bench/pipeline.ts test/bench/echo.ts test/bench/fleet.ts; do
  echo "== $b"
  node_modules/.bin/tsx "$b"
done
