#!/usr/bin/env bash
# Makes a fresh clone runnable: npm dependencies (Node.js 24 comes with them) and the system
# packages the local stack needs (redis-server, Postgres 15 server binaries; Chromium for tests).
# Installs what is missing when it can (root, or passwordless sudo); otherwise says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[ "${1:-}" = "--test" ] && want_browser=1

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null 2>&1 || missing+=(postgresql-15)
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  missing+=(chromium)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ]; then
    echo "ledgerhub: missing system packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "ledgerhub: installing ${missing[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: install when absent or when package-lock.json changed since the last install
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ledgerhub: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
