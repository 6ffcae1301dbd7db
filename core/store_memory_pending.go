package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chatwire/chatwire/storage"
)

var _ storage.PendingStore = (*MemoryStore)(nil)

// memPendingTable holds a MemoryStore's pending requests, per session, in the order they
// were added. Its zero value is ready to use.
type memPendingTable struct {
	mu       sync.Mutex
	sessions map[string][]memPending
}

type memPending struct {
	req   PendingRequest
	added time.Time
}

// sweepLocked drops the session's requests older than the store's session TTL (a handler
// that died without deleting them). t.mu must be held.
func (s *MemoryStore) sweepPendingLocked(sessionID string) []memPending {
	t := &s.pending
	list := t.sessions[sessionID]
	if s.ttl > 0 {
		now := s.now()
		kept := list[:0]
		for _, p := range list {
			if now.Sub(p.added) < s.ttl {
				kept = append(kept, p)
			}
		}
		clear(list[len(kept):])
		list = kept
	}
	if len(list) == 0 {
		delete(t.sessions, sessionID)
		return nil
	}
	t.sessions[sessionID] = list
	return list
}

// PendingAdd implements storage.PendingStore.
func (s *MemoryStore) PendingAdd(ctx context.Context, sessionID string, req PendingRequest) error {
	if err := memCheckCall(ctx, "pending add", sessionID); err != nil {
		return err
	}
	t := &s.pending
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions == nil {
		t.sessions = make(map[string][]memPending)
	}
	list := s.sweepPendingLocked(sessionID)
	for _, p := range list {
		if p.req.ID == req.ID {
			return fmt.Errorf("memory store: pending add %q: %w", req.ID, storage.ErrDuplicate)
		}
	}
	if len(list) >= storage.MaxPendingPerSession {
		return fmt.Errorf("memory store: pending add: more than %d requests in session", storage.MaxPendingPerSession)
	}
	req.Answer = nil
	req.Question = cloneQuestion(req.Question)
	t.sessions[sessionID] = append(list, memPending{req: req, added: s.now()})
	return nil
}

// PendingGet implements storage.PendingStore.
func (s *MemoryStore) PendingGet(ctx context.Context, sessionID, id string) (PendingRequest, error) {
	if err := memCheckCall(ctx, "pending get", sessionID); err != nil {
		return PendingRequest{}, err
	}
	t := &s.pending
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.sessions[sessionID] {
		if p.req.ID == id {
			return clonePending(p.req), nil
		}
	}
	return PendingRequest{}, ErrPendingNotFound
}

// PendingList implements storage.PendingStore.
func (s *MemoryStore) PendingList(ctx context.Context, sessionID string) ([]PendingRequest, error) {
	if err := memCheckCall(ctx, "pending list", sessionID); err != nil {
		return nil, err
	}
	t := &s.pending
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []PendingRequest
	for _, p := range t.sessions[sessionID] {
		out = append(out, clonePending(p.req))
	}
	return out, nil
}

// PendingAnswer implements storage.PendingStore. The answer is recorded and the subscribers are
// notified while the session's lock is held, so the notice follows the answer for everyone.
func (s *MemoryStore) PendingAnswer(ctx context.Context, sessionID, id string, ans storage.PendingAnswer, now int64) (PendingRequest, error) {
	if err := memCheckCall(ctx, "pending answer", sessionID); err != nil {
		return PendingRequest{}, err
	}
	sess := s.lock(sessionID, true)
	defer sess.mu.Unlock()
	t := &s.pending
	t.mu.Lock()
	var found *memPending
	for i, p := range t.sessions[sessionID] {
		if p.req.ID == id {
			found = &t.sessions[sessionID][i]
			break
		}
	}
	switch {
	case found == nil:
		t.mu.Unlock()
		return PendingRequest{}, ErrPendingNotFound
	case found.req.Answer != nil:
		t.mu.Unlock()
		return PendingRequest{}, ErrPendingAnswered
	case now != 0 && found.req.Expires != 0 && now >= found.req.Expires:
		t.mu.Unlock()
		return PendingRequest{}, ErrPendingExpired
	}
	a := ans
	a.Content = cloneBytes(ans.Content)
	found.req.Answer = &a
	out := clonePending(found.req)
	t.mu.Unlock()
	notice := storage.PendingNotice(id)
	sess.notifyLocked(storage.Notification{Ephemeral: &notice})
	return out, nil
}

// PendingDelete implements storage.PendingStore.
func (s *MemoryStore) PendingDelete(ctx context.Context, sessionID, id string) error {
	if err := memCheckCall(ctx, "pending delete", sessionID); err != nil {
		return err
	}
	t := &s.pending
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.sessions[sessionID]
	for i, p := range list {
		if p.req.ID == id {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = memPending{}
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(t.sessions, sessionID)
	} else {
		t.sessions[sessionID] = list
	}
	return nil
}

// clone returns a deep copy of r (its byte slices are not shared).
func clonePending(r PendingRequest) PendingRequest {
	r.Question = cloneQuestion(r.Question)
	if r.Answer != nil {
		a := *r.Answer
		a.Content = cloneBytes(a.Content)
		r.Answer = &a
	}
	return r
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
