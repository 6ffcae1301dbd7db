// Command fiber serves the chatwire echo bot from Fiber v2: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL), the AI SDK's
// UI message stream at /api/chat (with resume and stop, as examples/nethttp), a browser page
// at / and the browser client at /chatwire.js. It takes the shared flags of every
// example (see README.md), not -auth.
//
//	go run ./examples/fiber [-addr 127.0.0.1:8080] [-stream] [-redis URL] [-heartbeat 30s] [-max-message-size 65536] [-max-stored 100]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/aisdk/aisdkfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/middleware"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/requestid"
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

	drainer, app := newApp(hub, flags.ServeOptions().DrainDelay)
	ln, err := net.Listen("tcp", flags.Addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("chatwire example serving on http://%s (chat endpoint /chat, readiness %s)\n", demo.DisplayAddr(ln.Addr()), demo.ReadyPath)
	stop := drainer.Notify()
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }() // waited for below
	select {
	case err = <-errc:
	case <-drainer.Done():
		err = errors.Join(drainer.Drain(context.Background()), <-errc)
	}
	if err != nil {
		log.Print(err)
	}
}

// newApp returns the example's routes on a Fiber app, and the drainer that stops it: on
// SIGTERM/SIGINT readiness turns 503, every chat connection is closed with 1012 so clients
// resume on another instance, then the app stops.
func newApp(hub *core.Hub, drainDelay time.Duration) (*middleware.Drainer, *fiber.App) {
	app := fiber.New(serverConfig(10*time.Second, 60*time.Second))
	drainer := middleware.NewDrainer(hub, middleware.DrainOptions{
		Server: middleware.ShutdownFunc(app.ShutdownWithContext),
		Delay:  drainDelay,
	})
	app.Use(requestid.New()) // route middleware runs before the upgrade
	app.Get(demo.ReadyPath, adaptor.HTTPHandler(drainer.Ready()))
	app.Get(demo.ChatPath, wsfiber.New(hub, wsfiber.Options{}))
	// The AI SDK's useChat over SSE, natively on Fiber: POST /api/chat, GET
	// /api/chat/{id}/stream (resume), POST /api/chat/{id}/stop.
	sse := aisdkfiber.New(demo.AISDK(hub, demo.RouteOptions{}))
	app.All(demo.AISDKPath, sse)
	app.All(demo.AISDKPath+"/*", sse)
	app.Use(adaptor.HTTPHandler(demo.Static()))
	return drainer, app
}

// serverConfig is the Fiber configuration a chat server needs. readTimeout bounds how long a
// client may take to send a request, the upgrade request included: without it (Fiber's
// default) a client that sends its upgrade a byte a second holds a connection and a
// goroutine forever (slowloris). fasthttp clears the deadline before it hands an upgraded
// connection over, so chat connections are not cut by it; chatwire's heartbeats bound them
// instead. idleTimeout bounds keep-alive connections between requests.
func serverConfig(readTimeout, idleTimeout time.Duration) fiber.Config {
	return fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           readTimeout,
		IdleTimeout:           idleTimeout,
	}
}
