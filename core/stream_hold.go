package core

import "context"

// A reply keeps its session subscribed on the instance that produces it for as long as it
// runs, even when every client of the session on that instance has left (a reload, a move
// to another instance): requests that reach the producer only through the store (a cancel,
// a steered message, the answer to an approval or a question given on another instance)
// must still find it.

// holdSession takes a reference on the stream's session. s.mu is held; the session is
// already running (the connection holds it), so this only counts a reference.
func (s *Stream) holdSession(ctx context.Context) {
	h := s.w.c.hub
	sess, err := h.acquireSession(ctx, s.w.c.info.SessionID)
	if err != nil {
		h.log.Warn("chatwire: the reply could not keep its session subscribed", "session", s.w.c.info.SessionID, "stream", s.id, "err", err)
		return
	}
	s.held = sess
}

// releaseSession drops the reference holdSession took. Called once the handler returned.
func (s *Stream) releaseSession() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	if held != nil {
		s.w.c.hub.releaseSession(held)
	}
}
