// Package wsfiber serves chatwire connections from Fiber v2 (github.com/gofiber/fiber/v2), on
// the fasthttp/websocket upgrader (the one gofiber/contrib/websocket wraps, used directly so
// that neither contrib's allow-every-origin default nor its copies of the request apply).
//
// New returns a fiber.Handler; mount it on a GET route:
//
//	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
//
// Set fiber.Config's ReadTimeout (and IdleTimeout): Fiber has none by default, so a client
// that sends its upgrade request a byte a second holds a connection and a goroutine forever
// (slowloris). fasthttp clears the connection's deadlines before it hands an upgraded
// connection over, so the timeouts never cut a chat connection; the hub's heartbeats bound
// those. examples/fiber sets 10 s and 60 s and tests the attack.
//
//	app := fiber.New(fiber.Config{ReadTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second})
//
// Fiber middleware of the route (authentication, logging, request ids) runs before the
// handler and so before the upgrade; Authenticate can read what it stored with c.Locals.
// Before upgrading the handler runs chatwire's one upgrade pipeline (adapterkit.Pipeline),
// the same on every adapter with byte-identical refusals (adapterkit.Refuse): 426 "Expected
// WebSocket upgrade" to plain requests, 403 to hosts outside AllowedHosts and disallowed
// origins (same host by default, an exact allowlist when configured), 400 to a query that
// does not parse or invalid sessionId, lastMessageId or history values, then 401 (or the
// status of a returned *core.HandshakeError or *fiber.Error) when Authenticate refuses, then 403 (or
// a *core.HandshakeError's status) when the hub's Admit (core.Options.Admit) refuses, and
// 503 while the hub shuts down. Refusals are written by the adapter itself, never through
// Fiber's error handler. Compression is off so the message size limit applies to what is
// actually read.
//
// fasthttp runs the upgraded connection after the Fiber handler has returned, and reuses the
// request context and its byte slices (query, headers, params, locals) for other requests.
// The handler therefore copies everything the connection needs (session id, lastMessageId,
// headers, remote address, the principal) before it upgrades, and nothing touches the
// *fiber.Ctx afterwards. The hub's context for the connection keeps the values of
// c.UserContext() but not its cancellation.
//
// Two fasthttp behaviours are worked around. The net.Conn fasthttp hands to an upgraded
// connection ignores Close; the adapter closes the socket under it, so a close the hub starts
// from another goroutine (Hub.Shutdown, Hub.Drain, Hub.CloseConn, a slow consumer) unblocks
// the reader at once. And fasthttp skips the upgraded connection altogether when writing the
// 101 response fails or the connection is to be closed (fiber.Config.DisableKeepalive); the
// adapter writes the 101 itself from the upgraded connection, so upgrades work with
// DisableKeepalive and an Admission's Release is never lost.
//
// Options mean the same in every chatwire adapter: AllowedOrigins, AllowedHosts,
// ReadBufferSize, WriteBufferSize, Authenticate (with a framework-typed request), and a skip
// predicate named after each framework's idiom: Skip in wshttp, Skipper in wsecho, Next in
// wsfiber. Admission is the hub's (core.Options.Admit), one function for every adapter.
//
// The returned handler is safe for concurrent use.
package wsfiber
