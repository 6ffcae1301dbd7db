package middleware

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
)

// LogOptions configures Logging.
type LogOptions struct {
	// RequestIDHeader is the upgrade request header whose value is logged as request_id
	// with every line about the connection. Default: "X-Request-Id".
	RequestIDHeader string
	// PrincipalID returns what to log for a principal (a user id, never a credential).
	// Default: nil, which logs no principal.
	PrincipalID func(principal any) string
	// Level is the level of connect, disconnect and refusal lines. Rejected frames are
	// logged at this level too, except server-side failures (INTERNAL,
	// STORE_UNAVAILABLE), which are warnings, and duplicates, which are debug lines.
	// Default: slog.LevelInfo.
	Level slog.Level
}

// DefaultRequestIDHeader is LogOptions.RequestIDHeader's default.
const DefaultRequestIDHeader = "X-Request-Id"

// Logging returns hooks that log the life of every connection to logger: refused upgrades
// (status), connections (session, remote address, request id, replayed count, redacted
// query), disconnections (close code, duration, error), rejected frames (code) and failed
// sends. Message contents and credentials are never logged; query strings go through
// RedactQuery.
//
// Its Admit copies the request id and redacted query of an admitted upgrade for the lines
// about the connection; its OnRefuse logs refusals (both need the hooks installed through
// Chain and the chain's Apply, which puts the Admit on the hub; without them lines carry no
// request id or query, and refusals are not logged).
func Logging(logger *slog.Logger, opts LogOptions) Hooks {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &connLog{
		log:     logger,
		header:  opts.RequestIDHeader,
		who:     opts.PrincipalID,
		level:   opts.Level,
		pending: make(map[string][]*logEntry),
		conns:   make(map[string]*logEntry),
	}
	if l.header == "" {
		l.header = DefaultRequestIDHeader
	}
	return Hooks{
		Admit:        l.admit,
		OnRefuse:     l.refused,
		OnConnect:    l.connected,
		OnDisconnect: l.disconnected,
		OnFrameIn:    l.frameIn,
		OnFrameOut:   l.frameOut,
	}
}

// logEntry is what Logging remembers of an admitted upgrade until its connection ends.
type logEntry struct {
	remote, requestID, query string
	connID                   string // set once the connection is known
}

// connLog correlates admissions with connections by remote address: an upgraded TCP
// connection is hijacked, so one remote address carries at most one live WebSocket, and the
// core reports the same address to Admit and to OnConnect.
type connLog struct {
	log    *slog.Logger
	header string
	who    func(any) string
	level  slog.Level

	mu      sync.Mutex
	pending map[string][]*logEntry // remote address -> admitted entries, oldest first
	conns   map[string]*logEntry   // conn id -> entry
}

func (l *connLog) admit(_ context.Context, req *core.AdmitRequest) (core.Admission, error) {
	e := &logEntry{remote: req.RemoteAddr, requestID: l.requestID(req), query: RedactQuery(req.Query)}
	l.mu.Lock()
	l.pending[e.remote] = append(l.pending[e.remote], e)
	l.mu.Unlock()
	return core.Admission{Release: func() { l.drop(e) }}, nil
}

// maxRequestIDLen bounds the logged request id, which the client controls.
const maxRequestIDLen = 128

func (l *connLog) requestID(req *core.AdmitRequest) string {
	id := req.Header.Get(l.header)
	if len(id) > maxRequestIDLen {
		id = id[:maxRequestIDLen]
	}
	return id
}

func (l *connLog) drop(e *logEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	list := slices.DeleteFunc(l.pending[e.remote], func(x *logEntry) bool { return x == e })
	if len(list) == 0 {
		delete(l.pending, e.remote)
	} else {
		l.pending[e.remote] = list
	}
	if e.connID != "" && l.conns[e.connID] == e {
		delete(l.conns, e.connID)
	}
}

// entry returns the connection's entry, claiming an admitted one for it on first use.
func (l *connLog) entry(connID, remote string) *logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.conns[connID]; e != nil {
		return e
	}
	for _, e := range l.pending[remote] {
		if e.connID == "" {
			e.connID = connID
			l.conns[connID] = e
			return e
		}
	}
	return &logEntry{}
}

func (l *connLog) lookup(connID string) *logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.conns[connID]; e != nil {
		return e
	}
	return &logEntry{}
}

func (l *connLog) refused(req *core.AdmitRequest, err error) {
	status, _ := adapterkit.RefusalOf(err)
	attrs := []slog.Attr{slog.Int("status", status), slog.String("remote", req.RemoteAddr)}
	if id := l.requestID(req); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if req.SessionID != "" {
		attrs = append(attrs, slog.String("session", req.SessionID))
	}
	if q := RedactQuery(req.Query); q != "" {
		attrs = append(attrs, slog.String("query", q))
	}
	l.log.LogAttrs(context.Background(), l.level, "chatwire: upgrade refused", attrs...)
}

func (l *connLog) connected(ev core.ConnEvent) {
	e := l.entry(ev.ConnID, ev.RemoteAddr)
	attrs := l.base(ev.ConnID, ev.SessionID, e)
	attrs = append(attrs, slog.String("remote", ev.RemoteAddr), slog.Int("replayed", ev.Replayed))
	if e.query != "" {
		attrs = append(attrs, slog.String("query", e.query))
	}
	if l.who != nil && ev.Principal != nil {
		attrs = append(attrs, slog.String("principal", l.who(ev.Principal)))
	}
	l.log.LogAttrs(context.Background(), l.level, "chatwire: connected", attrs...)
}

func (l *connLog) disconnected(ev core.DisconnectEvent) {
	e := l.entry(ev.ConnID, ev.RemoteAddr)
	attrs := l.base(ev.ConnID, ev.SessionID, e)
	attrs = append(attrs, slog.Int("code", int(ev.Code)), slog.Duration("duration", ev.Duration))
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	l.mu.Lock()
	delete(l.conns, ev.ConnID) // the entry itself goes with Release
	l.mu.Unlock()
	l.log.LogAttrs(context.Background(), l.level, "chatwire: disconnected", attrs...)
}

func (l *connLog) frameIn(ev core.FrameIn) {
	if ev.Phase != core.FrameRejected {
		return
	}
	code := RejectionCode(ev.Err)
	level := l.level
	switch code {
	case core.CodeInternal, core.CodeStoreUnavailable:
		level = slog.LevelWarn
	case CodeDuplicate:
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	attrs := append(l.base(ev.ConnID, ev.SessionID, l.lookup(ev.ConnID)), slog.String("code", string(code)))
	if ev.Message != nil {
		attrs = append(attrs, slog.String("type", string(ev.Message.Type)))
	}
	l.log.LogAttrs(ctx, level, "chatwire: frame rejected", attrs...)
}

func (l *connLog) frameOut(ev core.FrameOut) {
	if ev.Phase != core.FrameSendFailed {
		return
	}
	attrs := l.base(ev.ConnID, ev.SessionID, l.lookup(ev.ConnID))
	if ev.Err != nil {
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
	}
	l.log.LogAttrs(context.Background(), slog.LevelWarn, "chatwire: send failed", attrs...)
}

// base returns the attributes of every line about a connection.
func (l *connLog) base(connID, sessionID string, e *logEntry) []slog.Attr {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("conn", connID), slog.String("session", sessionID))
	if e.requestID != "" {
		attrs = append(attrs, slog.String("request_id", e.requestID))
	}
	return attrs
}
