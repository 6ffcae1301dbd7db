// Package wshttp serves chatwire connections from net/http, on gorilla/websocket.
//
// New returns an http.Handler. Before upgrading it answers 426 "Expected WebSocket upgrade"
// to plain requests, 403 to disallowed origins (same host by default, an exact allowlist
// when configured), 400 to invalid sessionId or lastMessageId values, and 401 (or the
// status of a returned *core.HandshakeError) when Authenticate refuses. Compression is off
// so the message size limit applies to what is actually read.
//
// A Handler is safe for concurrent use.
package wshttp
