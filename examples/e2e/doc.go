// Package e2e holds the end-to-end test of the browser client: headless Chromium (Debian's
// chromium package, driven with chromedp) loads the demo page of examples/nethttp -stream,
// served in process, and checks that a streamed reply grows, survives a server restart on
// the same address exactly once, shows its parts (reasoning, tool call, source, text) in
// order, and can be stopped; and the useChat page (/usechat/, stock useChat from
// @ai-sdk/react) on both transports, SSE and ChatwireTransport, on two instances sharing
// Redis: a reply renders, a second browser sees it stream, a reload on the other instance
// resumes it with no duplicate, Stop cancels it. It is its own module so that the
// repository's go test ./... needs no browser; run it with .ci/browser.sh or
//
//	cd examples/e2e && go test -v -count=1 ./...
//
// Screenshots land in test-artifacts/browser at the repository root (or $ARTIFACTS_DIR).
package e2e
