package core

import (
	"context"
	"sync"
	"time"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// session is the hub's view of one session while it has local connections (and for
// Options.SessionLinger after the last one left, with a networked store): the store
// subscription, the last sequence delivered, and the connections to deliver to.
//
// Delivery is driven by sequence numbers, so at-most-once notifications are enough: a record
// that follows the cursor is delivered at once; a jump, or a Resync notification, makes a
// fetcher goroutine read the missing records from the store and deliver them in order.
type session struct {
	hub   *Hub
	id    string
	ready chan struct{} // closed once start has finished; err is then set
	err   error
	refs  int // connections using the session; guarded by hub.mu
	// linger ends the session when it has had no reference for Options.SessionLinger
	// (see releaseSession); guarded by hub.mu.
	linger *time.Timer

	cancelSub func()
	stop      chan struct{} // closed when the session ends (end)

	mu          sync.Mutex
	conns       map[*connection]struct{}
	epoch       string // the history epoch cursor belongs to (session_epoch.go)
	cursor      uint64
	lastID      string // message id of the record at cursor, when delivered here
	resetUntil  uint64 // after a reset: records up to this head are re-sent as a replay
	resetAt     bool   // a reset happened; the next read sets resetUntil
	initialized bool   // epoch and cursor were read from the store (by the first join)
	fetching    bool
	needFetch   bool
	needStreams bool // the running streams must be read again (see syncStreams)
	closed      bool
	streams     map[string]*streamWatch
	watch       *time.Timer

	press pressure // raised while a member's queue is above its high-water mark (fairness.go)
}

// acquireSession returns the running session id, starting it (subscribe, read the head)
// when this is its first local connection.
func (h *Hub) acquireSession(ctx context.Context, id string) (*session, error) {
	h.mu.Lock()
	if s := h.sessions[id]; s != nil {
		s.refs++
		if s.linger != nil {
			s.linger.Stop() // a late expiry finds refs > 0 and leaves the session alone
			s.linger = nil
		}
		h.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			h.releaseSession(s)
			return nil, ctx.Err()
		}
		if s.err != nil {
			h.releaseSession(s)
			return nil, s.err
		}
		return s, nil
	}
	s := &session{hub: h, id: id, ready: make(chan struct{}), stop: make(chan struct{}), refs: 1, conns: make(map[*connection]struct{}), streams: make(map[string]*streamWatch)}
	h.sessions[id] = s
	h.mu.Unlock()

	if err := s.start(ctx); err != nil {
		s.err = err
		close(s.ready)
		h.releaseSession(s)
		return nil, err
	}
	close(s.ready)
	return s, nil
}

// releaseSession drops one reference; the last one unsubscribes and stops the fetcher, at
// once or, with a networked store, after Options.SessionLinger without a new reference.
func (h *Hub) releaseSession(s *session) {
	h.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last && h.sessions[s.id] == s && s.err == nil && !h.storeLocal && h.opts.SessionLinger > 0 && !h.closing {
		s.linger = time.AfterFunc(h.opts.SessionLinger, func() { h.expireSession(s) })
		h.mu.Unlock()
		return
	}
	if last && h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.mu.Unlock()
	if last {
		s.end()
	}
}

// expireSession ends a lingering session unless it was acquired again meanwhile.
func (h *Hub) expireSession(s *session) {
	h.mu.Lock()
	if s.refs != 0 || h.sessions[s.id] != s {
		h.mu.Unlock()
		return
	}
	delete(h.sessions, s.id)
	s.linger = nil
	h.mu.Unlock()
	s.end()
}

// endLingering ends every lingering session now (Shutdown).
func (h *Hub) endLingering() {
	h.mu.Lock()
	var ended []*session
	for id, s := range h.sessions {
		if s.refs == 0 && s.linger != nil {
			s.linger.Stop()
			s.linger = nil
			delete(h.sessions, id)
			ended = append(ended, s)
		}
	}
	h.mu.Unlock()
	for _, s := range ended {
		s.end()
	}
}

// end unsubscribes the session and stops its timers; it runs once, after the last
// reference is gone.
func (s *session) end() {
	s.mu.Lock()
	s.closed = true
	if s.watch != nil {
		s.watch.Stop()
	}
	s.mu.Unlock()
	close(s.stop)
	if s.cancelSub != nil {
		s.cancelSub() // outside every lock: it waits for notify calls in flight
	}
}

// start subscribes to the session. The epoch and cursor come from the first join's read
// (initLocked), which follows the subscription, so no record falls between the two.
func (s *session) start(ctx context.Context) error {
	h := s.hub
	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	unsub, err := h.store.Subscribe(sctx, s.id, s.notify)
	if err != nil {
		return err
	}
	s.cancelSub = unsub
	return nil
}

// initLocked sets the session's position from the first page a join read after the
// subscription. s.mu must be held.
func (s *session) initLocked(page storage.Page) {
	s.epoch, s.cursor = page.Epoch, page.Head
	s.initialized = true
	if s.needFetch {
		s.startFetchLocked()
	}
}

