package wshttp

import (
	"errors"
	"net/http"
	"sync"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

// Options configures the net/http adapter. The zero value is ready to use; New copies it.
type Options struct {
	// AllowedOrigins lists the browser origins allowed to connect, each an exact origin
	// such as "https://app.example.com" ("*" allows every origin). Default: nil, which
	// allows only origins whose host equals the request's Host. Requests without an Origin
	// header (non-browser clients) are always allowed. See adapterkit.OriginAllowed.
	AllowedOrigins []string

	// AllowedHosts lists the Host header values served, e.g. "chat.example.com" (any port)
	// or "localhost:8080"; other hosts get 403, which stops DNS rebinding. Default: nil
	// (every host). See adapterkit.HostAllowed.
	AllowedHosts []string

	// Skip, when it returns true for a request, makes the handler pass the request to
	// Next instead of handling it. Default: nil (never skip).
	Skip func(r *http.Request) bool

	// Next receives skipped requests. Default: nil, which answers 404.
	Next http.Handler

	// ReadBufferSize is the I/O read buffer size in bytes; every connection holds it for
	// its lifetime, idle or not. Frames larger than it are read in several calls. Default:
	// 1024 (chat frames are small; net/http's 4096-byte request buffer is then not kept).
	ReadBufferSize int

	// WriteBufferSize is the I/O write buffer size in bytes. Write buffers are taken from a
	// pool only while a frame is written, so idle connections hold none. Default: 4096.
	WriteBufferSize int

	// Authenticate, when set, runs before the upgrade and returns the principal handed to
	// handlers (core.Request.Principal). An error refuses the upgrade: a
	// *core.HandshakeError with its status and body, anything else with 401 Unauthorized.
	// Default: nil (no authentication). Admission (core.Options.Admit) runs after it.
	Authenticate func(r *http.Request) (principal any, err error)
}

// Handler serves chat connections on hub. Mount it at the chat path, e.g.
// mux.Handle("/chat", wshttp.New(hub, wshttp.Options{})).
type Handler struct {
	opts     Options
	pipeline *adapterkit.Pipeline
	upgrader websocket.Upgrader
}

var (
	_ http.Handler    = (*Handler)(nil)
	_ adapterkit.Conn = (*websocket.Conn)(nil)
)

// DefaultReadBufferSize is Options.ReadBufferSize's default.
const DefaultReadBufferSize = 1024

// New returns an http.Handler that upgrades requests and serves them on hub.
func New(hub *core.Hub, opts Options) *Handler {
	wb := opts.WriteBufferSize
	if wb <= 0 {
		wb = 4096
	}
	rb := opts.ReadBufferSize
	if rb <= 0 {
		rb = DefaultReadBufferSize
	}
	return &Handler{
		opts: opts,
		pipeline: adapterkit.New(hub, adapterkit.Options{
			AllowedOrigins: opts.AllowedOrigins, AllowedHosts: opts.AllowedHosts, CloseCode: CloseCode,
		}),
		upgrader: websocket.Upgrader{
			ReadBufferSize:  rb,
			WriteBufferSize: wb,
			WriteBufferPool: &sync.Pool{},
			// The origin was checked by the pipeline before Upgrade is called.
			CheckOrigin: func(*http.Request) bool { return true },
			Error: func(w http.ResponseWriter, r *http.Request, status int, _ error) {
				_ = adapterkit.Refuse(&exchange{w: w, r: r}, status, http.StatusText(status))
			},
		},
	}
}

// ServeHTTP runs the upgrade pipeline (see adapterkit.Pipeline) on the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.Skip != nil && h.opts.Skip(r) {
		if h.opts.Next != nil {
			h.opts.Next.ServeHTTP(w, r)
		} else {
			http.NotFound(w, r)
		}
		return
	}
	_ = h.pipeline.Serve(&exchange{h: h, w: w, r: r})
}

// exchange is one request as the pipeline sees it.
type exchange struct {
	h *Handler
	w http.ResponseWriter
	r *http.Request
}

func (x *exchange) Parts() adapterkit.Parts {
	return adapterkit.Parts{Context: x.r.Context(), Host: x.r.Host, RawQuery: x.r.URL.RawQuery,
		RemoteAddr: x.r.RemoteAddr, Header: x.r.Header.Clone()}
}

func (x *exchange) Authenticate() (any, error) {
	if x.h.opts.Authenticate == nil {
		return nil, nil
	}
	return x.h.opts.Authenticate(x.r)
}

func (x *exchange) Respond(status int, header http.Header, body []byte) error {
	return adapterkit.RespondHTTP(x.w, status, header, body)
}

func (x *exchange) Upgrade(subprotocol string, p *adapterkit.Pending) error {
	up := x.h.upgrader // a copy: the subprotocol is the request's
	if subprotocol != "" {
		up.Subprotocols = []string{subprotocol}
	}
	ws, err := up.Upgrade(x.w, x.r, nil)
	if err != nil {
		return err // the upgrader has answered the request
	}
	// Serve on a goroutine of the hub's and return: net/http's connection goroutine (its
	// grown stack, its unused response writer and the request) is then freed, which halves
	// the memory an idle connection costs (see bench/README.md). The hub owns and waits for
	// the goroutine (Hub.Shutdown).
	go func() { _ = p.Serve(ws) }()
	return nil
}

// CloseCode extracts the peer's close code from a gorilla/websocket read error.
func CloseCode(err error) (int, bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}
