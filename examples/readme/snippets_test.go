package readme_test

// The README's other Go snippets, verbatim, each in a function of its own ("Use it",
// "Mount in Fiber", "Stream LLM replies", the production sections and the Go client).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/middleware/metrics"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var _ = []any{useIt, mountFiber, streamReplies, authentication, originAndHost, limits, logsAndMetrics, shutdown, goClient}

func useIt() {
	store := core.NewMemoryStore(core.MemoryStoreOptions{}) // nil Store = stateless transport
	hub := core.NewHub(core.Options{
		Store: store,
		Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
		}),
	})
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	// ... on shutdown: hub.Shutdown(ctx) closes every connection with 1001 (clients reconnect).
}

func mountFiber() {
	hub := core.NewHub(core.Options{
		Handler: bot,
		Admit:   middleware.Auth(middleware.AuthOptions{Verify: verifyJWT}), // see Authentication
	})

	// Fiber has no read timeout by default: a client sending its upgrade request a byte a
	// second would hold a connection forever (slowloris). fasthttp clears the deadline when it
	// hands over an upgraded connection, so these never cut a chat connection.
	app := fiber.New(fiber.Config{ReadTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second})
	app.Use(requestid.New()) // route middleware runs before the upgrade
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{
		AllowedOrigins: []string{"https://app.example.com"}, // default: same host only
	}))

	// On shutdown: app.ShutdownWithContext(ctx), then hub.Shutdown(ctx).
}

func streamReplies() *core.Hub {
	hub := core.NewHub(core.Options{
		Store: store, // the memory store, or redisstore for several instances
		Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			s, err := w.Stream(ctx) // every connection of the session sees the stream start
			if err != nil {
				return err
			}
			for tok := range model.Tokens(s.Context(), req.Message.Content) { // cancelled on Stop
				if err := s.Delta(ctx, tok); err != nil {
					return err
				}
			}
			return s.Close(ctx) // stored as ONE assistant message ("done" or "cancelled")
		}),
	})
	return hub
}

func authentication() {
	admit := middleware.Admit(
		middleware.Auth(middleware.AuthOptions{Verify: verifyJWT}), // Bearer, cookie, subprotocol
		middleware.AuthorizeSession(mayJoin),                       // func(ctx, principal, sessionID) error
	)
	hub := core.NewHub(core.Options{Handler: bot, Store: store, Admit: admit})
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
}

func originAndHost(hub *core.Hub) {
	wshttp.New(hub, wshttp.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedHosts:   []string{"chat.example.com"},
	})
}

func limits() {
	mw := middleware.Chain(
		middleware.Hooks{Admit: middleware.Admit(
			middleware.Auth(middleware.AuthOptions{Verify: verifyJWT}),
			middleware.Caps(middleware.CapOptions{PerPrincipal: 5, PerSession: 20, PerIP: 100}),
		)},
		middleware.RateLimit(middleware.RateLimitOptions{
			PerConn:       middleware.PerSecond(5),
			PerPrincipal:  middleware.PerMinute(120),
			MaxRejections: 20,
		}),
	)
	hub := core.NewHub(mw.Apply(core.Options{Handler: bot, Store: store}))
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
}

func logsAndMetrics() {
	m, err := metrics.New(prometheus.DefaultRegisterer, metrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	mw := middleware.Chain(
		middleware.Logging(logger, middleware.LogOptions{PrincipalID: middleware.PrincipalID}),
		m.Hooks(),
	)
	hub := core.NewHub(mw.Apply(core.Options{Handler: bot, Store: m.Store(store), Logger: logger}))
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	http.Handle("/metrics", promhttp.Handler())
}

func shutdown() {
	maxAge := middleware.NewMaxAge(middleware.MaxAgeOptions{MaxAge: 50 * time.Minute, Jitter: 5 * time.Minute})
	defer maxAge.Close()
	hub := core.NewHub(maxAge.Hooks().Apply(core.Options{Handler: bot, Store: store})) // nothing else to wire

	srv := &http.Server{Addr: ":8080", ReadHeaderTimeout: 10 * time.Second}
	drainer := middleware.NewDrainer(hub, middleware.DrainOptions{Server: srv, Delay: 5 * time.Second})
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/readyz", drainer.Ready())
	srv.Handler = mux
	stop := drainer.Notify() // SIGTERM, SIGINT
	defer stop()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-drainer.Done()
}

func goClient(ctx context.Context) {
	c, err := client.Dial(ctx, "ws://127.0.0.1:8080/chat", client.Options{SessionID: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close() // or cancel ctx
	c.SendText(ctx, "hello")
	for ev := range c.Events() { // closed when the client stops
		switch ev.Kind {
		case client.EventMessage:
			fmt.Println(ev.Message.Role+":", ev.Message.Content)
		case client.EventStream:
			fmt.Print(ev.Stream.Delta) // redraw ev.Stream.Text when ev.Stream.Replaced
		case client.EventStreamEnd:
			fmt.Println(" —", ev.Stream.State) // done, cancelled, error
		case client.EventHistoryReset:
			fmt.Println("— history reset —") // the server lost it; clear, the new history follows
		}
	}
}

// clearScreen stands for whatever a program does to forget the messages it showed.
func clearScreen() {}
