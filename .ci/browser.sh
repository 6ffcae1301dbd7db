#!/usr/bin/env bash
# Browser and node tests of the demo page, the useChat page and chatwire.js. Installs Debian's
# chromium (and nodejs, npm) when missing, then:
#   - node --test examples/e2e/js/: chatwire.js's logic (dedupe, stream assembly, reconnect
#     policy, backoff) against a fake WebSocket;
#   - the useChat page (examples/usechat, vite): npm ci, build, and the committed bundle in
#     examples/internal/demo/static/usechat/ must equal the fresh build;
#   - examples/e2e/aisdk/ai5 and ai6: the real `ai` package (5.0.0 and 6.0.325, each pinned with
#     its own lockfile) against examples/cluster: DefaultChatTransport over SSE and
#     ChatwireTransport over the WebSocket (the ws package), resume on the other instance;
#   - the examples/e2e Go module (its own go.mod, so `go test ./...` in the root needs no
#     browser): headless Chromium, driven by chromedp, loads the page of
#     examples/nethttp -stream served in process, watches a streamed reply survive a server
#     restart exactly once, and stops another; and, on examples/nethttp -auth, shows "sign in"
#     and "not allowed" (refusal frames) without retrying them, the outbox while offline, a
#     too-large message failed with its reason and dismissed, and a new session named by the
#     server's welcome frame.
# Screenshots go to test-artifacts/browser/ (gitignored; or $ARTIFACTS_DIR) and the test
# prints their paths. About three minutes, most of it building with -race and the npm installs.
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

if ! command -v npm >/dev/null 2>&1; then
  echo "installing npm from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
node --version
npm --version

echo "== chatwire.js unit tests (node --test) =="
node --test examples/e2e/js/

echo "== the useChat page: rebuild, and the committed bundle must match =="
# The examples embed the built page (examples/internal/demo/static/usechat/) so that they run
# with only Go installed; its sources live in examples/usechat/.
(cd examples/usechat && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
if ! git diff --exit-code -- examples/internal/demo/static/usechat \
  || [ -n "$(git status --porcelain --untracked-files=all -- examples/internal/demo/static/usechat)" ]; then
  git status --short -- examples/internal/demo/static/usechat
  echo "the committed useChat bundle differs from a fresh build: run (cd examples/usechat && npm ci && npm run build) and commit"
  exit 1
fi

echo "== AI SDK tests: the real \`ai\` 5 and 6 against examples/cluster (node --test) =="
# Two instances sharing Redis ($REDIS_URL when .ci/run started one, else the example's
# embedded miniredis); the cluster binary is built once for both suites.
AISDK_TMP=$(mktemp -d)
trap 'rm -rf "$AISDK_TMP"' EXIT
go build -o "$AISDK_TMP/cluster" ./examples/cluster
for v in ai5 ai6; do
  (cd "examples/e2e/aisdk/$v" && npm ci --no-audit --no-fund --loglevel=error \
    && CHATWIRE_CLUSTER_BIN="$AISDK_TMP/cluster" timeout 300 npm test --silent)
done

export CHROMIUM
export CI="${CI:-true}" # the test fails instead of skipping when Chromium is missing
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$PWD/test-artifacts/browser}"
mkdir -p "$ARTIFACTS_DIR"

echo "== browser end-to-end test (go test in examples/e2e) =="
cd examples/e2e
go vet ./...
timeout 240 go test -race -count=1 -v -timeout 180s ./...
echo "screenshots: $ARTIFACTS_DIR"
