package metrics_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/middleware/metrics"
)

// Prometheus metrics for a hub: connections, frames, rejections, replays, handler and store
// latency, refused upgrades.
func Example() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		log.Fatal(err)
	}
	mw := middleware.Chain(m.Hooks() /* , logging, limits... */)
	store := m.Store(core.NewMemoryStore(core.MemoryStoreOptions{})) // times every store call
	hub := core.NewHub(mw.Apply(core.Options{Handler: echoBot, Store: store}))
	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
