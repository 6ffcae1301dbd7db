package wshttp_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
)

// BenchmarkAdapter measures send→reply round trips through net/http and wshttp over
// loopback, with server-side allocations per message (see adaptertest.RunBenchmarks).
func BenchmarkAdapter(b *testing.B) {
	adaptertest.RunBenchmarks(b, func(b *testing.B, hub *core.Hub) string {
		srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{}))
		b.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
	})
}
