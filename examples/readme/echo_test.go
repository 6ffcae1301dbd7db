package readme_test

// The README's "Mount in Echo" snippet, verbatim: a file of its own for its import block.

import (
	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

func mountEcho(bot core.Handler, verifyJWT middleware.Verifier) *echo.Echo {
	hub := core.NewHub(core.Options{
		Handler: bot,
		Admit:   middleware.Auth(middleware.AuthOptions{Verify: verifyJWT}), // see Authentication
	})

	e := echo.New()
	e.Use(echomw.RequestID()) // route and group middleware run before the upgrade
	e.GET("/chat", wsecho.New(hub, wsecho.Options{
		AllowedOrigins: []string{"https://app.example.com"}, // default: same host only
	}))
	// On shutdown: e.Shutdown(ctx), then hub.Shutdown(ctx) (upgraded connections are not Echo's).
	return e
}

var _ = mountEcho
