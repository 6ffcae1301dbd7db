package wsecho_test

import (
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/core"
)

// BenchmarkAdapter measures send→reply round trips through Echo and wsecho over loopback,
// with server-side allocations per message (see adaptertest.RunBenchmarks).
func BenchmarkAdapter(b *testing.B) {
	adaptertest.RunBenchmarks(b, func(b *testing.B, hub *core.Hub) string {
		e := newEcho()
		e.GET("/chat", wsecho.New(hub, wsecho.Options{}))
		return serveEcho(b, e, "/chat")
	})
}
