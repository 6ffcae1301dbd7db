package demo

import (
	"log/slog"
	"net/http"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
)

// ChatPath is where every example serves chatwire's WebSocket endpoint.
const ChatPath = "/chat"

// AISDKPath is where every example serves the AI SDK's UI message stream over SSE:
// POST AISDKPath (useChat's DefaultChatTransport), GET AISDKPath/{id}/stream (resume) and
// POST AISDKPath/{id}/stop (stop the running reply wherever it runs).
const AISDKPath = "/api/chat"

// RouteOptions tunes Routes. Both endpoints admit requests with the hub's
// core.Options.Admit (auth, caps, rate limits).
type RouteOptions struct {
	// Logger receives the endpoints' warnings. Default: nil, silent.
	Logger *slog.Logger
}

// AISDK returns the AI SDK endpoint for hub, as every example configures it.
func AISDK(hub *core.Hub, opts RouteOptions) *aisdk.Endpoint {
	return aisdk.New(hub, aisdk.Options{Logger: opts.Logger})
}

// Routes returns what a net/http example serves for hub: the WebSocket endpoint at ChatPath,
// the AI SDK endpoint at AISDKPath, and Static at / (the demo page, /chatwire.js and the
// useChat page).
func Routes(hub *core.Hub, opts RouteOptions) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(ChatPath, wshttp.New(hub, wshttp.Options{}))
	sse := AISDK(hub, opts)
	mux.Handle(AISDKPath, sse)
	mux.Handle(AISDKPath+"/", sse)
	mux.Handle("/", Static())
	return mux
}
