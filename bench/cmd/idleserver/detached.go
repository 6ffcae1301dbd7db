package main

import (
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
)

// detachedHandler is NOT a chatwire adapter: it is the prototype of a change to wshttp that
// the idle-memory measurements suggest, served with -adapter wshttp-detached. It does what
// wshttp.Handler does for a plain request (no Authenticate, Admit or Skip), except that it
// serves the upgraded connection on a new goroutine and returns from ServeHTTP at once.
// net/http then drops its per-connection state, which a handler that blocks keeps alive for
// the connection's whole life: the 4 KiB bufio.Writer it hands to Hijack (unused after the
// 101 when the upgrader has a WriteBufferPool), the request with its parsed header, the
// response, their contexts, and the deep stack of the server's connection goroutine.
type detachedHandler struct {
	hub *core.Hub
	up  websocket.Upgrader
}

func newDetachedHandler(hub *core.Hub) *detachedHandler {
	return &detachedHandler{hub: hub, up: websocket.Upgrader{
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*http.Request) bool { return true },
	}}
}

func (h *detachedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _, herr := adapterkit.CheckHandshake(adapterkit.Handshake{
		Host:     r.Host,
		Origin:   r.Header.Get("Origin"),
		Upgrade:  adapterkit.IsWebSocketUpgrade(r.Header.Get("Connection"), r.Header.Get("Upgrade")),
		RawQuery: r.URL.RawQuery,
	}, adapterkit.Policy{})
	if herr != nil {
		http.Error(w, herr.Body, herr.Status)
		return
	}
	info.RemoteAddr = r.RemoteAddr
	info.Header = r.Header.Clone()
	info.CloseCode = wshttp.CloseCode
	// Prepare serves the connection under the request's context without its cancellation:
	// net/http cancels it when ServeHTTP returns, and the connection must outlive it.
	p, err := adapterkit.Prepare(r.Context(), h.hub, info)
	if err != nil {
		status, body := adapterkit.RefusalOf(err)
		http.Error(w, body, status)
		return
	}
	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		p.Abort()
		return
	}
	// The hub owns the goroutine: Hub.Shutdown waits for it.
	go func() { _ = p.Serve(ws) }()
}
