// Package middleware is chatwire's production toolkit: authentication and session
// authorization on upgrade, rate limits, connection caps, structured logging, connection
// age limits and graceful drain. Everything is built on the core's framework-neutral hooks
// (core.AdmitFunc, core.Guard and the Options observers), so the same middleware serves the
// net/http, Echo and Fiber adapters unchanged.
//
// # Composition
//
// Each middleware returns a Hooks value (or a core.AdmitFunc, which fits in one). Chain
// combines them; Apply installs the result on core.Options, admission included, so adapters
// need nothing more:
//
//	mw := middleware.Chain(
//		middleware.Logging(logger, middleware.LogOptions{}),
//		middleware.Hooks{Admit: middleware.Admit(
//			middleware.Auth(middleware.AuthOptions{Verify: verify}),
//			middleware.AuthorizeSession(mayJoin),
//			middleware.Caps(middleware.CapOptions{PerPrincipal: 5, PerIP: 50}),
//		)},
//		middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerSecond(5)}),
//	)
//	hub := core.NewHub(mw.Apply(core.Options{Handler: bot, Store: store}))
//	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
//
// Order matters where one middleware uses another's result: Auth before AuthorizeSession
// and Caps, which see the principal it verified. Releases run in reverse order, and a
// refusal releases what the functions before it had taken. Logging may go anywhere: its
// OnRefuse sees every refusal of the chain.
//
// # Refusals and close codes
//
//   - Missing, invalid or expired credentials: 401 "Unauthorized" before the upgrade; valid
//     credentials of a principal that may not connect (ErrForbidden): 403.
//   - A session the principal may not join: 404 "SESSION_NOT_FOUND", whether it exists or
//     not (see AuthorizeSession).
//   - A connection cap reached: 429 with a text body naming the cap.
//   - Credentials that expire while connected: the hub closes with 1008.
//   - A message over a rate limit: an error envelope with code RATE_LIMITED; a connection that
//     keeps flooding: closed with 1008.
//   - MaxAge and Drainer: closed with 1012 (service restart); clients reconnect.
//
// The packages metrics (Prometheus) and redislimit (limits and caps shared across instances
// through Redis) are separate, so programs that need neither never import their
// dependencies.
//
// # Concurrency
//
// Every type and function here is safe for concurrent use. Hooks run on the hub's
// connection goroutines and never block on the network except through a Limiter or Counter
// the caller supplies. Goroutines and timers have owners: MaxAge's timers are stopped by
// disconnects and Close, a Drainer's signal goroutine by the stop function Notify returns;
// nothing else starts one.
package middleware
