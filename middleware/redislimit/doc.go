// Package redislimit shares chatwire's rate limits and connection caps between instances
// through Redis (or Redis Cluster), with go-redis v9: Limiter implements middleware.Limiter
// and Counter implements middleware.Counter. It is a separate package so that programs that
// limit in memory never import go-redis.
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	limiter, _ := redislimit.NewLimiter(client, redislimit.LimiterOptions{})
//	counter, _ := redislimit.NewCounter(client, redislimit.CounterOptions{})
//	defer counter.Close() // after the hub has shut down
//	rate := middleware.RateLimit(middleware.RateLimitOptions{PerPrincipal: middleware.PerMinute(100), Limiter: limiter})
//	caps := middleware.Caps(middleware.CapOptions{PerPrincipal: 5, Counter: counter})
//
// # Data model
//
// Keys start with the prefix (default "chatwire:limit:") and put the middleware's key in a
// hash tag; every script touches one key, so any key works on a cluster:
//
//	<prefix>rate:{<key>}   string: the bucket's theoretical arrival time (µs, generic cell
//	                       rate algorithm); it expires when the bucket is full again
//	<prefix>conns:{<key>}  sorted set: one member per held slot, scored by its lease's
//	                       expiry (ms); the key expires with the newest lease
//
// Both scripts read the clock with Redis' TIME, so instances with skewed clocks agree.
//
// # Leases
//
// A slot taken by Counter.Acquire is a lease of CounterOptions.LeaseTTL (default 30s). One
// goroutine per Counter renews the leases it holds every LeaseTTL/3, with one pipelined
// script call per key; Close stops it. A slot is given back at once by its release
// function; the slots of an instance that crashed (or lost Redis for longer than the TTL)
// are not renewed and stop counting within LeaseTTL, and their key disappears. Nothing is
// kept forever.
//
// # Failures
//
// Errors from Redis are returned to the middleware, whose FailClosed options decide: by
// default messages are let through and connections admitted uncounted while Redis is down.
//
// # Concurrency
//
// Limiter and Counter are safe for concurrent use. The caller owns the client: neither
// closes it; close the Counter before the client.
package redislimit
