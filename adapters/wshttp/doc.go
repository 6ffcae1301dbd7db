// Package wshttp serves chatwire connections from net/http, on gorilla/websocket.
//
// New returns an http.Handler. Before upgrading it runs chatwire's one upgrade pipeline
// (adapterkit.Pipeline), the same on every adapter with byte-identical refusals
// (adapterkit.Refuse): 426 "Expected WebSocket upgrade" to plain requests, 403 to hosts
// outside AllowedHosts and disallowed origins (same host by default, an exact allowlist when
// configured), 400 to a query that does not parse or invalid sessionId, lastMessageId or
// history values, 401 (or the status of a returned *core.HandshakeError) when Authenticate
// refuses, 403 (or a *core.HandshakeError's status) when the hub's Admit
// (core.Options.Admit) refuses, and 503 while the hub shuts down. Compression is off so the
// message size limit applies to what is actually read.
//
// Options mean the same in every chatwire adapter: AllowedOrigins, AllowedHosts,
// ReadBufferSize, WriteBufferSize, Authenticate (with a framework-typed request), and a skip
// predicate named after each framework's idiom: Skip in wshttp, Skipper in wsecho, Next in
// wsfiber. Admission is the hub's (core.Options.Admit), one function for every adapter.
//
// A Handler is safe for concurrent use.
package wshttp
