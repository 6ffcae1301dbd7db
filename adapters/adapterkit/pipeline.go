package adapterkit

import (
	"context"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/internal/hubport"
)

// Exchange is one upgrade request as a framework presents it: what an adapter implements
// (per request) so that Pipeline.Serve can run it.
type Exchange interface {
	// Parts returns the request's parts the pipeline reads, copied out of any memory the
	// framework reuses.
	Parts() Parts
	// Authenticate runs the adapter's own authentication hook and returns the principal
	// handed to handlers; (nil, nil) when the adapter has none. An error refuses the
	// upgrade: a *core.HandshakeError with its status and body, any other error with 401
	// (see AuthRefusalOf). Adapters map their framework's HTTP errors to a
	// *core.HandshakeError here. A principal must not alias framework-owned memory.
	Authenticate() (principal any, err error)
	// Respond answers the request without upgrading: status, the given header fields and
	// body. The pipeline calls it only through Refuse.
	Respond(status int, header http.Header, body []byte) error
	// Upgrade switches the request to WebSocket, selecting subprotocol ("" for none), and
	// hands the upgraded connection to p.Serve (on a goroutine of its choice; the hub owns
	// and waits for it). When the upgrade fails after Upgrade has returned nil, the adapter
	// calls p.Abort instead. An error means the upgrade failed and the adapter has answered
	// the request (or could not); the pipeline then aborts p and returns the error.
	Upgrade(subprotocol string, p *Pending) error
}

// Parts is what the pipeline reads from an upgrade request.
type Parts struct {
	// Context is the request's context. Admission and the session join run under it; the
	// connection is served under it without its cancellation, so its values reach handlers.
	Context context.Context
	// Host is the request's Host header.
	Host string
	// RawQuery is the query string without '?', as sent.
	RawQuery string
	// RemoteAddr is the client's address as the server saw it (host:port).
	RemoteAddr string
	// Header holds a copy of the request's headers, Host excluded (as net/http's
	// Request.Header).
	Header http.Header
}

// Options configures a Pipeline. The zero value is ready to use; New copies it.
type Options struct {
	// AllowedOrigins: see OriginAllowed. Default: nil (same host only).
	AllowedOrigins []string
	// AllowedHosts: see HostAllowed. Default: nil (every host).
	AllowedHosts []string
	// CloseCode extracts the peer's close code from the framework's read error (for
	// example from *websocket.CloseError). Default: nil, and peer-initiated closes are
	// reported as 1006.
	CloseCode func(err error) (code int, ok bool)
}

// Pipeline is the upgrade pipeline every adapter runs, written once: host, origin and query
// checks, the adapter's authentication, the hub's admission (core.Options.Admit), joining
// the session before the 101 (so no message stored after the upgrade is missed), the
// upgrade, then serving the connection. It is safe for concurrent use.
type Pipeline struct {
	hub       hubport.Hub
	policy    Policy
	closeCode func(error) (int, bool)
}

// New returns the pipeline that serves upgrade requests on hub.
func New(hub *core.Hub, opts Options) *Pipeline {
	return &Pipeline{
		hub: hubport.Open(hub),
		policy: Policy{
			AllowedOrigins: append([]string(nil), opts.AllowedOrigins...),
			AllowedHosts:   append([]string(nil), opts.AllowedHosts...),
		},
		closeCode: opts.CloseCode,
	}
}

// Serve runs the pipeline on x: it either refuses the request (see Refuse for the format;
// a request with ?refusal=close is upgraded and refused with frames instead, see
// refusalframe.go, except for the upgrade, host and origin checks) or upgrades it and has
// the hub serve the connection. It returns nil in both cases, and
// the error of x.Upgrade when the upgrade failed, for the adapter to hand to its
// framework.
func (pl *Pipeline) Serve(x Exchange) error {
	parts := x.Parts()
	info, query, herr := CheckHandshake(Handshake{
		Host:     parts.Host,
		Origin:   parts.Header.Get("Origin"),
		Upgrade:  IsWebSocketUpgrade(parts.Header.Get("Connection"), parts.Header.Get("Upgrade")),
		RawQuery: parts.RawQuery,
	}, pl.policy)
	frames := WantsRefusalFrames(parts.RawQuery)
	if herr != nil {
		return pl.refuse(x, parts, frames && frameable(herr), herr.Status, herr.Body, herr)
	}
	principal, err := x.Authenticate()
	if err != nil {
		status, body := AuthRefusalOf(err)
		return pl.refuse(x, parts, frames, status, body, err)
	}
	info.Principal = principal
	info.RemoteAddr = parts.RemoteAddr
	info.Header = parts.Header
	info.CloseCode = pl.closeCode
	ctx := parts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	hi := hubport.ConnInfo(info)
	sub, err := pl.hub.Admit(ctx, &hi, query)
	if err != nil {
		status, body := RefusalOf(err)
		return pl.refuse(x, parts, frames, status, body, err)
	}
	pd, err := pl.hub.Prepare(ctx, hi)
	if err != nil {
		status, body := RefusalOf(err)
		return pl.refuse(x, parts, frames, status, body, err)
	}
	p := &Pending{p: pd, ctx: context.WithoutCancel(ctx)}
	if err := x.Upgrade(sub, p); err != nil {
		p.Abort()
		return err
	}
	return nil
}

