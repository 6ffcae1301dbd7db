package core

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultSessionTTL is how long a MemoryStore keeps an idle session when
// MemoryStoreOptions.SessionTTL is zero.
const DefaultSessionTTL = 24 * time.Hour

// MemoryStoreOptions configures a MemoryStore. The zero value is ready to use; a zero field
// means its documented default. NewMemoryStore copies the struct and never modifies it.
type MemoryStoreOptions struct {
	// SessionTTL is how long an idle session is kept: a session that has had no Append, Read
	// or Lookup for that long and has no subscribers is dropped with its history (its
	// sequence numbers then start again at 1). Zero means DefaultSessionTTL (24h); a negative
	// value keeps sessions forever. Expired sessions are removed by a sweep that Append runs
	// at most once per SessionTTL/2 (there is no background goroutine), so an expired
	// session's memory may be held a little longer, but it is never visible again.
	SessionTTL time.Duration
	// Now returns the current time; nil means time.Now. Tests set it to control expiry.
	Now func() time.Time
}

// MemoryStore is an in-process Store: histories live in memory and vanish with the process.
// It suits tests, development and single-process deployments; several hubs in one process
// may share one MemoryStore to simulate a multi-instance deployment.
//
// A MemoryStore is safe for concurrent use. Subscribers are notified synchronously inside
// Append, while the session's lock is held, so every subscriber sees exactly the order of
// the history and a record is delivered before Append returns. Consequently a subscriber's
// fn must not call the store, and neither fn nor the goroutine holding a lock fn takes may
// call the cancel function of a subscription of the same session. Records returned by Read
// and passed to subscribers share their Metadata bytes with the store: do not modify them.
type MemoryStore struct {
	ttl time.Duration // <0: never expire
	now func() time.Time

	mu        sync.Mutex
	sessions  map[string]*memSession
	lastSweep time.Time

	dir memDirectory // conversation directories (store_memory_directory.go)
}

var _ Store = (*MemoryStore)(nil)

type memSession struct {
	mu       sync.Mutex
	dead     bool // removed from the store by a sweep; look the session up again
	head     uint64
	records  []Record          // retained records, oldest first, contiguous sequences
	ids      map[string]uint64 // message id -> seq of retained records with a non-empty id
	subs     map[*memSub]struct{}
	streams  map[string]*memStream // running streams (store_memory_stream.go)
	lastUsed time.Time
}

type memSub struct {
	fn func(Notification)
}

// NewMemoryStore returns an empty MemoryStore configured by opts.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{ttl: opts.SessionTTL, now: opts.Now, sessions: make(map[string]*memSession)}
	if s.ttl == 0 {
		s.ttl = DefaultSessionTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.lastSweep = s.now()
	return s
}

