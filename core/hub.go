package core

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// ConnInfo is what an adapter learned from the upgrade request, handed to Hub.Serve.
// Adapters build it with Handshake (see UpgradePolicy.Check) before upgrading, copying every
// value out of framework-owned buffers.
type ConnInfo struct {
	// SessionID names the session; it must satisfy ValidSessionID. Empty means a new
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
	// Header is a copy of the upgrade request's headers, passed to handlers.
	Header http.Header
	// Principal is the authenticated identity, passed to handlers; nil without auth.
	Principal any
	// CloseCode extracts the peer's close code from a read error (for example from
	// *websocket.CloseError). Optional: without it peer-initiated closes report 1006.
	CloseCode func(err error) (code int, ok bool)
	// Expires, when set, is when the connection's credentials expire; the hub closes it
	// with 1008 then.
	Expires time.Time
	// OnClose, when set, is called exactly once when Serve returns (see Admission.Release).
	OnClose func()
}

// Hub runs chat connections: it reads and validates frames, calls the handler, writes
// replies, sends heartbeats, and (with a Store) keeps sessions, fans messages out to every
// connection of a session and replays history on reconnect.
//
// A Hub is safe for concurrent use. Create it with NewHub and stop it with Shutdown.
type Hub struct {
	opts    Options
	log     *slog.Logger
	store   Store
	streams StreamStore // the store's stream part; nil without a store

	mu       sync.Mutex
	closing  bool
	conns    map[*connection]struct{}
	sessions map[string]*session
	wg       sync.WaitGroup // Serve calls and session fetchers

	baseCtx    context.Context // ends session-mode handlers and fetchers; see closeAll
	baseCancel context.CancelFunc
	pingFrame  []byte

	runningMu sync.Mutex
	running   map[streamKey]*Stream // streams produced on this hub, for cancel requests

	dir *directoryHub // conversation directory; nil when disabled (conversations.go)
}

type streamKey struct{ session, stream string }

// NewHub returns a Hub configured by opts (see Options for defaults).
func NewHub(opts Options) *Hub {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	var streams StreamStore = o.Store // nil without a store
	h := &Hub{
		opts:       o,
		log:        o.Logger,
		store:      o.Store,
		streams:    streams,
		running:    make(map[streamKey]*Stream),
		conns:      make(map[*connection]struct{}),
		sessions:   make(map[string]*session),
		baseCtx:    ctx,
		baseCancel: cancel,
		pingFrame:  []byte(`{"type":"ping"}`),
	}
	h.dir = newDirectoryHub(h, o)
	return h
}

// Serve runs one upgraded connection until it ends or ctx is cancelled (which closes it with
// 1001 after the frames already queued); the calling goroutine becomes the connection's
// reader. It returns nil when the connection closed normally, ErrHubClosed
// when the hub is shutting down, or the error that ended it. Serve closes c before it
// returns and waits for every goroutine it started.
//
// Serve joins the session only once the connection is upgraded, so a client may miss
// messages stored between the upgrade response and the join. Adapters avoid that window by
// calling Prepare before the upgrade and Pending.Serve after it; Serve is Prepare followed
// by Pending.Serve, closing c with 1001, 1008 or 1013 when Prepare refuses.
func (h *Hub) Serve(ctx context.Context, c Conn, info ConnInfo) error {
	p, err := h.Prepare(ctx, info)
	if err != nil {
		code := CloseTryAgainLater
		switch {
		case errors.Is(err, ErrHubClosed):
			code = CloseGoingAway
		case errors.Is(err, ErrInvalidSessionID):
			code = ClosePolicyViolation
		}
		_ = c.WriteControl(CloseMessage, FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		_ = c.Close()
		return err
	}
	return p.Serve(ctx, c)
}

// Shutdown closes every connection with 1001 (going away) so clients reconnect elsewhere,
// refuses new ones, and waits until every connection and goroutine of the hub has ended.
// Queued frames are flushed first. In session mode, handlers that are still producing a
// reply (a stream) may finish it meanwhile: clients that reconnect to another instance see
// the rest. If ctx ends first, handler contexts are cancelled, the remaining connections
// are closed abruptly, and Shutdown returns ctx.Err() once everything has stopped.
func (h *Hub) Shutdown(ctx context.Context) error {
	return h.closeAll(ctx, CloseGoingAway, "server shutting down")
}

// Drain is Shutdown with a chosen close code and reason, for example CloseServiceRestart
// (1012) during a rolling deploy.
func (h *Hub) Drain(ctx context.Context, code int, reason string) error {
	return h.closeAll(ctx, code, reason)
}

func (h *Hub) closeAll(ctx context.Context, code int, reason string) error {
	h.mu.Lock()
	h.closing = true
	conns := make([]*connection, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.closeWith(code, reason, true)
	}
	done := make(chan struct{})
	go func() { // owned by closeAll: it always waits for done below
		h.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		h.baseCancel()
		h.mu.Lock()
		for c := range h.conns {
			c.abort()
		}
		h.mu.Unlock()
		<-done
	}
	h.baseCancel()
	return err
}

// registerStream records a stream produced on this hub so cancel requests can reach it.
func (h *Hub) registerStream(sessionID string, s *Stream) {
	h.runningMu.Lock()
	h.running[streamKey{sessionID, s.id}] = s
	h.runningMu.Unlock()
}

func (h *Hub) unregisterStream(sessionID string, s *Stream) {
	h.runningMu.Lock()
	delete(h.running, streamKey{sessionID, s.id})
	h.runningMu.Unlock()
}

// cancelLocalStream cancels the stream if this hub produces it, reporting whether it did.
// It never blocks.
func (h *Hub) cancelLocalStream(sessionID, streamID string) bool {
	h.runningMu.Lock()
	s := h.running[streamKey{sessionID, streamID}]
	h.runningMu.Unlock()
	if s == nil {
		return false
	}
	s.cancel(ErrStreamCancelled)
	return true
}

// ConnCount returns the number of connections being served.
func (h *Hub) ConnCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// storeCtx returns a context for one store call.
func (h *Hub) storeCtx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, h.opts.StoreTimeout)
}
