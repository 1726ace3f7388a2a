#!/usr/bin/env bash
# Installs botrun from its package tarballs (`pnpm -r --filter @botrun/core --filter @botrun/plugins
# pack`) into one self-contained folder with plain npm, and puts `botrun` on PATH:
#   PREFIX/node_modules/@botrun/{core,plugins}   compiled packages and their dependencies
#   PREFIX/bots/<name>/bot.ts                    the bots (they import @botrun/* from PREFIX)
#   BIN/botrun -> PREFIX/node_modules/.bin/botrun
# Run botrun with PREFIX as the working directory (the systemd unit and the Dockerfile do) so
# `botrun <name>` finds PREFIX/bots/<name>.
# Usage: deploy/install.sh --from DIR [--prefix /opt/botrun] [--bin /usr/local/bin] [--bots DIR]
set -euo pipefail
FROM="" PREFIX=/opt/botrun BIN=/usr/local/bin BOTS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    --bots) BOTS="$2"; shift 2 ;;
    *) echo "install.sh: unknown argument $1 (see the usage at the top of this file)" >&2; exit 2 ;;
  esac
done
[ -n "$FROM" ] || { echo "install.sh: --from: expected the folder with the botrun-core-*.tgz and botrun-plugins-*.tgz tarballs" >&2; exit 2; }
FROM="$(cd "$FROM" && pwd)"
[ -z "$BOTS" ] || BOTS="$(cd "$BOTS" && pwd)"
mkdir -p "$PREFIX/bots" "$BIN"
cd "$PREFIX"
[ -f package.json ] || printf '{ "name": "botrun-bots", "private": true, "type": "module" }\n' > package.json
# @botrun/fleet (botrun fleet, botrun accounts) when its tarball is there.
FLEET=(); for f in "$FROM"/botrun-fleet-*.tgz; do [ -f "$f" ] && FLEET+=("$f"); done
npm install --omit=dev --no-audit --no-fund --loglevel=error "$FROM"/botrun-core-*.tgz "$FROM"/botrun-plugins-*.tgz "${FLEET[@]}"
if [ -n "$BOTS" ]; then
  # The bots' sources only: their node_modules (workspace links) would shadow PREFIX's packages.
  tar -C "$BOTS" --exclude=node_modules --exclude='*.test.ts' -cf - . | tar -C "$PREFIX/bots" -xf -
fi
ln -sf "$PREFIX/node_modules/.bin/botrun" "$BIN/botrun"
echo "botrun installed in $PREFIX ($(ls "$PREFIX/bots" | tr '\n' ' ')); $BIN/botrun"