// notify is the store subscription callback. It never blocks on I/O.
func (s *session) notify(n storage.Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if n.Ephemeral != nil {
		if id, ok := storage.PendingNoticeID(n.Ephemeral); ok {
			s.hub.waiters.wake(s.id, id) // a pending request was answered: never shown to clients
			return
		}
		if stream, m, ok := steerNoticeOf(n.Ephemeral); ok {
			s.hub.deliverSteer(s.id, stream, m) // a message steered to a reply: never shown as such
			return
		}
		s.deliverEphemeralLocked(n.Ephemeral)
		return
	}
	if n.Stream != nil {
		s.onStreamEventLocked(n)
		if n.Stream.Kind != storage.StreamEnded {
			return
		}
	}
	if n.Resync || !s.initialized || s.fetching || n.Record.Seq > s.cursor+1 ||
		(n.Epoch != s.epoch && !(s.cursor == 0 && n.Record.Seq == 1)) {
		// A gap, or another epoch: the fetcher reads the history and finds out which.
		s.needFetch = true
		if n.Resync {
			s.needStreams = true // stream deltas and ends may have been lost too
		}
		if s.initialized {
			s.startFetchLocked()
		}
		return
	}
	if n.Record.Seq <= s.cursor {
		return // already delivered
	}
	s.epoch = n.Epoch // the same, or the first record of the first epoch seen
	s.deliverLocked(n.Record, false)
}

func (s *session) startFetchLocked() {
	if s.fetching || s.closed {
		return
	}
	s.fetching = true
	s.hub.wg.Add(1)
	go s.fetchLoop()
}

// fetchLoop reads records after the cursor until no fetch is pending. Store failures are
// retried with backoff until the store answers or the session ends.
func (s *session) fetchLoop() {
	h := s.hub
	defer h.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		s.mu.Lock()
		if s.closed || (!s.needFetch && !s.needStreams) {
			s.fetching = false
			s.mu.Unlock()
			return
		}
		fetchRecords, fetchStreams := s.needFetch, s.needStreams
		s.needFetch, s.needStreams = false, false
		from := s.cursor
		// Read from the record at the cursor too, to check it is still the one delivered:
		// a store that went back in time keeping its epoch (a failover to a replica that
		// lagged, a restart from an older snapshot) shows there (session_epoch.go).
		lastID, epoch := s.lastID, s.epoch
		verify := from > 0 && lastID != ""
		readFrom := from
		if verify {
			readFrom = from - 1
		}
		s.mu.Unlock()

		var page storage.Page
		var err error
		if fetchRecords {
			ctx, cancel := h.storeCtx(h.baseCtx)
			page, err = h.store.Read(ctx, s.id, readFrom)
			cancel()
		}
		if err == nil && fetchStreams {
			err = s.syncStreams()
		}
		if err != nil {
			h.log.Warn("chatwire: catching up from store failed", "session", s.id, "err", err)
			s.mu.Lock()
			s.needFetch = s.needFetch || fetchRecords
			s.needStreams = s.needStreams || fetchStreams
			s.mu.Unlock()
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.stop:
				t.Stop()
			case <-h.baseCtx.Done():
				t.Stop()
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		s.mu.Lock()
		if fetchRecords && !s.closed && !s.adoptEpochLocked(page.Epoch) {
			s.mu.Unlock()
			continue // reset: read the new epoch from its start
		}
		if fetchRecords && verify && !s.closed && page.Epoch == epoch && s.cursor == from {
			if wentBack(page, from, lastID) {
				s.resetLocked(page.Epoch)
				s.mu.Unlock()
				continue
			}
			// Trimmed as if read from the cursor.
			page.Trimmed = (len(page.Records) == 0 && page.Head > from) ||
				(len(page.Records) > 0 && page.Records[0].Seq > from+1)
		}
		if s.cursor == 0 && s.resetAt {
			// The first read after a reset: the new history up to its head goes to every
			// connection like a replay.
			s.resetAt, s.resetUntil = false, page.Head
		}
		if page.Trimmed && !s.closed {
			s.gapLocked("trimmed")
		}
		for _, rec := range page.Records {
			if rec.Seq > s.cursor {
				s.deliverLocked(rec, rec.Seq <= s.resetUntil)
			}
		}
		if page.Head > s.cursor && len(page.Records) == 0 {
			s.cursor, s.lastID = page.Head, ""
		}
		s.mu.Unlock()
	}
}

// deliverLocked queues rec, encoded once, for every connection. s.mu must be held.
func (s *session) deliverLocked(rec storage.Record, replay bool) {
	s.cursor = rec.Seq
	s.lastID = rec.Message.ID
	if len(s.conns) == 0 {
		return
	}
	m := rec.Message
	f := frameOf(&m)
	for c := range s.conns {
		c.deliver(rec.Seq, f, replay)
	}
}

// gapLocked tells every connection that live delivery skipped records that are no
// longer retained.
func (s *session) gapLocked(reason string) {
	if len(s.conns) == 0 {
		return
	}
	f := frameOf(gapMessage(reason)) // encoded once for every connection
	for c := range s.conns {
		c.mu.Lock()
		c.enqueueLocked(f, false)
		c.mu.Unlock()
	}
}

// deliverEphemeralLocked delivers m (a typing envelope published through the store) to
// the session's connections. s.mu must be held.
func (s *session) deliverEphemeralLocked(m *Message) {
	f := frameOf(m)
	for c := range s.conns {
		c.mu.Lock()
		if !c.replaying {
			c.enqueueLocked(f, false)
		}
		c.mu.Unlock()
	}
}

// gapMessage is the system envelope that says a replay or live delivery may be missing
// messages: metadata {"code":"REPLAY_GAP","reason":"unknown_id"|"trimmed"}.
func gapMessage(reason string) *Message {
	return &Message{
		ID:        NewID(),
		Type:      TypeSystem,
		Role:      RoleSystem,
		Content:   "Some earlier messages are no longer available; the history may be incomplete.",
		Metadata:  codeMetadata(CodeReplayGap, reason),
		Timestamp: envelope.NowMillis(),
	}
}

// leave removes c from the session's delivery set.
func (s *session) leave(c *connection) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}
