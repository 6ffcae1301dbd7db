package core

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Hub runs chat connections: it reads and validates frames, calls the handler, writes
// replies, sends heartbeats, and (with a Store) keeps sessions, fans messages out to every
// connection of a session and replays history on reconnect.
//
// A Hub is safe for concurrent use. Create it with NewHub and stop it with Shutdown.
type Hub struct {
	opts  Options
	log   *slog.Logger
	store Store

	mu       sync.Mutex
	closing  bool
	stopped  chan struct{}          // closed when every goroutine has ended after closeAll began
	conns    map[string]*connection // by connection id
	sessions map[string]*session
	wg       sync.WaitGroup // Serve calls, handler runs and session fetchers

	baseCtx    context.Context // ends session-mode handlers and fetchers; see closeAll
	baseCancel context.CancelFunc
	pingFrame  []byte
	storeLocal bool // the store is a *MemoryStore: its calls never block on I/O

	runningMu sync.Mutex
	running   map[streamKey]*Stream  // streams produced on this hub, for cancel requests
	holds     map[streamKey]*session // sessions kept subscribed while their streams run (stream_hold.go)

	dir *directoryHub // conversation directory; nil when disabled (conversations.go)

	waiters pendingWaiters // handlers waiting for a person's answer (pending_wait.go)
}

type streamKey struct{ session, stream string }

// NewHub returns a Hub configured by opts (see Options for defaults).
func NewHub(opts Options) *Hub {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	_, local := o.Store.(*MemoryStore)
	h := &Hub{
		storeLocal: local,
		opts:       o,
		log:        o.Logger,
		store:      o.Store,
		running:    make(map[streamKey]*Stream),
		conns:      make(map[string]*connection),
		sessions:   make(map[string]*session),
		baseCtx:    ctx,
		baseCancel: cancel,
		pingFrame:  []byte(`{"type":"ping"}`),
	}
	h.dir = newDirectoryHub(h, o)
	return h
}

// serve runs one upgraded connection: prepare, then pending.serve. When prepare refuses,
// it closes c with 1001 (shutting down), 1008 (invalid session id) or 1013 (store
// unreachable) and returns the refusal.
func (h *Hub) serve(ctx context.Context, c wsConn, info connInfo) error {
	p, err := h.prepare(ctx, info)
	if err != nil {
		code := CloseTryAgainLater
		switch {
		case errors.Is(err, ErrHubClosed):
			code = CloseGoingAway
		case errors.Is(err, ErrInvalidSessionID):
			code = ClosePolicyViolation
		}
		_ = c.WriteControl(closeMessage, formatCloseMessage(int(code), ""), time.Now().Add(time.Second))
		_ = c.Close()
		return err
	}
	return p.Serve(ctx, c)
}

// Shutdown closes every connection with 1001 (going away) so clients reconnect elsewhere,
// refuses new ones, and waits until every connection and goroutine of the hub has ended.
// Queued frames are flushed first. In session mode, handlers that are still producing a
// reply (a stream) may finish it meanwhile: clients that reconnect to another instance see
// the rest.
//
// Shutdown keeps ctx's deadline. When ctx ends first, it cancels every handler's context,
// closes the remaining sockets at once, logs what is still running and returns ctx.Err()
// without waiting further. Goroutines still running then (a handler that ignores its
// context) remain the hub's: it stops them as they return, and a later Shutdown call waits
// for them again.
func (h *Hub) Shutdown(ctx context.Context) error {
	return h.closeAll(ctx, CloseGoingAway, "server shutting down")
}

// Drain is Shutdown with a chosen close code and reason, for example CloseServiceRestart
// (1012) during a rolling deploy. It keeps ctx's deadline as Shutdown does.
func (h *Hub) Drain(ctx context.Context, code CloseCode, reason string) error {
	return h.closeAll(ctx, code, reason)
}

func (h *Hub) closeAll(ctx context.Context, code CloseCode, reason string) error {
	h.mu.Lock()
	h.closing = true
	if h.stopped == nil {
		h.stopped = make(chan struct{})
		stopped := h.stopped
		// Owned by the hub: no goroutine can join h.wg once closing is set without one
		// already counted, so this ends when the last connection, handler or fetcher has.
		go func() {
			h.wg.Wait()
			h.baseCancel()
			close(stopped)
		}()
	}
	stopped := h.stopped
	conns := make([]*connection, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.closeWith(code, reason, true)
	}
	h.endLingering()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
	}
	h.baseCancel() // ends handler contexts and store calls of session mode
	h.mu.Lock()
	for _, c := range h.conns {
		c.abort()
	}
	remaining := len(h.conns)
	h.mu.Unlock()
	select {
	case <-stopped:
	default:
		h.runningMu.Lock()
		streams := len(h.running) // replies whose handler has not returned, sockets or not
		h.runningMu.Unlock()
		h.log.Warn("chatwire: shutdown deadline passed; the hub stops what still runs as it returns",
			"connections", remaining, "streams", streams, "err", ctx.Err())
	}
	return ctx.Err()
}

// registerStream records a stream produced on this hub so cancel requests can reach it.
func (h *Hub) registerStream(sessionID string, s *Stream) {
	h.runningMu.Lock()
	h.running[streamKey{sessionID, s.id}] = s
	h.runningMu.Unlock()
	h.holdSession(streamKey{sessionID, s.id})
}

func (h *Hub) unregisterStream(sessionID string, s *Stream) {
	h.runningMu.Lock()
	delete(h.running, streamKey{sessionID, s.id})
	h.runningMu.Unlock()
	h.unholdSession(streamKey{sessionID, s.id})
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

// storeCtx returns a context for one store call: parent bounded by StoreTimeout, or parent
// itself when the store never blocks on I/O (the MemoryStore), which saves a timer and a
// context per call.
func (h *Hub) storeCtx(parent context.Context) (context.Context, context.CancelFunc) {
	if h.storeLocal {
		return parent, noCancel
	}
	return context.WithTimeout(parent, h.opts.StoreTimeout)
}

func noCancel() {}
