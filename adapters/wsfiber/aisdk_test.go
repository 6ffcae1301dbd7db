package wsfiber_test

import (
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
)

// TestAISDK runs the AI SDK endpoint cases with the endpoint served natively by Fiber.
func TestAISDK(t *testing.T) {
	adaptertest.RunAISDK(t, func(t *testing.T, hub *core.Hub, opts aisdk.Options) string {
		h := wsfiber.AISDK(aisdk.New(hub, opts))
		app := newApp()
		app.All("/api/chat", h)
		app.All("/api/chat/*", h)
		return "http://" + serveApp(t, app) + "/api/chat"
	})
}
