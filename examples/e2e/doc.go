// Package e2e holds the end-to-end test of the browser client: headless Chromium (Debian's
// chromium package, driven with chromedp) loads the demo page of examples/nethttp -stream,
// served in process, and checks that a streamed reply grows, survives a server restart on
// the same address exactly once, and can be stopped. It is its own module so that the
// repository's go test ./... needs no browser; run it with .ci/browser.sh or
//
//	cd examples/e2e && go test -v -count=1 ./...
//
// Screenshots land in test-artifacts/browser at the repository root (or $ARTIFACTS_DIR).
package e2e
