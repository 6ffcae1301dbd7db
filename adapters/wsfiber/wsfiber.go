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
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// handshakeWriteTimeout bounds the write of the 101 response on the hijacked connection.
const handshakeWriteTimeout = 10 * time.Second

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
	// lifetime (fasthttp/websocket cannot reuse the server's buffer, but fasthttp's own 4 KiB
	// reader underneath still buffers the socket, so a small one costs no extra reads).
	// Default: 256.
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

	// Admit, when set, runs after Authenticate with a framework-neutral copy of the request
	// and decides whether the connection may be made (connection caps, session
	// authorization, token checks, subprotocol choice, credential expiry); see
	// core.AdmitFunc. The same function works with every chatwire adapter. Its context is
	// c.UserContext(). Default: nil (admit everyone).
	Admit core.AdmitFunc
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
		rb = 256
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

// serve checks the request (upgrade, origin, session id, authentication, admission),
// copies what the connection needs out of the request and upgrades it. fasthttp serves the
// upgraded connection on its own goroutine after serve has returned.
func (h *handler) serve(c *fiber.Ctx) error {
	if h.opts.Next != nil && h.opts.Next(c) {
		return c.Next()
	}
	fctx := c.Context()
	req := c.Request()
	query := queryValues(fctx.QueryArgs())
	info, herr := core.CheckHandshake(core.Handshake{
		Host:    string(fctx.Host()),
		Origin:  string(req.Header.Peek(fiber.HeaderOrigin)),
		Upgrade: core.IsWebSocketUpgrade(string(req.Header.Peek(fiber.HeaderConnection)), string(req.Header.Peek(fiber.HeaderUpgrade))),
		Query:   query,
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
	info.RemoteAddr = fctx.RemoteAddr().String()
	info.Header = headerCopy(&req.Header)
	info.CloseCode = CloseCode
	up := &h.upgrader
	sub, err := info.Admit(c.UserContext(), h.opts.Admit, query)
	if err != nil {
		status, body := core.RefusalOf(err)
		return c.Status(status).SendString(body)
	}
	if sub != "" {
		custom := h.upgrader
		custom.Subprotocols = []string{sub}
		up = &custom
	}
	ctx := context.WithoutCancel(c.UserContext())
	// Join the session before the upgrade, so nothing stored after the 101 is missed.
	p, perr := h.hub.Prepare(ctx, info)
	if perr != nil {
		status, body := core.RefusalOf(perr)
		return c.Status(status).SendString(body)
	}
	var head []byte // the 101 response, written by the hijack handler
	// Only copies are captured: the closure runs after c has been recycled.
	err = up.Upgrade(fctx, func(ws *websocket.Conn) {
		sock := ws.NetConn()
		_ = sock.SetWriteDeadline(time.Now().Add(handshakeWriteTimeout))
		if _, err := sock.Write(head); err != nil {
			p.Abort()
			return
		}
		_ = sock.SetWriteDeadline(time.Time{})
		_ = p.Serve(ctx, newConn(ws))
	})
	if err == nil {
		// fasthttp calls a hijack handler only after writing the response succeeded, and
		// never when the connection is to be closed (DisableKeepalive, shutdown): the
		// connection would then end without Serve, and Admission.Release would be lost.
		// Serialising the upgrader's response now and writing it from the hijack handler
		// makes fasthttp run the handler in every case.
		var b bytes.Buffer
		if _, err = fctx.Response.WriteTo(&b); err == nil {
			head = b.Bytes()
			fctx.HijackSetNoResponse(true)
		} else {
			fctx.Hijack(nil)
			fctx.Error(http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
	}
	if err != nil {
		// The upgrader has answered the request; Serve will not run.
		p.Abort()
	}
	// Returning an error would make Fiber's error handler overwrite the answer.
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
