#!/usr/bin/env bash
# The Node client written from PROTOCOL.md alone (examples/e2e/node/resume.test.mjs), run
# against a running example: builds examples/nethttp, starts it on a free loopback port,
# runs the test with the `ws` npm package (installed here with npm ci from the lockfile) and
# stops the server. Installs nodejs and npm from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
node --version

(cd examples/e2e/node && npm ci --no-audit --no-fund --loglevel=error)

tmp=$(mktemp -d)
go build -o "$tmp/nethttp" ./examples/nethttp
# Port 0: the kernel picks a free port; the example prints the URL it serves.
"$tmp/nethttp" -addr 127.0.0.1:0 >"$tmp/server.out" 2>"$tmp/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/server.out" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "the example did not start"; cat "$tmp/server.out" "$tmp/server.log"; exit 1; }

echo "== Node client from PROTOCOL.md against examples/nethttp on 127.0.0.1:$port =="
if ! CI="${CI:-true}" CHATWIRE_URL="ws://127.0.0.1:$port/chat" node --test examples/e2e/node/; then
  echo "server log:"; cat "$tmp/server.log"
  exit 1
fi