func memCheckCall(ctx context.Context, op, sessionID string) error {
	if !ValidSessionID(sessionID) {
		return fmt.Errorf("memory store: %s: %q: %w", op, sessionID, ErrInvalidSessionID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory store: %s: %w", op, err)
	}
	return nil
}

// expired reports whether sess, locked by the caller, has been idle past the TTL.
func (s *MemoryStore) expired(sess *memSession, now time.Time) bool {
	return s.ttl > 0 && len(sess.subs) == 0 && now.Sub(sess.lastUsed) >= s.ttl
}

// lock returns the live session sessionID with its lock held, creating it when create is
// true. It returns nil when the session does not exist (or has expired) and create is false.
func (s *MemoryStore) lock(sessionID string, create bool) *memSession {
	for {
		now := s.now()
		s.mu.Lock()
		sess := s.sessions[sessionID]
		if sess == nil {
			if !create {
				s.mu.Unlock()
				return nil
			}
			sess = &memSession{ids: make(map[string]uint64), lastUsed: now}
			s.sessions[sessionID] = sess
		}
		s.mu.Unlock()

		sess.mu.Lock()
		if sess.dead {
			sess.mu.Unlock()
			continue // swept between the map lookup and the lock: look again
		}
		if s.expired(sess, now) {
			s.remove(sessionID, sess)
			sess.mu.Unlock()
			continue
		}
		return sess
	}
}

// remove drops sess (locked by the caller) from the store.
func (s *MemoryStore) remove(sessionID string, sess *memSession) {
	sess.dead = true
	s.mu.Lock()
	if s.sessions[sessionID] == sess {
		delete(s.sessions, sessionID)
	}
	s.mu.Unlock()
}

// sweep drops expired sessions, at most once per half TTL.
func (s *MemoryStore) sweep() {
	if s.ttl <= 0 {
		return
	}
	now := s.now()
	s.mu.Lock()
	if now.Sub(s.lastSweep) < s.ttl/2 {
		s.mu.Unlock()
		return
	}
	s.lastSweep = now
	candidates := make(map[string]*memSession)
	for id, sess := range s.sessions {
		candidates[id] = sess
	}
	s.mu.Unlock()

	for id, sess := range candidates {
		sess.mu.Lock()
		if !sess.dead && s.expired(sess, now) {
			s.remove(id, sess)
		}
		sess.mu.Unlock()
	}
}

// Append implements Store. Subscribers are called before Append returns. A message with an
// empty ID is never treated as a duplicate (and cannot be found with Lookup); maxLen <= 0
// keeps the whole history.
func (s *MemoryStore) Append(ctx context.Context, sessionID string, msg Message, maxLen int) (Record, error) {
	if err := memCheckCall(ctx, "append", sessionID); err != nil {
		return Record{}, err
	}
	s.sweep()
	sess := s.lock(sessionID, true)
	defer sess.mu.Unlock()
	sess.lastUsed = s.now()
	return s.appendLocked(sess, msg, maxLen, nil)
}

// appendLocked appends msg to sess (locked by the caller) and notifies its subscribers,
// attaching ev to the notification when set.
func (s *MemoryStore) appendLocked(sess *memSession, msg Message, maxLen int, ev *StreamEvent) (Record, error) {
	if msg.ID != "" {
		if seq, ok := sess.ids[msg.ID]; ok {
			return sess.records[seq-sess.records[0].Seq], fmt.Errorf("memory store: append %q: %w", msg.ID, ErrDuplicate)
		}
	}
	if len(msg.Metadata) == 0 {
		msg.Metadata = nil
	} else {
		msg.Metadata = bytes.Clone(msg.Metadata)
	}
	sess.head++
	rec := Record{Seq: sess.head, Message: msg}
	sess.records = append(sess.records, rec)
	if msg.ID != "" {
		sess.ids[msg.ID] = rec.Seq
	}
	if maxLen > 0 && len(sess.records) > maxLen {
		drop := len(sess.records) - maxLen
		for _, old := range sess.records[:drop] {
			if old.Message.ID != "" && sess.ids[old.Message.ID] == old.Seq {
				delete(sess.ids, old.Message.ID)
			}
		}
		clear(sess.records[:drop]) // let the dropped messages be collected
		sess.records = sess.records[drop:]
	}
	for sub := range sess.subs {
		sub.fn(Notification{Record: rec, Stream: ev})
	}
	return rec, nil
}

// Read implements Store.
func (s *MemoryStore) Read(ctx context.Context, sessionID string, afterSeq uint64) (Page, error) {
	if err := memCheckCall(ctx, "read", sessionID); err != nil {
		return Page{}, err
	}
	sess := s.lock(sessionID, false)
	if sess == nil {
		return Page{}, nil
	}
	defer sess.mu.Unlock()
	sess.lastUsed = s.now()

	page := Page{Head: sess.head}
	if afterSeq >= sess.head {
		return page, nil
	}
	first := sess.head + 1 // seq of the oldest retained record
	if len(sess.records) > 0 {
		first = sess.records[0].Seq
	}
	page.Trimmed = afterSeq+1 < first
	start := 0
	if afterSeq >= first {
		start = int(afterSeq - first + 1)
	}
	page.Records = append([]Record(nil), sess.records[start:]...)
	return page, nil
}

// Lookup implements Store.
func (s *MemoryStore) Lookup(ctx context.Context, sessionID, messageID string) (uint64, bool, error) {
	if err := memCheckCall(ctx, "lookup", sessionID); err != nil {
		return 0, false, err
	}
	sess := s.lock(sessionID, false)
	if sess == nil {
		return 0, false, nil
	}
	defer sess.mu.Unlock()
	sess.lastUsed = s.now()
	if messageID == "" {
		return 0, false, nil
	}
	seq, ok := sess.ids[messageID]
	return seq, ok, nil
}

// Subscribe implements Store. fn is called synchronously from inside Append with the
// session's lock held; it never receives a Resync notification. A session with subscribers
// never expires. The returned cancel is idempotent.
func (s *MemoryStore) Subscribe(ctx context.Context, sessionID string, fn func(Notification)) (func(), error) {
	if err := memCheckCall(ctx, "subscribe", sessionID); err != nil {
		return nil, err
	}
	sub := &memSub{fn: fn}
	sess := s.lock(sessionID, true)
	if sess.subs == nil {
		sess.subs = make(map[*memSub]struct{})
	}
	sess.subs[sub] = struct{}{}
	sess.lastUsed = s.now()
	sess.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			sess.mu.Lock()
			delete(sess.subs, sub)
			// Idle time counts from the moment the last subscriber left.
			sess.lastUsed = s.now()
			sess.mu.Unlock()
		})
	}, nil
}
