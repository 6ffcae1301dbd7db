package core

import (
	"context"
	"fmt"
	"time"

	"github.com/chatwire/chatwire/storage"
)

// memStream is a running stream held by a MemoryStore.
type memStream struct {
	seq     uint64
	content []byte
	started int64
	expires time.Time
}

var _ storage.StreamStore = (*MemoryStore)(nil)

// notifyLocked calls every subscriber of sess (locked by the caller) with n.
func (sess *memSession) notifyLocked(n storage.Notification) {
	for sub := range sess.subs {
		sub.fn(n)
	}
}

// StreamAppend implements storage.StreamStore. Subscribers are called before it returns.
func (s *MemoryStore) StreamAppend(ctx context.Context, sessionID, streamID string, seq uint64, delta string, started int64, lease time.Duration) error {
	if err := memCheckCall(ctx, "stream append", sessionID); err != nil {
		return err
	}
	sess := s.lock(sessionID, true)
	defer sess.mu.Unlock()
	now := s.now()
	st := sess.streams[streamID]
	switch {
	case st == nil && seq == 1:
		if sess.streams == nil {
			sess.streams = make(map[string]*memStream)
		}
		st = &memStream{started: started}
		sess.streams[streamID] = st
	case st == nil:
		return fmt.Errorf("memory store: stream %q: %w", streamID, ErrStreamNotFound)
	case seq == st.seq && delta == "":
		st.expires = now.Add(lease)
		return nil
	case seq != st.seq+1:
		return fmt.Errorf("memory store: stream %q: delta %d after %d", streamID, seq, st.seq)
	}
	st.seq = seq
	st.content = append(st.content, delta...)
	if seq%storage.StreamCompactEvery == 0 {
		if c, ok := storage.CompactStreamLog(string(st.content)); ok && len(c) < len(st.content) {
			st.content = append(st.content[:0], c...)
		}
	}
	st.expires = now.Add(lease)
	sess.notifyLocked(storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamDelta, StreamID: streamID, Seq: seq, Delta: delta, Started: st.started}})
	return nil
}

// StreamSnapshot implements storage.StreamStore.
func (s *MemoryStore) StreamSnapshot(ctx context.Context, sessionID string) ([]storage.StreamState, error) {
	if err := memCheckCall(ctx, "stream snapshot", sessionID); err != nil {
		return nil, err
	}
	sess := s.lock(sessionID, false)
	if sess == nil {
		return nil, nil
	}
	defer sess.mu.Unlock()
	return sess.snapshotLocked(s.now()), nil
}

// snapshotLocked returns the running streams of sess (locked by the caller).
func (sess *memSession) snapshotLocked(now time.Time) []storage.StreamState {
	var out []storage.StreamState
	for id, st := range sess.streams {
		out = append(out, storage.StreamState{ID: id, Seq: st.seq, Content: string(st.content), Started: st.started, Expired: !now.Before(st.expires)})
	}
	return out
}

// StreamFinish implements storage.StreamStore.
func (s *MemoryStore) StreamFinish(ctx context.Context, sessionID, streamID string, final Message, maxLen int) (storage.Record, error) {
	if err := memCheckCall(ctx, "stream finish", sessionID); err != nil {
		return storage.Record{}, err
	}
	sess := s.lock(sessionID, true)
	defer sess.mu.Unlock()
	if sess.streams[streamID] == nil {
		return storage.Record{}, fmt.Errorf("memory store: stream %q: %w", streamID, ErrStreamNotFound)
	}
	delete(sess.streams, streamID)
	return s.appendLocked(sess, final, maxLen, &storage.StreamEvent{Kind: storage.StreamEnded, StreamID: streamID})
}

// StreamCancel implements storage.StreamStore.
func (s *MemoryStore) StreamCancel(ctx context.Context, sessionID, streamID string) error {
	if err := memCheckCall(ctx, "stream cancel", sessionID); err != nil {
		return err
	}
	sess := s.lock(sessionID, true)
	defer sess.mu.Unlock()
	sess.notifyLocked(storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamCancelled, StreamID: streamID}})
	return nil
}

// Publish implements storage.StreamStore.
func (s *MemoryStore) Publish(ctx context.Context, sessionID string, msg Message) error {
	if err := memCheckCall(ctx, "publish", sessionID); err != nil {
		return err
	}
	sess := s.lock(sessionID, true)
	defer sess.mu.Unlock()
	sess.notifyLocked(storage.Notification{Ephemeral: &msg})
	return nil
}
