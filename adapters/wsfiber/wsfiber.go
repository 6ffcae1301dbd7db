package wsfiber

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/chatwire/chatwire/core"
	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Options configures the Fiber adapter. The zero value is ready to use; New copies it and
// never modifies the caller's value.
type Options struct {
	// AllowedOrigins lists the browser origins allowed to connect, each an exact origin
	// such as "https://app.example.com" ("*" allows every origin). Default: nil, which
	// allows only origins whose host equals the request's Host. Requests without an Origin
	// header (non-browser clients) are always allowed. See core.OriginAllowed.
	AllowedOrigins []string

	// Next, when it returns true for a request, makes the handler call c.Next() instead of
	// handling it, so the request goes on to the next matching route (Fiber's idiom; the
	// same as wshttp's Skip and wsecho's Skipper). Without a next route Fiber answers 404.
	// Default: nil (never skip).
	Next func(c *fiber.Ctx) bool

	// ReadBufferSize is the I/O read buffer size in bytes, held by each connection for its
	// lifetime (fasthttp/websocket cannot reuse the server's buffer). Default: 4096.
	ReadBufferSize int

	// WriteBufferSize is the I/O write buffer size in bytes. Write buffers are taken from a
	// pool only while a frame is written, so idle connections hold none. Default: 4096.
	WriteBufferSize int

	// Authenticate, when set, runs before the upgrade, after every Fiber middleware of the
	// route, and returns the principal handed to handlers (core.Request.Principal); read
	// what an authentication middleware stored with c.Locals. It runs while the request is
	// still valid; the principal must not alias request memory (a string principal is
	// copied; copy the strings inside any other value, e.g. with utils.CopyString). An error
	// refuses the upgrade: a *core.HandshakeError or *fiber.Error with its status and text,
	// anything else with 401 Unauthorized. Default: nil (no authentication).
	Authenticate func(c *fiber.Ctx) (principal any, err error)
}

// handler is what New returns the method value of.
type handler struct {
	hub      *core.Hub
	opts     Options
	upgrader websocket.FastHTTPUpgrader
}

// New returns a fiber.Handler that upgrades requests and serves them on hub until the
// connection ends. Mount it on a GET route, e.g. app.Get("/chat", wsfiber.New(hub, opts)).
func New(hub *core.Hub, opts Options) fiber.Handler {
	opts.AllowedOrigins = append([]string(nil), opts.AllowedOrigins...)
	rb, wb := opts.ReadBufferSize, opts.WriteBufferSize
	if rb <= 0 {
		rb = 4096
	}
	if wb <= 0 {
		wb = 4096
	}
	h := &handler{
		hub:  hub,
		opts: opts,
		upgrader: websocket.FastHTTPUpgrader{
			ReadBufferSize:    rb,
			WriteBufferSize:   wb,
			WriteBufferPool:   &sync.Pool{},
			EnableCompression: false,
			// The origin was checked by core.CheckHandshake before Upgrade is called.
			CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
			Error: func(ctx *fasthttp.RequestCtx, status int, _ error) {
				ctx.Error(http.StatusText(status), status)
			},
		},
	}
	return h.serve
}

// serve checks the request (upgrade, origin, session id, authentication), copies what the
// connection needs out of the request and upgrades it. fasthttp serves the upgraded
// connection on its own goroutine after serve has returned.
func (h *handler) serve(c *fiber.Ctx) error {
	if h.opts.Next != nil && h.opts.Next(c) {
		return c.Next()
	}
	req := c.Request()
	info, herr := core.CheckHandshake(core.Handshake{
		Host:    string(c.Context().Host()),
		Origin:  string(req.Header.Peek(fiber.HeaderOrigin)),
		Upgrade: core.IsWebSocketUpgrade(string(req.Header.Peek(fiber.HeaderConnection)), string(req.Header.Peek(fiber.HeaderUpgrade))),
		Query:   queryValues(c.Context().QueryArgs()),
	}, h.opts.AllowedOrigins)
	if herr != nil {
		return c.Status(herr.Status).SendString(herr.Body)
	}
	if h.opts.Authenticate != nil {
		p, err := h.opts.Authenticate(c)
		if err != nil {
			status, body := refusal(err)
			return c.Status(status).SendString(body)
		}
		if s, ok := p.(string); ok {
			p = strings.Clone(s) // Locals strings often alias the request's bytes
		}
		info.Principal = p
	}
	info.RemoteAddr = c.Context().RemoteAddr().String()
	info.Header = headerCopy(&req.Header)
	info.CloseCode = CloseCode
	ctx := context.WithoutCancel(c.UserContext())
	hub := h.hub
	// Only copies are captured: the closure runs after c has been recycled.
	// On error the upgrader has answered the request already; returning it would make
	// Fiber's error handler overwrite that answer.
	_ = h.upgrader.Upgrade(c.Context(), func(ws *websocket.Conn) {
		_ = hub.Serve(ctx, newConn(ws), info)
	})
	return nil
}

// conn is the upgraded connection handed to the hub. Its Close closes the socket itself:
// the net.Conn fasthttp hands to a hijack handler ignores Close (fasthttp closes the socket
// only after the handler has returned), which would leave the hub's reader blocked when the
// hub closes a connection from another goroutine (Shutdown, Drain, a slow consumer).
type conn struct {
	*websocket.Conn
	sock net.Conn
}

var _ core.Conn = (*conn)(nil)

// unsafeConner is implemented by fasthttp's hijacked connection: UnsafeConn returns the
// socket under it.
type unsafeConner interface{ UnsafeConn() net.Conn }

func newConn(ws *websocket.Conn) *conn {
	sock := ws.NetConn()
	if u, ok := sock.(unsafeConner); ok {
		sock = u.UnsafeConn()
	}
	return &conn{Conn: ws, sock: sock}
}

// Close closes the socket at once, from any goroutine; a blocked read or write returns.
func (c *conn) Close() error { return c.sock.Close() }

// queryValues copies the query arguments.
func queryValues(args *fasthttp.Args) url.Values {
	q := make(url.Values, args.Len())
	args.VisitAll(func(k, v []byte) { q.Add(string(k), string(v)) })
	return q
}

var hostKey = []byte(fiber.HeaderHost)

// headerCopy copies the request headers (Host excluded, as in net/http's Request.Header).
func headerCopy(rh *fasthttp.RequestHeader) http.Header {
	h := make(http.Header, rh.Len())
	rh.VisitAll(func(k, v []byte) {
		if bytes.EqualFold(k, hostKey) {
			return
		}
		h.Add(string(k), string(v))
	})
	return h
}

// refusal maps an Authenticate error to the status and text answered.
func refusal(err error) (int, string) {
	var he *core.HandshakeError
	if errors.As(err, &he) {
		return he.Status, he.Body
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if fe.Message != "" {
			return fe.Code, fe.Message
		}
		return fe.Code, http.StatusText(fe.Code)
	}
	return http.StatusUnauthorized, http.StatusText(http.StatusUnauthorized)
}

// CloseCode extracts the peer's close code from a fasthttp/websocket read error.
func CloseCode(err error) (int, bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}
