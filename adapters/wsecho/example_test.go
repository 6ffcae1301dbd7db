package wsecho_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/core"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Mount the chat endpoint in Echo. Route middleware (here a request id and an auth check)
// runs before the upgrade; Authenticate passes what it stored on to the chat handlers.
func Example() {
	hub := core.NewHub(core.Options{Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
	})})

	e := echo.New()
	e.Use(middleware.RequestID())
	e.GET("/chat", wsecho.New(hub, wsecho.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		Authenticate:   func(c echo.Context) (any, error) { return c.Get("user"), nil },
	}), requireUser)

	go func() {
		if err := e.Start(":8080"); !errors.Is(err, http.ErrServerClosed) {
			e.Logger.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hub.Shutdown(sctx) // chat connections first: hijacked connections are not Echo's
	_ = e.Shutdown(sctx)
}

// requireUser stands for an authentication middleware.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		user := c.QueryParam("user") // e.g. from a session cookie or a token
		if user == "" {
			return echo.ErrUnauthorized
		}
		c.Set("user", user)
		return next(c)
	}
}
