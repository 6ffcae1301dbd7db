package metrics

import (
	"context"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Store returns s wrapped so that every call is timed in chatwire_store_duration_seconds
// (labels op and result; the store errors that answer about the data, such as
// storage.ErrDuplicate, storage.ErrStreamNotFound or storage.ErrPendingAnswered, count as
// ok: they are answers, not failures). The wrapper implements storage.Store, and also
// storage.PendingStore and storage.DirectoryStore exactly when s does, so human-in-the-loop
// requests and conversation directories keep working through it. Pass the wrapper, not s,
// to core.Options.Store.
func (m *Metrics) Store(s storage.Store) storage.Store {
	base := &store{inner: s, m: m}
	p, hasPending := s.(storage.PendingStore)
	d, hasDirectory := s.(storage.DirectoryStore)
	switch {
	case hasPending && hasDirectory:
		return struct {
			*store
			*pendingStore
			*directoryStore
		}{base, &pendingStore{p, m}, &directoryStore{d, m}}
	case hasPending:
		return struct {
			*store
			*pendingStore
		}{base, &pendingStore{p, m}}
	case hasDirectory:
		return struct {
			*store
			*directoryStore
		}{base, &directoryStore{d, m}}
	}
	return base
}

// store is the instrumented decorator returned by Metrics.Store.
type store struct {
	inner storage.Store
	m     *Metrics
}

var _ storage.Store = (*store)(nil)

func (s *store) Append(ctx context.Context, sessionID string, msg core.Message, maxLen int) (storage.Record, error) {
	start := time.Now()
	rec, err := s.inner.Append(ctx, sessionID, msg, maxLen)
	s.m.observeStore("append", start, err)
	return rec, err
}

func (s *store) Read(ctx context.Context, sessionID string, afterSeq uint64) (storage.Page, error) {
	start := time.Now()
	page, err := s.inner.Read(ctx, sessionID, afterSeq)
	s.m.observeStore("read", start, err)
	return page, err
}

func (s *store) Lookup(ctx context.Context, sessionID, messageID string) (uint64, bool, error) {
	start := time.Now()
	seq, ok, err := s.inner.Lookup(ctx, sessionID, messageID)
	s.m.observeStore("lookup", start, err)
	return seq, ok, err
}

func (s *store) Join(ctx context.Context, sessionID string, req storage.JoinRequest) (storage.Joined, error) {
	start := time.Now()
	j, err := s.inner.Join(ctx, sessionID, req)
	s.m.observeStore("join", start, err)
	return j, err
}

func (s *store) Subscribe(ctx context.Context, sessionID string, fn func(storage.Notification)) (func(), error) {
	start := time.Now()
	cancel, err := s.inner.Subscribe(ctx, sessionID, fn)
	s.m.observeStore("subscribe", start, err)
	return cancel, err
}

func (s *store) StreamAppend(ctx context.Context, sessionID, streamID string, seq uint64, delta string, started int64, lease time.Duration) error {
	start := time.Now()
	err := s.inner.StreamAppend(ctx, sessionID, streamID, seq, delta, started, lease)
	s.m.observeStore("stream_append", start, err)
	return err
}

func (s *store) StreamSnapshot(ctx context.Context, sessionID string) ([]storage.StreamState, error) {
	start := time.Now()
	states, err := s.inner.StreamSnapshot(ctx, sessionID)
	s.m.observeStore("stream_snapshot", start, err)
	return states, err
}

func (s *store) StreamFinish(ctx context.Context, sessionID, streamID string, final core.Message, maxLen int) (storage.Record, error) {
	start := time.Now()
	rec, err := s.inner.StreamFinish(ctx, sessionID, streamID, final, maxLen)
	s.m.observeStore("stream_finish", start, err)
	return rec, err
}

func (s *store) StreamCancel(ctx context.Context, sessionID, streamID string) error {
	start := time.Now()
	err := s.inner.StreamCancel(ctx, sessionID, streamID)
	s.m.observeStore("stream_cancel", start, err)
	return err
}

func (s *store) Publish(ctx context.Context, sessionID string, msg core.Message) error {
	start := time.Now()
	err := s.inner.Publish(ctx, sessionID, msg)
	s.m.observeStore("publish", start, err)
	return err
}
