// Package wsecho serves chatwire connections from Echo v4 (github.com/labstack/echo/v4), on
// gorilla/websocket.
//
// New returns an echo.HandlerFunc; mount it on a GET route:
//
//	e.GET("/chat", wsecho.New(hub, wsecho.Options{}))
//
// Echo middleware of the route and group (authentication, logging, request ids) runs before
// the handler and so before the upgrade; Authenticate can read what it stored with c.Get.
// Before upgrading the handler makes the checks every chatwire adapter makes, in the same
// order and with the same answers (see core.CheckHandshake): 426 "Expected WebSocket
// upgrade" to plain requests, 403 to disallowed origins (same host by default, an exact
// allowlist when configured), 400 to invalid sessionId or lastMessageId values, then 401 (or
// the status of a returned *core.HandshakeError or *echo.HTTPError) when Authenticate
// refuses, then 403 (or a *core.HandshakeError's status) when Admit refuses. Compression is
// off so the message size limit applies to what is actually read.
//
// After a successful upgrade the connection belongs to the hub: the handler writes no HTTP
// response and returns nil when the connection ends (Echo must not render anything on a
// hijacked connection). It marks the echo.Response committed with status 101, so a logger
// middleware reports the upgrade. A response writer that cannot be hijacked (for example
// behind middleware.Timeout, which runs the handler on an http.TimeoutHandler writer) makes
// the handler return an *echo.HTTPError with status 500 wrapping ErrNotHijackable, which
// Echo's error handler renders and a logger middleware records.
//
// Options mean the same in every chatwire adapter: AllowedOrigins, ReadBufferSize,
// WriteBufferSize, Authenticate (with a framework-typed request) and Admit (framework-neutral,
// one function for every adapter), and a skip predicate named after each framework's idiom:
// Skip in wshttp, Skipper here, Next in wsfiber.
//
// The returned handler is safe for concurrent use.
package wsecho
