// Command nethttp serves the chatwire echo bot from net/http: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL), the AI SDK's
// UI message stream for useChat at /api/chat (resume: GET /api/chat/{id}/stream, stop: POST
// /api/chat/{id}/stop), a browser page at / (useChat's at /usechat/), the browser client at
// /chatwire.js, and the readiness endpoint at /readyz (503 while draining after SIGTERM).
// Connections are logged with log/slog (no message contents, no tokens).
//
//	go run ./examples/nethttp [-addr 127.0.0.1:8080] [-stream] [-redis redis://localhost:6379/0] [-auth]
//
// With -auth, the chat endpoint requires a token: open /login?name=alice to get one as a
// cookie (the page then connects with it), or pass it as "Authorization: Bearer", as the
// subprotocol "chatwire.token.<token>" next to "chatwire", or as ?token= (redacted in
// logs). A session belongs to the first user who opens it: anyone else gets 404
// SESSION_NOT_FOUND. Tokens expire after -auth-ttl; the connection is then closed with 1008.
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/middleware"
)

func main() {
	flags := demo.RegisterFlags(nil)
	withAuth := flag.Bool("auth", false, "require a token (get one at /login?name=alice) and bind each session to its first user")
	authTTL := flag.Duration("auth-ttl", time.Hour, "lifetime of the tokens /login issues (with -auth)")
	flag.Parse()

	store, closeStore, err := flags.OpenStore()
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	handler, hub := newServer(flags, store, demo.Logger(), *withAuth, *authTTL)
	if err := demo.Serve(flags.Addr, handler, hub, flags.ServeOptions()); err != nil {
		log.Print(err)
	}
}

// newServer returns the example's routes and the hub behind them.
func newServer(flags *demo.Flags, store core.Store, logger *slog.Logger, withAuth bool, authTTL time.Duration) (http.Handler, *core.Hub) {
	mw := middleware.Logging(logger, middleware.LogOptions{PrincipalID: middleware.PrincipalID})
	var a *demo.Auth
	if withAuth {
		a = demo.NewAuth(authTTL)
		mw = middleware.Chain(mw, a.Hooks())
	}
	hub := core.NewHub(mw.Apply(flags.HubOptions(flags.Bot(), store, logger)))
	mux := demo.Routes(hub, demo.RouteOptions{Logger: logger})
	if a != nil {
		mux.HandleFunc(demo.LoginPath, a.Login)
	}
	return mux, hub
}
