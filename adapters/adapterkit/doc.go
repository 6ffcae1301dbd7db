// Package adapterkit is for adapter authors: everything needed to serve chatwire from an
// HTTP framework, so that an adapter is framework glue only. chatwire's own adapters
// (wshttp, wsecho, wsfiber) are built on it, and a third-party adapter for another
// framework uses it the same way. Application code does not need it.
//
// # The pipeline
//
// Pipeline runs the upgrade once for every framework, in this order: the host, origin and
// query checks (CheckHandshake), the adapter's own authentication, the hub's admission
// (core.Options.Admit), joining the session before the 101 (so no message stored after
// the upgrade is missed), the upgrade, then serving the connection on the hub. An adapter
// implements Exchange for one request (read its parts, run its Authenticate hook, write a
// response, upgrade) and calls Pipeline.Serve:
//
//	func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		_ = h.pipeline.Serve(&exchange{h: h, w: w, r: r})
//	}
//
// # Refusals
//
// Every refusal goes through Refuse, so refusals are byte-identical on every adapter:
// the status, Content-Type "text/plain; charset=utf-8", X-Content-Type-Options "nosniff",
// and the one-line text followed by "\n". The texts are listed in PROTOCOL.md.
//
// A client that asks with ?refusal=close (browsers cannot read a failed upgrade's status)
// is refused over the WebSocket instead: the pipeline upgrades it (Exchange.Upgrade with a
// Pending that only carries the refusal), sends one error envelope with the refusal's code
// and closes with 4000 + the status (see RefusalEnvelope and core.RefusalCode). The
// upgrade, host and origin checks, and refusals while the hub shuts down, stay HTTP.
//
// # Lower-level pieces
//
// CheckHandshake, OriginAllowed, HostAllowed and IsWebSocketUpgrade are the checks;
// Prepare and Pending split the hub's part around an upgrade the adapter runs itself;
// Serve serves a connection that is already upgraded; Conn is what the hub needs of an
// upgraded connection (gorilla/websocket's and fasthttp/websocket's *Conn satisfy it);
// FormatCloseMessage and the frame-type constants are RFC 6455's.
//
// # Concurrency
//
// Pipeline and the package functions are safe for concurrent use. An Exchange is used by
// one goroutine, for one request. Pending's Serve or Abort is called once.
package adapterkit
