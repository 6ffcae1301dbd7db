package wsecho

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

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
	// header (non-browser clients) are always allowed. See core.OriginAllowed.
	AllowedOrigins []string

	// Skipper, when it returns true for a request, makes the handler pass the request to
	// Next instead of handling it (Echo's idiom; the same as wshttp's Skip and wsfiber's
	// Next). Default: nil (never skip).
	Skipper func(c echo.Context) bool

	// Next receives skipped requests. Default: nil, which returns echo.ErrNotFound (404).
	Next echo.HandlerFunc

	// ReadBufferSize is the I/O read buffer size in bytes. Default: 0, which reuses the
	// buffer net/http allocated for the request (4096 bytes).
	ReadBufferSize int

	// WriteBufferSize is the I/O write buffer size in bytes. Write buffers are taken from a
	// pool only while a frame is written, so idle connections hold none. Default: 4096.
	WriteBufferSize int

	// Authenticate, when set, runs before the upgrade, after every Echo middleware of the
	// route, and returns the principal handed to handlers (core.Request.Principal); read
	// what an authentication middleware stored with c.Get. An error refuses the upgrade: a
	// *core.HandshakeError or *echo.HTTPError with its status and text, anything else with
	// 401 Unauthorized. Default: nil (no authentication).
	Authenticate func(c echo.Context) (principal any, err error)

	// Admit, when set, runs after Authenticate with a framework-neutral copy of the request
	// and decides whether the connection may be made (connection caps, session
	// authorization, token checks, subprotocol choice, credential expiry); see
	// core.AdmitFunc. The same function works with every chatwire adapter. Its context is
	// the request's. Default: nil (admit everyone).
	Admit core.AdmitFunc
}

// The hub serves gorilla/websocket connections as they are.
var _ core.Conn = (*websocket.Conn)(nil)

// handler is what New returns the method value of.
type handler struct {
	hub      *core.Hub
	opts     Options
	upgrader websocket.Upgrader
}

// New returns an echo.HandlerFunc that upgrades requests and serves them on hub until the
// connection ends. Mount it on a GET route, e.g. e.GET("/chat", wsecho.New(hub, opts)).
func New(hub *core.Hub, opts Options) echo.HandlerFunc {
	opts.AllowedOrigins = append([]string(nil), opts.AllowedOrigins...)
	wb := opts.WriteBufferSize
	if wb <= 0 {
		wb = 4096
	}
	h := &handler{
		hub:  hub,
		opts: opts,
		upgrader: websocket.Upgrader{
			ReadBufferSize:    opts.ReadBufferSize,
			WriteBufferSize:   wb,
			WriteBufferPool:   &sync.Pool{},
			EnableCompression: false,
			// The origin was checked by core.CheckHandshake before Upgrade is called.
			CheckOrigin: func(*http.Request) bool { return true },
			Error: func(w http.ResponseWriter, _ *http.Request, status int, _ error) {
				if status == http.StatusInternalServerError {
					return // hijacking failed: serve returns an *echo.HTTPError instead
				}
				http.Error(w, http.StatusText(status), status)
			},
		},
	}
	return h.serve
}

// serve checks the request (upgrade, origin, session id, authentication, admission),
// upgrades it and serves the connection until it ends.
func (h *handler) serve(c echo.Context) error {
	if h.opts.Skipper != nil && h.opts.Skipper(c) {
		if h.opts.Next != nil {
			return h.opts.Next(c)
		}
		return echo.ErrNotFound
	}
	r := c.Request()
	info, herr := core.CheckHandshake(core.Handshake{
		Host:    r.Host,
		Origin:  r.Header.Get("Origin"),
		Upgrade: core.IsWebSocketUpgrade(r.Header.Get("Connection"), r.Header.Get("Upgrade")),
		Query:   r.URL.Query(),
	}, h.opts.AllowedOrigins)
	if herr != nil {
		return c.String(herr.Status, herr.Body)
	}
	if h.opts.Authenticate != nil {
		p, err := h.opts.Authenticate(c)
		if err != nil {
			status, body := refusal(err)
			return c.String(status, body)
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
		return c.String(status, body)
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
		return echo.NewHTTPError(status, body).SetInternal(err)
	}
	ws, err := up.Upgrade(c.Response(), r, nil)
	if err != nil {
		p.Abort() // Serve will not run
		var he websocket.HandshakeError
		if errors.As(err, &he) && !c.Response().Committed {
			// Upgrade refused before hijacking and left the answer to us (see Error above).
			return echo.NewHTTPError(http.StatusInternalServerError, hijackMessage).
				SetInternal(fmt.Errorf("%w: %v", ErrNotHijackable, err))
		}
		// Either the upgrader answered the request, or the connection was hijacked and is
		// closed already: nothing may be written now.
		return nil
	}
	// The connection is hijacked: record the upgrade for logging middleware and make sure
	// nothing in Echo writes a response on it.
	resp := c.Response()
	resp.Status = http.StatusSwitchingProtocols
	resp.Committed = true
	// Serve on a goroutine of the hub's and return: net/http's connection goroutine (its
	// grown stack, its unused response writer and the request) is then freed, which halves
	// the memory an idle connection costs (see bench/README.md). The hub owns and waits for
	// the goroutine (Hub.Shutdown); the request context's values stay available to handlers.
	ctx := context.WithoutCancel(r.Context())
	go func() { _ = p.Serve(ctx, ws) }()
	return nil
}

// refusal maps an Authenticate error to the status and text answered.
func refusal(err error) (int, string) {
	var he *core.HandshakeError
	if errors.As(err, &he) {
		return he.Status, he.Body
	}
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		if msg, ok := ee.Message.(string); ok && msg != "" {
			return ee.Code, msg
		}
		return ee.Code, http.StatusText(ee.Code)
	}
	return http.StatusUnauthorized, http.StatusText(http.StatusUnauthorized)
}

// CloseCode extracts the peer's close code from a gorilla/websocket read error.
func CloseCode(err error) (int, bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}
