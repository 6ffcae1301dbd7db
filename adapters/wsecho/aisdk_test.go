package wsecho_test

import (
	"net/http/httptest"
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/labstack/echo/v4"
)

// TestAISDK runs the AI SDK endpoint cases with the endpoint mounted on Echo through
// echo.WrapHandler.
func TestAISDK(t *testing.T) {
	adaptertest.RunAISDK(t, func(t *testing.T, hub *core.Hub, opts aisdk.Options) string {
		h := echo.WrapHandler(aisdk.New(hub, opts))
		e := newEcho()
		e.Any("/api/chat", h)
		e.Any("/api/chat/*", h)
		srv := httptest.NewServer(e)
		t.Cleanup(func() {
			srv.CloseClientConnections()
			srv.Close()
		})
		return srv.URL + "/api/chat"
	})
}
