#!/usr/bin/env bash
# Installs the project's Node dependencies with the pinned pnpm (fetched by npx from the npm
# registry: nothing needs to be installed beforehand but Node 20 and npm). Any pnpm 10 or later
# reads the same lockfile and workspace settings (pnpm-workspace.yaml), so `pnpm install` works too.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM="npx -y pnpm@10.34.8"
if [ -f pnpm-lock.yaml ]; then
  $PNPM install --frozen-lockfile --reporter=append-only
else
  $PNPM install --reporter=append-only
fi
