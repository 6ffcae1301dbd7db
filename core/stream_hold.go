package core

// holdSession keeps the session of a stream produced on this hub subscribed while the stream
// runs, even when no local connection shows it any more (its connection switched to another
// conversation or went away): cancel requests from other instances then still reach the
// producer. Without a store, or when the store cannot be reached, nothing is held (the
// stream still ends on its own; only remote cancels would be missed).
func (h *Hub) holdSession(k streamKey) {
	if h.store == nil {
		return
	}
	ctx, cancel := h.storeCtx(h.baseCtx)
	s, err := h.acquireSession(ctx, k.session)
	cancel()
	if err != nil {
		h.log.Warn("chatwire: stream session not held; remote cancels may be missed", "session", k.session, "err", err)
		return
	}
	h.runningMu.Lock()
	if h.holds == nil {
		h.holds = make(map[streamKey]*session)
	}
	h.holds[k] = s
	h.runningMu.Unlock()
}

// unholdSession releases what holdSession held.
func (h *Hub) unholdSession(k streamKey) {
	h.runningMu.Lock()
	s := h.holds[k]
	delete(h.holds, k)
	h.runningMu.Unlock()
	if s != nil {
		h.releaseSession(s)
	}
}
