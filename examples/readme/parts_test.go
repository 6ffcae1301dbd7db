package readme_test

// The README's "Replies as parts" and "Use with the AI SDK" snippets, verbatim.

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/aisdk/aisdkfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/gofiber/fiber/v2"
	"github.com/labstack/echo/v4"
)

var _ = []any{replyParts, useWithAISDK}

func replyParts(ctx context.Context, s *core.Stream) {
	r, _ := s.StartReasoning(ctx) // reasoning: never in content
	_ = r.Delta(ctx, "The user asks about Paris.")
	_ = r.End(ctx)
	call, _ := s.StartToolCall(ctx, core.ToolCallInfo{Name: "weather"})
	_ = call.InputDelta(ctx, `{"city":"Paris"}`)             // input streams in...
	_ = call.Input(ctx, json.RawMessage(`{"city":"Paris"}`)) // ...then is available
	_ = call.Output(ctx, json.RawMessage(`{"sky":"sunny"}`)) // or call.Fail(ctx, "text")
	_ = s.SourceURL(ctx, core.SourceURL{URL: "https://example.com/paris"})
	_ = s.Data(ctx, core.Data{Name: "progress", ID: "p", Value: json.RawMessage(`{"pct":50}`)})
	_ = s.Delta(ctx, "It is sunny in Paris.") // text (Delta starts a text part)
	s.SetFinishReason(core.FinishStop)
}

func useWithAISDK(hub *core.Hub, mux *http.ServeMux, e *echo.Echo, app *fiber.App) {
	sse := aisdk.New(hub, aisdk.Options{}) // AllowedOrigins/AllowedHosts: same lists as the adapter
	mux.Handle("/api/chat", sse)           // net/http
	mux.Handle("/api/chat/", sse)
	e.Any("/api/chat", echo.WrapHandler(sse)) // Echo
	e.Any("/api/chat/*", echo.WrapHandler(sse))
	h := aisdkfiber.New(sse) // Fiber, natively (package aisdk/aisdkfiber)
	app.All("/api/chat", h)
	app.All("/api/chat/*", h)
}
