package core

import (
	"context"
	"time"

	"github.com/chatwire/chatwire/internal/streamlog"
	"github.com/chatwire/chatwire/storage"
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
	c.mu.Lock() // directory events may already be queued for c (joinDirectory)
	c.sess = s
	c.mu.Unlock()
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
	replay := last != "" || c.info.ReplayAll
	// One store call (one round trip on a networked store): epoch, head, the anchor, the
	// records after it and the running streams, consistent with each other. Records
	// appended meanwhile arrive live (held in pending) and are de-duplicated by sequence.
	j, err := h.store.Join(sctx, s.id, storage.JoinRequest{LastMessageID: last, Epoch: c.info.Epoch, Replay: replay})
	if err != nil {
		return 0, err
	}
	page, anchor, found, running := j.Page, j.Anchor, j.Found, j.Streams

	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !s.initialized:
		s.initLocked(page)
		c.cursor = page.Head
	case page.Epoch != s.epoch && !(s.cursor == 0 && page.Head == 0):
		// This read saw another epoch than the session's: the fetcher checks which is
		// current and resets every connection if the history was reset.
		s.needFetch = true
		s.startFetchLocked()
	}
	// The client is told of a reset when it knows an epoch that is no longer current, or
	// when the session reset while its replay was being read.
	reset := (c.info.Epoch != "" && c.info.Epoch != page.Epoch) || c.resetDuringJoin
	epoch := page.Epoch
	if c.resetDuringJoin && page.Epoch != s.epoch {
		// What was read belongs to an epoch the session has left: the fetcher delivers the
		// current history to this connection with every other.
		page.Records, page.Trimmed, found, anchor = nil, false, true, 0
		replay, epoch = false, s.epoch
	}
	c.resetDuringJoin = false
	var ids []string
	for _, st := range running {
		if !st.Expired {
			ids = append(ids, st.ID)
		}
	}
	c.queueWelcomeLocked(len(page.Records), ids, epoch) // the first frame, naming what follows
	if reset {
		c.enqueueLocked(frameOf(resetMessage(epoch)), true)
		c.cursor = 0
	}
	for i := range page.Records {
		m := page.Records[i].Message
		c.enqueueLocked(frameOf(&m), true)
	}
	if replay {
		c.cursor = max(c.cursor, page.Head, anchor)
	}
	if last != "" || reset {
		if page.Trimmed || (!found && !reset) {
			reason := "trimmed"
			if !found && !reset {
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
			s.streams[st.ID] = &streamWatch{seq: st.Seq, started: st.Started, replyTo: streamlog.ReplyTo(st.Content), deadline: time.Now().Add(h.opts.StreamLease)}
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
//
// With replay set, the frame is part of a catch-up after a history reset (the whole new
// history, re-sent to every connection) and, like a join's replay, does not count against
// the send queue's limit.
func (c *connection) deliver(seq uint64, f outFrame, replay bool) {
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
	c.enqueueLocked(f, replay)
}
