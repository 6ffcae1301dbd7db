package core

import (
	"context"
	"time"
)

// join attaches the connection to its session and queues, before any live frame, the replay
// of every stored message after LastMessageID (when the client asked for it) and one
// compacted frame per running stream. Live frames that arrive meanwhile are held back and
// queued after them, skipping what was already queued, so the client sees no gap and no
// duplicate. It returns the number of replayed records.
func (c *connection) join(ctx context.Context) (int, error) {
	h := c.hub
	s, err := h.acquireSession(ctx, c.info.SessionID)
	if err != nil {
		return 0, err
	}
	c.sess = s
	return c.attach(ctx, s)
}

// attach is join after the session was acquired; a conversation switch uses it too.
func (c *connection) attach(ctx context.Context, s *session) (int, error) {
	h := c.hub
	last := c.info.LastMessageID

	s.mu.Lock()
	c.mu.Lock()
	c.cursor = s.cursor
	c.replaying = true
	c.mu.Unlock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()

	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	var page Page
	var anchor uint64
	var err error
	found := true
	replay := last != "" || c.info.ReplayAll
	if last != "" {
		if anchor, found, err = h.store.Lookup(sctx, s.id, last); err != nil {
			return 0, err
		}
	}
	if replay {
		if page, err = h.store.Read(sctx, s.id, anchor); err != nil {
			return 0, err
		}
	}
	// Running streams are read after the history: a stream that ended in between is in
	// the page or arrives live; one still running is sent compacted.
	running, err := h.streams.StreamSnapshot(sctx, s.id)
	if err != nil {
		return 0, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, st := range running {
		if !st.Expired {
			ids = append(ids, st.ID)
		}
	}
	c.queueWelcomeLocked(len(page.Records), ids) // the first frame, naming what follows
	for i := range page.Records {
		m := page.Records[i].Message
		c.enqueueLocked(frameOf(&m), true)
	}
	if replay {
		c.cursor = max(c.cursor, page.Head, anchor)
	}
	if last != "" {
		if !found || page.Trimmed {
			reason := "trimmed"
			if !found {
				reason = "unknown_id"
			}
			g := gapMessage(reason)
			c.enqueueLocked(frameOf(g), true)
		}
	}
	for _, st := range running {
		if st.Expired {
			continue // a watcher ends it; its final message arrives live
		}
		c.queueDeltaLocked(delta{stream: st.ID, seq: st.Seq, started: st.Started, text: st.Content, resume: true})
		if w := s.streams[st.ID]; w == nil {
			s.streams[st.ID] = &streamWatch{seq: st.Seq, started: st.Started, deadline: time.Now().Add(h.opts.StreamLease)}
			s.armWatchLocked()
		} else if w.seq < st.Seq {
			s.needStreams = true // the session fell behind this stream: bring every connection up to date
			s.startFetchLocked()
		}
	}
	c.replaying = false
	pending := c.pending
	c.pending = nil
	for _, p := range pending {
		switch {
		case p.delta != nil:
			c.queueDeltaLocked(p.delta.value())
		case p.seq > c.cursor:
			c.cursor = p.seq
			c.enqueueLocked(p.frame, false)
		}
	}
	return len(page.Records), nil
}

// deliver queues a live session record unless it was already queued (by sequence).
// While the connection's replay is being read, records are held in pending.
func (c *connection) deliver(seq uint64, f outFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replaying {
		if len(c.pending) >= c.hub.opts.SendQueueSize {
			c.requestCloseLocked(ClosePolicyViolation, "slow consumer", false)
			return
		}
		c.pending = append(c.pending, pendingFrame{seq: seq, frame: f})
		return
	}
	if seq <= c.cursor {
		return
	}
	c.cursor = seq
	c.enqueueLocked(f, false)
}
