#!/usr/bin/env bash
# The whole test suite in one command (`npm test`): installs what the tests need (Node
# dependencies; Prosody, Redis, slixmpp and dnsmasq from Debian's packages), type-checks,
# then runs the offline and real-server suites. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install-system-deps.sh
echo "== type check"
node_modules/.bin/tsc -p tsconfig.json --noEmit
echo "== tests"
node_modules/.bin/vitest run "$@"
