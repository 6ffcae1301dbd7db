package redislimit_test

import (
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/middleware/redislimit"
)

// Limits and caps shared by every instance through Redis.
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	limiter, err := redislimit.NewLimiter(client, redislimit.LimiterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	counter, err := redislimit.NewCounter(client, redislimit.CounterOptions{}) // 30s leases
	if err != nil {
		log.Fatal(err)
	}
	defer counter.Close() // after the hub's shutdown

	mw := middleware.Chain(
		middleware.Hooks{Admit: middleware.Caps(middleware.CapOptions{PerIP: 50, Counter: counter})},
		middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerSecond(5), Limiter: limiter}),
	)
	hub := core.NewHub(mw.Apply(core.Options{Handler: echoBot}))
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
}
