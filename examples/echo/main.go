// Command echo serves the chatwire echo bot from Echo v4: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL), the AI SDK's
// UI message stream at /api/chat (with resume and stop, as examples/nethttp), a browser page
// at / and the browser client at /chatwire.js. It takes the shared flags of every
// example (see README.md), not -auth.
//
//	go run ./examples/echo [-addr 127.0.0.1:8080] [-stream] [-redis URL] [-heartbeat 30s] [-max-message-size 65536] [-max-stored 100]
package main

import (
	"flag"
	"log"

	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

func main() {
	flags := demo.RegisterFlags(nil)
	flag.Parse()

	store, closeStore, err := flags.OpenStore()
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	hub := core.NewHub(flags.HubOptions(flags.Bot(), store, demo.Logger()))
	e := newEcho(hub)
	// *echo.Echo is an http.Handler: the shared run loop serves it, printing the address, and
	// on SIGINT/SIGTERM shuts the hub down (hijacked connections are not the server's), then
	// the server.
	if err := demo.ListenAndServe(flags.Addr, e, hub); err != nil {
		log.Print(err)
	}
}

// newEcho returns the example's routes on an Echo instance.
func newEcho(hub *core.Hub) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover(), middleware.RequestID()) // route middleware runs before the upgrade
	e.GET(demo.ChatPath, wsecho.New(hub, wsecho.Options{}))
	// The AI SDK's useChat over SSE: POST /api/chat, GET /api/chat/{id}/stream (resume),
	// POST /api/chat/{id}/stop.
	sse := echo.WrapHandler(demo.AISDK(hub, demo.RouteOptions{}))
	e.Any(demo.AISDKPath, sse)
	e.Any(demo.AISDKPath+"/*", sse)
	e.GET("/*", echo.WrapHandler(demo.Static()))
	return e
}
