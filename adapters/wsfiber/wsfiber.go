package wsfiber

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
)

// handshakeWriteTimeout bounds the write of the 101 response on the hijacked connection.
const handshakeWriteTimeout = 10 * time.Second

// Options configures the Fiber adapter. The zero value is ready to use; New copies it and
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
	// anything else with 401 Unauthorized. Default: nil (no authentication). Admission
	// (core.Options.Admit) runs after it.
	Authenticate func(c *fiber.Ctx) (principal any, err error)
}

// handler is what New returns the method value of.
type handler struct {
	opts     Options
	pipeline *adapterkit.Pipeline
	upgrader websocket.FastHTTPUpgrader
}

// New returns a fiber.Handler that upgrades requests and serves them on hub until the
// connection ends. Mount it on a GET route, e.g. app.Get("/chat", wsfiber.New(hub, opts)).
// Set fiber.Config's ReadTimeout and IdleTimeout (see the package documentation).
func New(hub *core.Hub, opts Options) fiber.Handler {
	rb, wb := opts.ReadBufferSize, opts.WriteBufferSize
	if rb <= 0 {
		rb = 256
	}
	if wb <= 0 {
		wb = 4096
	}
	h := &handler{
		opts: opts,
		pipeline: adapterkit.New(hub, adapterkit.Options{
			AllowedOrigins: opts.AllowedOrigins, AllowedHosts: opts.AllowedHosts, CloseCode: CloseCode,
		}),
		upgrader: websocket.FastHTTPUpgrader{
			ReadBufferSize:  rb,
			WriteBufferSize: wb,
			WriteBufferPool: &sync.Pool{},
			// The origin was checked by the pipeline before Upgrade is called.
			CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
			Error: func(ctx *fasthttp.RequestCtx, status int, _ error) {
				_ = adapterkit.Refuse(&exchange{fctx: ctx}, status, http.StatusText(status))
			},
		},
	}
	return h.serve
}

// serve runs the upgrade pipeline (see adapterkit.Pipeline) on the request. fasthttp serves
// the upgraded connection on its own goroutine after serve has returned.
func (h *handler) serve(c *fiber.Ctx) error {
	if h.opts.Next != nil && h.opts.Next(c) {
		return c.Next()
	}
	_ = h.pipeline.Serve(&exchange{h: h, c: c, fctx: c.Context()})
	return nil // an error would make Fiber's error handler overwrite the answer
}

// exchange is one request as the pipeline sees it.
type exchange struct {
	h    *handler
	c    *fiber.Ctx
	fctx *fasthttp.RequestCtx
}

func (x *exchange) Parts() adapterkit.Parts {
	return adapterkit.Parts{Context: x.c.UserContext(), Host: string(x.fctx.Host()),
		RawQuery: string(x.fctx.URI().QueryString()), RemoteAddr: x.fctx.RemoteAddr().String(),
		Header: adapterkit.HeaderOf(x.fctx.Request.Header.Len(), x.fctx.Request.Header.VisitAll)}
}

func (x *exchange) Authenticate() (any, error) {
	if x.h.opts.Authenticate == nil {
		return nil, nil
	}
	p, err := x.h.opts.Authenticate(x.c)
	if fe := (*fiber.Error)(nil); errors.As(err, &fe) && !errors.As(err, new(*core.HandshakeError)) {
		return nil, adapterkit.StatusError(fe.Code, fe.Message, err)
	}
	if s, ok := p.(string); ok {
		p = strings.Clone(s) // Locals strings often alias the request's bytes
	}
	return p, err
}

func (x *exchange) Respond(status int, header http.Header, body []byte) error {
	x.fctx.SetStatusCode(status) // headers set by Fiber middleware (a request id) stay
	for k := range header {
		x.fctx.Response.Header.Set(k, header.Get(k)) // refusal headers have one value each
	}
	x.fctx.SetBody(body)
	return nil
}

func (x *exchange) Upgrade(subprotocol string, p *adapterkit.Pending) error {
	up := x.h.upgrader // a copy: the subprotocol is the request's
	if subprotocol != "" {
		up.Subprotocols = []string{subprotocol}
	}
	fctx := x.fctx
	var head []byte // the 101 response, written by the hijack handler
	// Only copies are captured: the closure runs after the request has been recycled.
	err := up.Upgrade(fctx, func(ws *websocket.Conn) {
		sock := ws.NetConn()
		_ = sock.SetWriteDeadline(time.Now().Add(handshakeWriteTimeout))
		if _, err := sock.Write(head); err != nil {
			p.Abort()
			return
		}
		_ = sock.SetWriteDeadline(time.Time{})
		_ = p.Serve(newConn(ws))
	})
	if err != nil {
		return err // the upgrader has answered the request
	}
	// fasthttp calls a hijack handler only after writing the response succeeded, and never
	// when the connection is to be closed (DisableKeepalive, shutdown): the connection would
	// then end without Serve, and Admission.Release would be lost. Serialising the
	// upgrader's response now and writing it from the hijack handler makes fasthttp run the
	// handler in every case.
	var b bytes.Buffer
	if _, err := fctx.Response.WriteTo(&b); err != nil {
		fctx.Hijack(nil)
		return adapterkit.Refuse(x, http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError))
	}
	head = b.Bytes()
	fctx.HijackSetNoResponse(true)
	return nil
}

// unsafeConner is implemented by fasthttp's hijacked connection: UnsafeConn returns the
// socket under it.
type unsafeConner interface{ UnsafeConn() net.Conn }

// newConn returns the upgraded connection handed to the hub. Its Close closes the socket
// itself: the net.Conn fasthttp hands to a hijack handler ignores Close (fasthttp closes
// the socket only after the handler has returned), which would leave the hub's reader
// blocked when the hub closes a connection from another goroutine.
func newConn(ws *websocket.Conn) adapterkit.Conn {
	sock := ws.NetConn()
	if u, ok := sock.(unsafeConner); ok {
		sock = u.UnsafeConn()
	}
	return adapterkit.ClosingSocket(ws, sock)
}

// CloseCode extracts the peer's close code from a fasthttp/websocket read error.
func CloseCode(err error) (int, bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}
