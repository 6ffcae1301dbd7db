package wsfiber_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/gofiber/fiber/v2/utils"
)

// Mount the chat endpoint in Fiber. Route middleware (here a request id and an auth check)
// runs before the upgrade; Authenticate passes what it stored on to the chat handlers.
func Example() {
	hub := core.NewHub(core.Options{Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
	})})

	app := fiber.New()
	app.Use(requestid.New())
	app.Get("/chat", requireUser, wsfiber.New(hub, wsfiber.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		// Runs before the upgrade: fasthttp recycles c afterwards.
		Authenticate: func(c *fiber.Ctx) (any, error) { return c.Locals("user"), nil },
	}))

	go func() {
		if err := app.Listen(":8080"); err != nil {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hub.Shutdown(sctx) // chat connections first: hijacked connections are not Fiber's
	_ = app.ShutdownWithContext(sctx)
}

// requireUser stands for an authentication middleware.
func requireUser(c *fiber.Ctx) error {
	user := c.Query("user") // e.g. from a session cookie or a token
	if user == "" {
		return fiber.ErrUnauthorized
	}
	c.Locals("user", utils.CopyString(user)) // c.Query's string is only valid during the request
	return c.Next()
}
