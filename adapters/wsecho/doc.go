// Package wsecho serves chatwire connections from Echo v4 (github.com/labstack/echo/v4), on
// gorilla/websocket.
//
// New returns an echo.HandlerFunc; mount it on a GET route:
//
//	e.GET("/chat", wsecho.New(hub, wsecho.Options{}))
//
// Echo middleware of the route and group (authentication, logging, request ids) runs before
// the handler and so before the upgrade; Authenticate can read what it stored with c.Get.
// Before upgrading the handler runs chatwire's one upgrade pipeline (adapterkit.Pipeline),
// the same on every adapter with byte-identical refusals (adapterkit.Refuse): 426 "Expected
// WebSocket upgrade" to plain requests, 403 to hosts outside AllowedHosts and disallowed
// origins (same host by default, an exact allowlist when configured), 400 to a query that
// does not parse or invalid sessionId, lastMessageId or history values, then 401 (or the
// status of a returned *core.HandshakeError or *echo.HTTPError) when Authenticate refuses, then 403 (or
// a *core.HandshakeError's status) when the hub's Admit (core.Options.Admit) refuses, and
// 503 while the hub shuts down. Refusals are written by the adapter itself, never through
// Echo's error handler. Compression is off so the message size limit applies to what is
// actually read.
//
// After a successful upgrade the connection belongs to the hub: the handler writes no HTTP
// response and returns nil when the connection ends (Echo must not render anything on a
// hijacked connection). It marks the echo.Response committed with status 101, so a logger
// middleware reports the upgrade. A response writer that cannot be hijacked (for example
// behind middleware.Timeout, which runs the handler on an http.TimeoutHandler writer) makes
// the handler return an *echo.HTTPError with status 500 wrapping ErrNotHijackable, which
// Echo's error handler renders and a logger middleware records.
//
// Options mean the same in every chatwire adapter: AllowedOrigins, AllowedHosts,
// ReadBufferSize, WriteBufferSize, Authenticate (with a framework-typed request), and a skip
// predicate named after each framework's idiom: Skip in wshttp, Skipper in wsecho, Next in
// wsfiber. Admission is the hub's (core.Options.Admit), one function for every adapter.
//
// The returned handler is safe for concurrent use.
package wsecho
