package wsfiber_test

import (
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/core"
)

// BenchmarkAdapter measures send→reply round trips through Fiber and wsfiber over loopback,
// with server-side allocations per message (see adaptertest.RunBenchmarks).
func BenchmarkAdapter(b *testing.B) {
	adaptertest.RunBenchmarks(b, func(b *testing.B, hub *core.Hub) string {
		app := newApp()
		app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
		return "ws://" + serveApp(b, app) + "/chat"
	})
}
