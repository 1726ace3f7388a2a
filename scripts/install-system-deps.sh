#!/usr/bin/env bash
# Installs the Debian packages the real-server tests need (Prosody, slixmpp, Redis, a DNS
# server, openssl) and makes sure none of their system services is left running.
# Idempotent: packages already installed are skipped quietly. Run as root on Debian 12.
set -euo pipefail

PACKAGES=(
  prosody            # XMPP server (0.12) run by test/env/prosody.ts in the foreground
  ejabberd           # XMPP server (23.01: SCRAM-SHA-256/512, -PLUS) run by test/env/ejabberd.ts in the foreground
  prosody-modules    # community modules: mod_http_upload (XEP-0363) for test/real/native-upload
  lua-sec            # TLS for Prosody (STARTTLS, direct TLS, https introspection)
  lua-socket         # Prosody networking
  lua-expat          # Prosody XML parser
  lua-filesystem     # Prosody storage
  lua-unbound        # Prosody DNS resolver (net.http name lookups)
  python3-slixmpp    # peer client for tests (test/env/slixmpp-peer.py)
  redis-server       # storage adapter tests
  dnsmasq-base       # local DNS server for SRV tests (binary only, no system service)
  openssl            # self-signed certificates
  ca-certificates
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps.sh: must run as root" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  # Deny service starts while installing: keep an existing policy-rc.d, else add one temporarily.
  POLICY=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
    added_policy=1
  fi
  trap '[ "$added_policy" = 1 ] && rm -f "$POLICY"' EXIT

  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/install-system-deps.log 2>&1; then
    apt-get update -q >>/tmp/install-system-deps.log 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/install-system-deps.log 2>&1 || {
      echo "install-system-deps.sh: apt-get install failed, see /tmp/install-system-deps.log" >&2
      exit 1
    }
  fi
  echo "installed: ${missing[*]}"
fi

# Stop any daemon the packages may have started anyway, by its PID file (never by name).
stop_by_pidfile() {
  local f="$1" pid
  [ -r "$f" ] || return 0
  pid="$(tr -dc '0-9' <"$f")"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    echo "stopping system daemon pid $pid ($f)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
}
stop_by_pidfile /run/prosody/prosody.pid
stop_by_pidfile /var/run/prosody/prosody.pid
stop_by_pidfile /run/redis/redis-server.pid
stop_by_pidfile /run/dnsmasq/dnsmasq.pid

# Keep the services from starting at boot where systemd is in use (no-op in containers).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now prosody redis-server ejabberd >/dev/null 2>&1 || true
fi
exit 0
