package core

import "context"

// join attaches the connection to its session and, when the client asked for it, queues
// the replay of every stored message after LastMessageID. Live records that arrive while
// the history is read are held back and queued after it, skipping any already replayed,
// so the client sees no gap and no duplicate. It returns the number of replayed records.
func (c *connection) join(ctx context.Context) (int, error) {
	h := c.hub
	s, err := h.acquireSession(ctx, c.info.SessionID)
	if err != nil {
		return 0, err
	}
	c.sess = s
	last := c.info.LastMessageID

	s.mu.Lock()
	c.mu.Lock()
	c.cursor = s.cursor
	c.replaying = last != ""
	c.mu.Unlock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	if last == "" {
		return 0, nil
	}

	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	anchor, found, err := h.store.Lookup(sctx, s.id, last)
	if err != nil {
		return 0, err
	}
	page, err := h.store.Read(sctx, s.id, anchor)
	if err != nil {
		return 0, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range page.Records {
		m := page.Records[i].Message
		c.enqueueLocked(outFrame{data: AppendMessage(make([]byte, 0, 128+len(m.Content)+len(m.Metadata)), &m), msg: &m}, true)
	}
	c.cursor = max(c.cursor, page.Head, anchor)
	if !found || page.Trimmed {
		reason := "trimmed"
		if !found {
			reason = "unknown_id"
		}
		g := gapMessage(reason)
		c.enqueueLocked(outFrame{data: AppendMessage(nil, g), msg: g}, true)
	}
	c.replaying = false
	pending := c.pending
	c.pending = nil
	for _, p := range pending {
		if p.seq > c.cursor {
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