// ConnInfo is what an adapter learned from the upgrade request, for Prepare and Serve.
// Every value must be a copy the framework will not reuse.
type ConnInfo struct {
	// SessionID names the session; it must satisfy core.ValidSessionID. Empty means a new
	// session with a fresh id.
	SessionID string
	// LastMessageID, when set, asks for every stored message after it to be replayed
	// before live messages (session mode only).
	LastMessageID string
	// RemoteAddr is the client's network address, for logs and hooks.
	RemoteAddr string
	// ReplayAll asks for every retained message of the session before live messages, for a
	// client that has no LastMessageID yet (query history=all). LastMessageID takes
	// precedence.
	ReplayAll bool
	// Epoch is the history epoch LastMessageID belongs to, when the client knows it (query
	// epoch, from the last HISTORY_RESET envelope it received). When it is not the
	// session's current epoch, the client is sent HISTORY_RESET and every retained message
	// instead of a replay after LastMessageID.
	Epoch string
	// Header is a copy of the upgrade request's headers, passed to handlers.
	Header http.Header
	// Principal is the authenticated identity, passed to handlers; nil without auth.
	Principal any
	// CloseCode extracts the peer's close code from a read error. Optional: without it
	// peer-initiated closes report 1006.
	CloseCode func(err error) (code int, ok bool)
	// Expires, when set, is when the connection's credentials expire; the hub closes it
	// with 1008 then.
	Expires time.Time
	// OnClose, when set, is called exactly once when the connection ends or is refused or
	// aborted (see core.Admission.Release).
	OnClose func()
}

// Pending is a connection that has joined its session and waits for its upgrade: frames
// for it (a replay, live messages) are queued from the moment it exists, so the client
// misses nothing between the 101 response and its first read. Exactly one of Serve or
// Abort takes effect; later calls do nothing.
type Pending struct {
	p       hubport.Pending
	ctx     context.Context
	refusal *refusalFrame // set when the upgrade only carries a refusal (see Pipeline)
}

// Prepare is the pipeline's step after admission, for adapters that run their own: it
// registers the connection with hub and joins its session. A refusal is a
// *core.HandshakeError (answer it with Refuse and RefusalOf): 503 "Server shutting down",
// 400 "Invalid sessionId" or 503 "Session unavailable". The connection is served under ctx
// without its cancellation. It does not run core.Options.Admit.
func Prepare(ctx context.Context, hub *core.Hub, info ConnInfo) (*Pending, error) {
	pd, err := hubport.Open(hub).Prepare(ctx, hubport.ConnInfo(info))
	if err != nil {
		return nil, err
	}
	return &Pending{p: pd, ctx: context.WithoutCancel(ctx)}, nil
}

// Serve runs the connection on ws, the upgraded connection; the calling goroutine becomes
// its reader and Serve returns when the connection has ended: nil after a normal close,
// core.ErrHubClosed when the hub shut down, or the error that ended it. For an upgrade
// that only carries a refusal (refusal frames, see Pipeline.Serve) it writes the refusal,
// waits briefly for the client's close, closes ws and returns ErrRefused.
func (p *Pending) Serve(ws Conn) error {
	if r := p.refusal; r != nil {
		defer r.finish()
		r.write(ws)
		return ErrRefused
	}
	return p.p.Serve(p.ctx, ws)
}

// Abort gives up a connection whose upgrade failed.
func (p *Pending) Abort() {
	if p.refusal != nil {
		p.refusal.finish()
		return
	}
	p.p.Abort()
}

// SessionID returns the connection's session id (a new one when the request named none).
func (p *Pending) SessionID() string {
	if p.refusal != nil {
		return ""
	}
	return p.p.SessionID()
}

// Serve runs an already upgraded connection on hub until it ends or ctx is cancelled
// (which closes it with 1001 after the frames already queued); the calling goroutine
// becomes its reader. It joins the session only after the upgrade, so a client may miss
// messages stored in between: adapters use Pipeline (or Prepare then Pending.Serve)
// instead. When the hub refuses, ws is closed with 1001 (shutting down), 1008 (invalid
// session id) or 1013 (store unreachable) and the refusal is returned.
func Serve(ctx context.Context, hub *core.Hub, ws Conn, info ConnInfo) error {
	return hubport.Open(hub).Serve(ctx, ws, hubport.ConnInfo(info))
}
