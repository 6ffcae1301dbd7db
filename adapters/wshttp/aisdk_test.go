package wshttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
)

// TestAISDK runs the AI SDK endpoint cases with the endpoint mounted on net/http.
func TestAISDK(t *testing.T) {
	adaptertest.RunAISDK(t, func(t *testing.T, hub *core.Hub, opts aisdk.Options) string {
		ep := aisdk.New(hub, opts)
		mux := http.NewServeMux()
		mux.Handle("/api/chat", ep)
		mux.Handle("/api/chat/", ep)
		srv := httptest.NewServer(mux)
		t.Cleanup(func() {
			srv.CloseClientConnections()
			srv.Close()
		})
		return srv.URL + "/api/chat"
	})
}
