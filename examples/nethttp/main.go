// Command nethttp serves the chatwire echo bot from net/http: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL), a browser
// page at /, and the readiness endpoint at /readyz (503 while draining after SIGTERM).
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
	"net/http"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/aisdk"
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
	logger := demo.Logger()
	mux := http.NewServeMux()
	mw := middleware.Logging(logger, middleware.LogOptions{PrincipalID: middleware.PrincipalID})
	if *withAuth {
		a := demo.NewAuth(*authTTL)
		mw = middleware.Chain(mw, a.Hooks())
		mux.HandleFunc(demo.LoginPath, a.Login)
	}
	hub := core.NewHub(mw.Apply(flags.HubOptions(flags.Bot(), store, logger)))

	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	// The AI SDK's useChat (DefaultChatTransport) over SSE: POST /api/chat, resume with
	// GET /api/chat/{id}/stream, stop with POST /api/chat/{id}/stop.
	sse := aisdk.New(hub, aisdk.Options{Logger: logger})
	mux.Handle("/api/chat", sse)
	mux.Handle("/api/chat/", sse)
	mux.Handle("/", demo.Static())
	if err := demo.Serve(flags.Addr, mux, hub, flags.ServeOptions()); err != nil {
		log.Print(err)
	}
}
