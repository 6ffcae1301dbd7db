package core

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// pendingWaiters are the handlers of this hub waiting for an answer, by session and request
// id. A storage.PendingNotice from the store wakes the one it names.
type pendingWaiters struct {
	mu sync.Mutex
	m  map[streamKey]chan struct{}
}

func (w *pendingWaiters) add(sessionID, id string) chan struct{} {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.m == nil {
		w.m = make(map[streamKey]chan struct{})
	}
	w.m[streamKey{sessionID, id}] = ch
	w.mu.Unlock()
	return ch
}

func (w *pendingWaiters) remove(sessionID, id string) {
	w.mu.Lock()
	delete(w.m, streamKey{sessionID, id})
	w.mu.Unlock()
}

// wake signals the waiter of the request, if this hub has one. It never blocks.
func (w *pendingWaiters) wake(sessionID, id string) {
	w.mu.Lock()
	ch := w.m[streamKey{sessionID, id}]
	w.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// pendingStore returns the hub's storage.PendingStore, or ErrPendingUnsupported.
func (c *connection) pendingStore() (storage.PendingStore, error) {
	ps, ok := c.hub.store.(storage.PendingStore)
	if c.sess == nil || !ok {
		return nil, ErrPendingUnsupported
	}
	return ps, nil
}

// awaitPending stores req, writes the chunks that show it (show, called with s.mu held),
// and waits until it has an answer, the timeout (>0) gives it timeoutAnswer, or ctx or the
// stream's context ends (the request is withdrawn then). The request stays in the store,
// answered, after it returns (see sweepPending), so late answers are told ALREADY_ANSWERED.
//
// While it waits, the hub keeps the session subscribed (even when every client left), so the
// store's notice of an answer given on any instance wakes it at once; it also reads the
// request every StreamLease/3, in case a notice was lost (pub/sub is at-most-once).
func (s *Stream) awaitPending(ctx context.Context, req PendingRequest, timeout time.Duration, timeoutAnswer storage.PendingAnswer, show func() error) (PendingRequest, error) {
	c := s.w.c
	h := c.hub
	ps, err := c.pendingStore()
	if err != nil {
		return PendingRequest{}, err
	}
	sid := s.w.sid
	sess, err := h.acquireSession(ctx, sid)
	if err != nil {
		return PendingRequest{}, WrapError(CodeStoreUnavailable, "Session could not be joined", err)
	}
	defer h.releaseSession(sess)
	wake := h.waiters.add(sid, req.ID)
	defer h.waiters.remove(sid, req.ID)

	h.sweepPending(ctx, ps, sid)
	req.StreamID = s.id
	req.Created = envelope.NowMillis()
	if timeout > 0 {
		req.Expires = req.Created + timeout.Milliseconds()
	}
	sctx, cancel := h.storeCtx(ctx)
	err = ps.PendingAdd(sctx, sid, req)
	cancel()
	if err != nil {
		return PendingRequest{}, WrapError(CodeStoreUnavailable, "Request could not be stored", err)
	}
	s.mu.Lock()
	if s.ended {
		err = ErrStreamEnded
	} else {
		err = show()
	}
	s.mu.Unlock()
	if err != nil {
		s.withdraw(ps, req.ID)
		return PendingRequest{}, err
	}

	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	tick := time.NewTicker(max(h.opts.StreamLease/3, 10*time.Millisecond))
	defer tick.Stop()
	for {
		sctx, cancel := h.storeCtx(ctx)
		got, err := ps.PendingGet(sctx, sid, req.ID)
		cancel()
		switch {
		case err == nil && got.Answer != nil:
			return got, nil
		case errors.Is(err, ErrPendingNotFound):
			return PendingRequest{}, WrapError(CodeRequestNotFound, "The request was withdrawn", err)
		case err != nil && ctx.Err() == nil:
			h.log.Warn("chatwire: reading a pending request failed", "session", sid, "request", req.ID, "err", err)
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-timer:
			timer = nil
			ans := timeoutAnswer
			ans.Timeout, ans.At = true, envelope.NowMillis()
			sctx, cancel := h.storeCtx(context.WithoutCancel(ctx))
			got, err := ps.PendingAnswer(sctx, sid, req.ID, ans, 0)
			cancel()
			if err == nil {
				return got, nil
			}
			// ErrPendingAnswered: a person's answer won the race; read it on the next turn.
		case <-ctx.Done():
			s.withdraw(ps, req.ID)
			return PendingRequest{}, context.Cause(ctx)
		case <-s.ctx.Done():
			s.withdraw(ps, req.ID)
			return PendingRequest{}, context.Cause(s.ctx)
		}
	}
}

// withdraw removes a request nobody will wait for any more.
func (s *Stream) withdraw(ps storage.PendingStore, id string) {
	h := s.w.c.hub
	ctx, cancel := h.storeCtx(h.baseCtx)
	defer cancel()
	if err := ps.PendingDelete(ctx, s.w.sid, id); err != nil {
		h.log.Warn("chatwire: withdrawing a pending request failed", "session", s.w.sid, "request", id, "err", err)
	}
}

// sweepPending removes the session's requests whose reply no longer runs. Answered
// requests stay in the store after their reply ends, so that a late answer is told
// ALREADY_ANSWERED rather than REQUEST_NOT_FOUND; the next request asked in the session
// (or the store's TTL) clears them.
func (h *Hub) sweepPending(ctx context.Context, ps storage.PendingStore, sid string) {
	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	list, err := ps.PendingList(sctx, sid)
	if err != nil || len(list) == 0 {
		return
	}
	running, err := h.liveStreamIDs(sctx, sid)
	if err != nil {
		return
	}
	for _, r := range list {
		if !running[r.StreamID] {
			_ = ps.PendingDelete(sctx, sid, r.ID)
		}
	}
}
