// Command fiber serves the chatwire echo bot from Fiber v2: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL) and a browser
// page at /. It takes the same flags as examples/nethttp.
//
//	go run ./examples/fiber -addr :8080 [-heartbeat 30s] [-max-message-size 65536] [-max-stored 100]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
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

	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(requestid.New()) // route middleware runs before the upgrade
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
	app.Use(adaptor.HTTPHandler(demo.Static()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, flags.Addr, app, hub); err != nil {
		log.Print(err)
	}
}

// serve runs app on addr until ctx ends, then stops the app and shuts hub down (upgraded
// connections are not Fiber's), within demo.ShutdownTimeout.
func serve(ctx context.Context, addr string, app *fiber.App, hub *core.Hub) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("chatwire example serving on http://%s (chat endpoint /chat)\n", displayAddr(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }() // waited for below
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), demo.ShutdownTimeout)
	defer cancel()
	// Stop accepting first, so clients told to go away do not reconnect here meanwhile;
	// Fiber does not wait for upgraded connections, the hub does.
	serr := app.ShutdownWithContext(sctx)
	_ = ln.Close() // ends Listener even if the signal came before it started serving
	herr := hub.Shutdown(sctx)
	return errors.Join(serr, herr, <-errc)
}

// displayAddr shows a wildcard listen address as localhost, so the printed URL opens.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
