// Package metrics exports chatwire's Prometheus metrics, fed by the hub's hooks: open
// connections, frames in and out by envelope type, rejected frames by code, send failures,
// replays and their sizes, handler latency, refused upgrades by status, and (through the
// Store decorator) store latency by operation. It is a separate package so that programs
// that do not use Prometheus never import it.
//
//	m, err := metrics.New(prometheus.DefaultRegisterer, metrics.Options{})
//	if err != nil { ... }
//	mw := middleware.Chain(m.Hooks(), otherHooks)
//	hub := core.NewHub(mw.Apply(core.Options{Handler: bot, Store: m.Store(store)}))
//	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
//	mux.Handle("/metrics", promhttp.Handler())
//
// Metric names (namespace "chatwire" by default): connections_open, connections_total,
// disconnections_total{code}, connection_duration_seconds, upgrades_refused_total{status},
// frames_in_total{type}, frames_in_bytes_total, frames_out_total{type},
// frames_out_bytes_total, frames_rejected_total{code}, send_failures_total, replays_total,
// replayed_messages, handler_duration_seconds{outcome}, store_duration_seconds{op,result}.
// Every label has a bounded set of values; no metric carries a session, connection or
// principal id.
//
// A send queue that overflows closes its connection with 1008 without a frame event: it shows
// in disconnections_total{code="1008"} (together with policy violations and expired
// credentials), not in send_failures_total.
//
// # Concurrency
//
// Metrics and the Store decorator are safe for concurrent use; the hooks only update
// collectors and never block. One Metrics may serve several hubs.
package metrics
