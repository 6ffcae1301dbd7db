package middleware_test

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// Stand-ins for the application's own parts.
var (
	bot   = echoBot
	store = core.NewMemoryStore(core.MemoryStoreOptions{})
)

// verifyJWT stands for the application's token check (a JWT library, a session lookup...).
func verifyJWT(ctx context.Context, token string) (principal any, expires time.Time, err error) {
	return nil, time.Time{}, errors.New("not implemented")
}

// mayJoin stands for the application's rule on who may read which session.
func mayJoin(ctx context.Context, principal any, sessionID string) error {
	return nil
}

// Authentication on upgrade and session authorization, shared by every adapter.
func ExampleAuth() {
	admit := middleware.Admit(
		// Bearer header, then the chatwire_token cookie, then the subprotocol
		// "chatwire.token.<token>" (the response selects "chatwire", never the token).
		middleware.Auth(middleware.AuthOptions{Verify: verifyJWT}),
		// Refused with 404 SESSION_NOT_FOUND before the upgrade: nothing is replayed.
		middleware.AuthorizeSession(mayJoin),
	)
	hub := core.NewHub(core.Options{Handler: bot, Store: store, Admit: admit})
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{
		AllowedOrigins: []string{"https://app.example.com"}, // cookies come from any site: check Origin
	}))
}

// Rate limits and connection caps.
func ExampleRateLimit() {
	mw := middleware.Chain(
		middleware.Hooks{Admit: middleware.Admit(
			middleware.Auth(middleware.AuthOptions{Verify: verifyJWT}),
			middleware.Caps(middleware.CapOptions{PerPrincipal: 5, PerSession: 20, PerIP: 100}), // else 429
		)},
		middleware.RateLimit(middleware.RateLimitOptions{
			PerConn:       middleware.PerSecond(5),   // RATE_LIMITED error envelopes
			PerPrincipal:  middleware.PerMinute(120), // over all of a user's connections
			MaxRejections: 20,                        // then close with 1008
		}),
	)
	hub := core.NewHub(mw.Apply(core.Options{Handler: bot, Store: store}))
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
}

// Structured logs: connections, disconnections, refusals and rejected frames, with the
// request id and session id, never message contents or tokens.
func ExampleLogging() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	mw := middleware.Chain(
		middleware.Logging(logger, middleware.LogOptions{PrincipalID: middleware.PrincipalID}),
		middleware.Hooks{Admit: middleware.Auth(middleware.AuthOptions{
			Verify:  verifyJWT,
			Sources: []middleware.Source{middleware.FromQuery("token")}, // logged as token=REDACTED
		})},
	)
	hub := core.NewHub(mw.Apply(core.Options{Handler: bot, Logger: logger}))
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
}

// Graceful shutdown on SIGTERM, a readiness endpoint, and a maximum connection age below
// the platform's 60-minute limit.
func ExampleNewDrainer() {
	maxAge := middleware.NewMaxAge(middleware.MaxAgeOptions{MaxAge: 50 * time.Minute, Jitter: 5 * time.Minute})
	defer maxAge.Close()
	// Closes each connection with 1012 at 45-55 minutes.
	hub := core.NewHub(maxAge.Hooks().Apply(core.Options{Handler: bot, Store: store}))

	srv := &http.Server{Addr: ":8080", ReadHeaderTimeout: 10 * time.Second}
	drainer := middleware.NewDrainer(hub, middleware.DrainOptions{Server: srv, Delay: 5 * time.Second})
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/readyz", drainer.Ready()) // 503 once draining
	srv.Handler = mux

	stop := drainer.Notify() // SIGTERM/SIGINT: not ready, close all with 1012, stop srv
	defer stop()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-drainer.Done()
}
