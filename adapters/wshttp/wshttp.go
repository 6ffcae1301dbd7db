package wshttp

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

// Options configures the net/http adapter. The zero value is ready to use; New copies it.
type Options struct {
	// AllowedOrigins lists the browser origins allowed to connect, each an exact origin
	// such as "https://app.example.com" ("*" allows every origin). Default: nil, which
	// allows only origins whose host equals the request's Host. Requests without an Origin
	// header (non-browser clients) are always allowed. See core.OriginAllowed.
	AllowedOrigins []string

	// Skip, when it returns true for a request, makes the handler pass the request to
	// Next instead of handling it. Default: nil (never skip).
	Skip func(r *http.Request) bool

	// Next receives skipped requests. Default: nil, which answers 404.
	Next http.Handler

	// ReadBufferSize is the I/O read buffer size in bytes. Default: 0, which reuses the
	// buffer net/http allocated for the request (4096 bytes).
	ReadBufferSize int

	// WriteBufferSize is the I/O write buffer size in bytes. Write buffers are taken from a
	// pool only while a frame is written, so idle connections hold none. Default: 4096.
	WriteBufferSize int

	// Authenticate, when set, runs before the upgrade and returns the principal handed to
	// handlers (core.Request.Principal). An error refuses the upgrade: a
	// *core.HandshakeError with its status and body, anything else with 401 Unauthorized.
	// Default: nil (no authentication).
	Authenticate func(r *http.Request) (principal any, err error)

	// Admit, when set, runs after Authenticate with a framework-neutral view of the request
	// and decides whether the connection may be made (connection caps, session
	// authorization, token checks, subprotocol choice, credential expiry); see
	// core.AdmitFunc. The same function works with every chatwire adapter.
	// Default: nil (admit everyone).
	Admit core.AdmitFunc
}

// Handler serves chat connections on hub. Mount it at the chat path, e.g.
// mux.Handle("/chat", wshttp.New(hub, wshttp.Options{})).
type Handler struct {
	hub      *core.Hub
	opts     Options
	upgrader websocket.Upgrader
}

var _ http.Handler = (*Handler)(nil)

// New returns an http.Handler that upgrades requests and serves them on hub.
func New(hub *core.Hub, opts Options) *Handler {
	opts.AllowedOrigins = append([]string(nil), opts.AllowedOrigins...)
	wb := opts.WriteBufferSize
	if wb <= 0 {
		wb = 4096
	}
	return &Handler{
		hub:  hub,
		opts: opts,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  opts.ReadBufferSize,
			WriteBufferSize: wb,
			WriteBufferPool: &sync.Pool{},
			// The origin was checked by core.CheckHandshake before Upgrade is called.
			CheckOrigin: func(*http.Request) bool { return true },
			Error: func(w http.ResponseWriter, _ *http.Request, status int, _ error) {
				http.Error(w, http.StatusText(status), status)
			},
		},
	}
}

// ServeHTTP checks the request (upgrade, origin, session id, authentication), upgrades it
// and serves the connection until it ends.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.Skip != nil && h.opts.Skip(r) {
		if h.opts.Next != nil {
			h.opts.Next.ServeHTTP(w, r)
		} else {
			http.NotFound(w, r)
		}
		return
	}
	info, herr := core.CheckHandshake(core.Handshake{
		Host:    r.Host,
		Origin:  r.Header.Get("Origin"),
		Upgrade: core.IsWebSocketUpgrade(r.Header.Get("Connection"), r.Header.Get("Upgrade")),
		Query:   r.URL.Query(),
	}, h.opts.AllowedOrigins)
	if herr != nil {
		http.Error(w, herr.Body, herr.Status)
		return
	}
	if h.opts.Authenticate != nil {
		p, err := h.opts.Authenticate(r)
		if err != nil {
			status, body := http.StatusUnauthorized, "Unauthorized"
			var he *core.HandshakeError
			if errors.As(err, &he) {
				status, body = he.Status, he.Body
			}
			http.Error(w, body, status)
			return
		}
		info.Principal = p
	}
	info.RemoteAddr = r.RemoteAddr
	info.Header = r.Header.Clone()
	info.CloseCode = CloseCode
	up := &h.upgrader
	sub, err := info.Admit(r.Context(), h.opts.Admit, r.URL.Query())
	if err != nil {
		status, body := core.RefusalOf(err)
		http.Error(w, body, status)
		return
	}
	if sub != "" {
		custom := h.upgrader
		custom.Subprotocols = []string{sub}
		up = &custom
	}
	// Join the session before the upgrade, so nothing stored after the 101 is missed.
	p, err := h.hub.Prepare(r.Context(), info)
	if err != nil {
		status, body := core.RefusalOf(err)
		http.Error(w, body, status)
		return
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		p.Abort()
		return // the upgrader has answered the request
	}
	// Serve on a goroutine of the hub's and return: net/http's connection goroutine (its
	// grown stack, its unused response writer and the request) is then freed, which halves
	// the memory an idle connection costs (see bench/README.md). The hub owns and waits for
	// the goroutine (Hub.Shutdown); the request context's values stay available to handlers.
	ctx := context.WithoutCancel(r.Context())
	go func() { _ = p.Serve(ctx, ws) }()
}

// CloseCode extracts the peer's close code from a gorilla/websocket read error.
func CloseCode(err error) (int, bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}
