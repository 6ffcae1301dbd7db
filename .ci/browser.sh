#!/usr/bin/env bash
# Browser tests of the demo page and chatwire.js. Installs Debian's chromium (and nodejs)
# when missing, then:
#   - node --test examples/e2e/js/: chatwire.js's logic (dedupe, stream assembly, reconnect
#     policy, backoff) against a fake WebSocket;
#   - the examples/e2e Go module (its own go.mod, so `go test ./...` in the root needs no
#     browser): headless Chromium, driven by chromedp, loads the page of
#     examples/nethttp -stream served in process, watches a streamed reply survive a server
#     restart exactly once, and stops another; and, on examples/nethttp -auth, shows "sign in"
#     and "not allowed" (refusal frames) without retrying them, the outbox while offline, a
#     too-large message failed with its reason and dismissed, and a new session named by the
#     server's welcome frame.
# Screenshots go to test-artifacts/browser/ (gitignored; or $ARTIFACTS_DIR) and the test
# prints their paths. About a minute, most of it building with -race.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "installing chromium from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
"$CHROMIUM" --version 2>/dev/null || true
if ! command -v node >/dev/null 2>&1; then
  echo "installing nodejs from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
fi

echo "== chatwire.js unit tests (node --test) =="
node --test examples/e2e/js/

export CHROMIUM
export CI="${CI:-true}" # the test fails instead of skipping when Chromium is missing
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$PWD/test-artifacts/browser}"
mkdir -p "$ARTIFACTS_DIR"

echo "== browser end-to-end test (go test in examples/e2e) =="
cd examples/e2e
go vet ./...
timeout 240 go test -race -count=1 -v -timeout 180s ./...
echo "screenshots: $ARTIFACTS_DIR"
