package wsecho

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// ErrNotHijackable is wrapped by the *echo.HTTPError the handler returns when the response
// writer cannot be hijacked, typically because a middleware wrapped it in a writer without
// http.Hijacker support (middleware.Timeout does). Test for it with errors.Is.
var ErrNotHijackable = errors.New("wsecho: the response writer cannot be hijacked")

// hijackMessage is the client-facing text of the 500 answered when hijacking fails.
const hijackMessage = "WebSocket upgrade failed: the response writer cannot be hijacked (is a middleware such as Timeout wrapping it?)"

// Options configures the Echo adapter. The zero value is ready to use; New copies it and
// never modifies the caller's value.
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

	// Skipper, when it returns true for a request, makes the handler pass the request to
	// Next instead of handling it (Echo's idiom; the same as wshttp's Skip and wsfiber's
	// Next). Default: nil (never skip).
	Skipper func(c echo.Context) bool

	// Next receives skipped requests. Default: nil, which returns echo.ErrNotFound (404).
	Next echo.HandlerFunc

	// ReadBufferSize is the I/O read buffer size in bytes; every connection holds it for
	// its lifetime, idle or not. Frames larger than it are read in several calls. Default:
	// 1024 (chat frames are small; net/http's 4096-byte request buffer is then not kept).
	ReadBufferSize int

	// WriteBufferSize is the I/O write buffer size in bytes. Write buffers are taken from a
	// pool only while a frame is written, so idle connections hold none. Default: 4096.
	WriteBufferSize int

	// Authenticate, when set, runs before the upgrade, after every Echo middleware of the
	// route, and returns the principal handed to handlers (core.Request.Principal); read
	// what an authentication middleware stored with c.Get. An error refuses the upgrade: a
	// *core.HandshakeError or *echo.HTTPError with its status and text, anything else with
	// 401 Unauthorized. Default: nil (no authentication). Admission (core.Options.Admit)
	// runs after it.
	Authenticate func(c echo.Context) (principal any, err error)
}

var _ adapterkit.Conn = (*websocket.Conn)(nil)

// handler is what New returns the method value of.
type handler struct {
	opts     Options
	pipeline *adapterkit.Pipeline
	upgrader websocket.Upgrader
}

// DefaultReadBufferSize is Options.ReadBufferSize's default.
const DefaultReadBufferSize = 1024

// New returns an echo.HandlerFunc that upgrades requests and serves them on hub until the
// connection ends. Mount it on a GET route, e.g. e.GET("/chat", wsecho.New(hub, opts)).
func New(hub *core.Hub, opts Options) echo.HandlerFunc {
	wb := opts.WriteBufferSize
	if wb <= 0 {
		wb = 4096
	}
	rb := opts.ReadBufferSize
	if rb <= 0 {
		rb = DefaultReadBufferSize
	}
	h := &handler{
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
				if status == http.StatusInternalServerError {
					return // hijacking failed: Upgrade returns an *echo.HTTPError instead
				}
				_ = adapterkit.Refuse(&exchange{w: w, r: r}, status, http.StatusText(status))
			},
		},
	}
	return h.serve
}

// serve runs the upgrade pipeline (see adapterkit.Pipeline) on the request.
func (h *handler) serve(c echo.Context) error {
	if h.opts.Skipper != nil && h.opts.Skipper(c) {
		if h.opts.Next != nil {
			return h.opts.Next(c)
		}
		return echo.ErrNotFound
	}
	return h.pipeline.Serve(&exchange{h: h, c: c, w: c.Response(), r: c.Request()})
}

// exchange is one request as the pipeline sees it.
type exchange struct {
	h *handler
	c echo.Context
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
	p, err := x.h.opts.Authenticate(x.c)
	if ee := (*echo.HTTPError)(nil); errors.As(err, &ee) && !errors.As(err, new(*core.HandshakeError)) {
		msg, _ := ee.Message.(string)
		return nil, adapterkit.StatusError(ee.Code, msg, err)
	}
	return p, err
}

// Respond writes the response itself, never through Echo's error handler, so refusals are
// the same on every adapter.
func (x *exchange) Respond(status int, header http.Header, body []byte) error {
	return adapterkit.RespondHTTP(x.w, status, header, body)
}

func (x *exchange) Upgrade(subprotocol string, p *adapterkit.Pending) error {
	up := x.h.upgrader // a copy: the subprotocol is the request's
	if subprotocol != "" {
		up.Subprotocols = []string{subprotocol}
	}
	resp := x.c.Response()
	ws, err := up.Upgrade(resp, x.r, nil)
	if err != nil {
		var he websocket.HandshakeError
		if errors.As(err, &he) && !resp.Committed {
			// Upgrade refused before hijacking and left the answer to us (see Error above).
			return echo.NewHTTPError(http.StatusInternalServerError, hijackMessage).
				SetInternal(fmt.Errorf("%w: %v", ErrNotHijackable, err))
		}
		// Either the upgrader answered the request, or the connection was hijacked and is
		// closed already: nothing may be written now.
		p.Abort()
		return nil
	}
	// The connection is hijacked: record the upgrade for logging middleware and make sure
	// nothing in Echo writes a response on it.
	resp.Status = http.StatusSwitchingProtocols
	resp.Committed = true
	// Serve on a goroutine of the hub's and return, as wshttp does (see bench/README.md).
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
