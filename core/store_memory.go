package core

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatwire/chatwire/storage"
)

// Defaults of MemoryStoreOptions.
const (
	// DefaultSessionTTL is how long a MemoryStore keeps an idle session when
	// MemoryStoreOptions.SessionTTL is zero.
	DefaultSessionTTL = 24 * time.Hour
	// DefaultMaxSessions is the number of sessions a MemoryStore holds when
	// MemoryStoreOptions.MaxSessions is zero.
	DefaultMaxSessions = 10_000
	// DefaultMaxMessages is the number of records a MemoryStore keeps per session when
	// MemoryStoreOptions.MaxMessages is zero.
	DefaultMaxMessages = 1_000
	// DefaultMaxBytes is the size of all histories a MemoryStore holds when
	// MemoryStoreOptions.MaxBytes is zero: 64 MiB.
	DefaultMaxBytes = 64 << 20
)

// memRecordOverhead is what one retained record costs besides its strings' bytes: the
// storage.Record itself (104 bytes) and its id hash.
const memRecordOverhead = 112

// MemoryStoreOptions configures a MemoryStore. The zero value is ready to use; a zero field
// means its documented default. NewMemoryStore copies the struct and never modifies it.
//
// The limits bound what the store holds, so that clients cannot make it grow without end.
// Sessions are spread over up to 32 shards by a hash of their id; MaxSessions is enforced
// per shard (each holds its share), so the store may evict slightly before the total is
// reached, never after, and eviction picks the least recently active sessions of a shard.
// Sessions that have subscribers (a hub with connections in them) are never evicted nor
// expired: what live sessions hold is bounded by MaxMessages and the per-session byte
// share (MaxBytes/16).
type MemoryStoreOptions struct {
	// SessionTTL is how long an idle session is kept: a session that has had no call for
	// that long and has no subscribers is dropped with its history (its epoch changes and
	// its sequence numbers start again at 1). Expiry needs no Append: every call on the
	// store drops the expired sessions it meets, checking the least recently used ones
	// first. Zero means DefaultSessionTTL (24h); a negative value keeps sessions forever
	// (within the other limits).
	SessionTTL time.Duration
	// MaxSessions bounds the number of sessions held; when a new session would exceed it,
	// the least recently active session without subscribers is evicted. Zero means
	// DefaultMaxSessions (10,000); a negative value means no limit.
	MaxSessions int
	// MaxMessages bounds the records kept per session, whatever maxLen Append is given:
	// older records are trimmed. Zero means DefaultMaxMessages (1,000); a negative value
	// means no limit besides Append's maxLen.
	MaxMessages int
	// MaxBytes bounds the memory of all histories, counted as the bytes of every retained
	// message's strings plus 112 bytes per record. When an append passes it, the least
	// recently active sessions without subscribers are evicted (from the appending
	// session's shard first); a single session keeps at most MaxBytes/16 (its oldest
	// records are trimmed, always keeping the newest). Zero means DefaultMaxBytes (64 MiB,
	// so 4 MiB per session); a negative value means no limit.
	MaxBytes int64
	// Now returns the current time; nil means time.Now. Tests set it to control expiry.
	Now func() time.Time
}

// MemoryStoreStats is what a MemoryStore holds (see MemoryStore.Stats).
type MemoryStoreStats struct {
	Sessions int
	Messages int64
	// Bytes is the accounted size of the retained messages (see MemoryStoreOptions.MaxBytes).
	Bytes int64
}

// MemoryStore is an in-process Store: histories live in memory and vanish with the process.
// It suits tests, development and single-process deployments; several hubs in one process
// may share one MemoryStore to simulate a multi-instance deployment. Create it with
// NewMemoryStore (the zero value is not usable). It is bounded (see MemoryStoreOptions) and
// needs no Close: expiry runs lazily on every call.
//
// A MemoryStore is safe for concurrent use; sessions are independent (a lock per session,
// and a lock per shard of sessions held only to find a session). Subscribers are notified
// synchronously inside Append, while the session's lock is held, so every subscriber sees
// exactly the order of the history and a record is delivered before Append returns.
// Consequently a subscriber's fn must not call the store, and neither fn nor the goroutine
// holding a lock fn takes may call the cancel function of a subscription of the same
// session. Records returned by Read and passed to subscribers share their Metadata bytes
// with the store: do not modify them.
type MemoryStore struct {
	ttl         time.Duration // <= 0: never expire
	maxMessages int           // <= 0: no limit
	maxBytes    int64         // <= 0: no limit
	sessBytes   int64         // <= 0: no limit; bytes per session
	bytes       atomic.Int64  // accounted size of all histories (Stats adds the shards')
	shardCount  int           // <= 0: no limit; sessions per shard
	now         func() time.Time
	seed        maphash.Seed
	shards      []memShard
	pending     memPendingTable // pending requests (store_memory_pending.go)

	dir memDirectory // conversation directories (store_memory_directory.go)
}

var _ Store = (*MemoryStore)(nil)

// memShard is a part of the sessions, with its own lock and recency list.
type memShard struct {
	mu       sync.Mutex
	sessions map[string]*memSession
	lru      memSession // sentinel of the recency list: lru.next is the most recent
	index    int        // in MemoryStore.shards
	calls    uint32     // calls that looked up a session here (paces sweepOther)
	bytes    atomic.Int64
	messages atomic.Int64
	_        [64]byte // keep shards' locks on separate cache lines
}

type memSession struct {
	id    string
	shard *memShard
	// Guarded by the shard's lock.
	prev, next *memSession
	touched    time.Time
	dead       bool // removed from the store; look the session up again

	nsubs atomic.Int32 // len(subs), readable under the shard's lock

	mu      sync.Mutex
	epoch   string
	head    uint64
	records []storage.Record // retained records, oldest first, contiguous sequences
	hashes  []uint64         // maphash of each retained record's id (0 for "")
	bytes   int64            // accounted size of records
	subs    map[*memSub]struct{}
	streams map[string]*memStream // running streams (store_memory_stream.go)
}

type memSub struct {
	fn func(storage.Notification)
}

// NewMemoryStore returns an empty MemoryStore configured by opts.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{ttl: opts.SessionTTL, now: opts.Now, seed: maphash.MakeSeed(),
		maxMessages: opts.MaxMessages}
	if s.ttl == 0 {
		s.ttl = DefaultSessionTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxMessages == 0 {
		s.maxMessages = DefaultMaxMessages
	}
	maxSessions := opts.MaxSessions
	if maxSessions == 0 {
		maxSessions = DefaultMaxSessions
	}
	maxBytes := opts.MaxBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	// Up to 32 shards, each with room for at least 64 sessions.
	n := 1
	for n < 32 && (maxSessions < 0 || 2*n*64 <= maxSessions) {
		n *= 2
	}
	s.shards = make([]memShard, n)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.sessions = make(map[string]*memSession)
		sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
		sh.index = i
	}
	if maxSessions > 0 {
		s.shardCount = maxSessions / n
	}
	if maxBytes > 0 {
		s.maxBytes = maxBytes
		s.sessBytes = max(maxBytes/16, 1)
	}
	return s
}

// Stats reports what the store holds now.
func (s *MemoryStore) Stats() MemoryStoreStats {
	var st MemoryStoreStats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Sessions += len(sh.sessions)
		sh.mu.Unlock()
		st.Messages += sh.messages.Load()
		st.Bytes += sh.bytes.Load()
	}
	return st
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

func (s *MemoryStore) shardOf(sessionID string) *memShard {
	if len(s.shards) == 1 {
		return &s.shards[0]
	}
	return &s.shards[maphash.String(s.seed, sessionID)&uint64(len(s.shards)-1)]
}

// lock returns the live session sessionID with its lock held, creating it when create is
// true, and marks it as the shard's most recently active. It returns nil when the session
// does not exist (or has expired) and create is false.
func (s *MemoryStore) lock(sessionID string, create bool) *memSession {
	sh := s.shardOf(sessionID)
	for {
		now := s.now()
		sh.mu.Lock()
		s.expireLocked(sh, now)
		sess := sh.sessions[sessionID]
		if sess != nil && s.idle(sess, now) && sess.mu.TryLock() {
			s.dropLocked(sh, sess)
			sess.mu.Unlock()
			sess = nil
		}
		if sess == nil {
			if !create {
				other := s.paceLocked(sh)
				sh.mu.Unlock()
				if other != nil {
					s.sweep(other, now)
				}
				return nil
			}
			if s.shardCount > 0 && len(sh.sessions) >= s.shardCount {
				s.evictLocked(sh, func() bool { return len(sh.sessions) < s.shardCount })
			}
			sess = &memSession{id: sessionID, shard: sh, epoch: NewID()}
			sh.sessions[sessionID] = sess
		} else {
			sess.prev.next, sess.next.prev = sess.next, sess.prev
		}
		sess.touched = now
		sess.prev, sess.next = &sh.lru, sh.lru.next
		sh.lru.next.prev = sess
		sh.lru.next = sess
		other := s.paceLocked(sh)
		sh.mu.Unlock()
		if other != nil {
			s.sweep(other, now)
		}

		sess.mu.Lock()
		if sess.dead {
			sess.mu.Unlock()
			continue // evicted between the lookup and the lock: look again
		}
		return sess
	}
}

// paceLocked counts a call on sh and returns another shard for it to sweep every 8th call
// (nil otherwise): each shard's calls visit the others in turn, so that every shard is
// swept while the store is used at all, without a counter shared by all calls. The shard's
// lock is held.
func (s *MemoryStore) paceLocked(sh *memShard) *memShard {
	sh.calls++
	n := uint32(len(s.shards))
	if s.ttl <= 0 || n == 1 || sh.calls%8 != 0 {
		return nil
	}
	return &s.shards[(uint32(sh.index)+1+sh.calls/8%(n-1))%n]
}

// sweep expires sessions of sh unless it is busy.
func (s *MemoryStore) sweep(sh *memShard, now time.Time) {
	if sh.mu.TryLock() {
		s.expireLocked(sh, now)
		sh.mu.Unlock()
	}
}

// idle reports whether sess has been unused past the TTL and has no subscribers. The
// shard's lock is held.
func (s *MemoryStore) idle(sess *memSession, now time.Time) bool {
	return s.ttl > 0 && sess.nsubs.Load() == 0 && now.Sub(sess.touched) >= s.ttl
}

// dropLocked removes sess from its shard. The shard's lock and the session's are held.
func (s *MemoryStore) dropLocked(sh *memShard, sess *memSession) {
	sess.dead = true
	sess.prev.next, sess.next.prev = sess.next, sess.prev
	sess.prev, sess.next = nil, nil
	delete(sh.sessions, sess.id)
	s.clearHistoryLocked(sess)
}

// clearHistoryLocked drops every retained record of sess (locked by the caller), keeping
// its head and epoch: sequence numbers go on from where they were.
func (s *MemoryStore) clearHistoryLocked(sess *memSession) {
	s.addBytes(sess.shard, -sess.bytes)
	sess.shard.messages.Add(-int64(len(sess.records)))
	clear(sess.records)
	sess.records, sess.hashes, sess.bytes = nil, nil, 0
}

// moveFrontLocked makes sess the shard's most recent session (it is in use, so not a
// candidate for expiry or eviction). The shard's lock is held.
func moveFrontLocked(sh *memShard, sess *memSession) {
	if sh.lru.next == sess {
		return
	}
	sess.prev.next, sess.next.prev = sess.next, sess.prev
	sess.prev, sess.next = &sh.lru, sh.lru.next
	sh.lru.next.prev = sess
	sh.lru.next = sess
}

// expireLocked drops expired sessions from the old end of the shard's recency list: a few
// per call, which keeps up with any rate of session creation. The shard's lock is held.
func (s *MemoryStore) expireLocked(sh *memShard, now time.Time) {
	if s.ttl <= 0 {
		return
	}
	for range 4 {
		old := sh.lru.prev
		if old == &sh.lru || now.Sub(old.touched) < s.ttl {
			return
		}
		if old.nsubs.Load() > 0 || !old.mu.TryLock() {
			old.touched = now // watched or in use: not idle
			moveFrontLocked(sh, old)
			continue
		}
		s.dropLocked(sh, old)
		old.mu.Unlock()
	}
}

// evictLocked evicts the least recently active sessions without subscribers until enough
// reports true or no candidate is left. The shard's lock is held.
func (s *MemoryStore) evictLocked(sh *memShard, enough func() bool) {
	for n := len(sh.sessions); n > 0 && !enough(); n-- {
		old := sh.lru.prev
		if old == &sh.lru {
			return
		}
		if old.nsubs.Load() > 0 || !old.mu.TryLock() {
			moveFrontLocked(sh, old)
			continue
		}
		s.dropLocked(sh, old)
		old.mu.Unlock()
	}
}

// addBytes accounts n more bytes held by sh (negative: freed).
func (s *MemoryStore) addBytes(sh *memShard, n int64) {
	sh.bytes.Add(n)
	if s.maxBytes > 0 {
		s.bytes.Add(n)
	}
}

// afterGrow evicts sessions when the histories passed MaxBytes: from sh (the shard that
// grew) first, then from the others in turn.
func (s *MemoryStore) afterGrow(sh *memShard) {
	enough := func() bool { return s.bytes.Load() <= s.maxBytes }
	if s.maxBytes <= 0 || enough() {
		return
	}
	sh.mu.Lock()
	s.evictLocked(sh, enough)
	sh.mu.Unlock()
	for i := range s.shards {
		if enough() {
			return
		}
		other := &s.shards[i]
		other.mu.Lock()
		s.evictLocked(other, enough)
		other.mu.Unlock()
	}
}

// Append implements Store. Subscribers are called before Append returns. A message with an
// empty ID is never treated as a duplicate (and cannot be found with Lookup); maxLen <= 0
// keeps the whole history (within MemoryStoreOptions.MaxMessages and MaxBytes).
func (s *MemoryStore) Append(ctx context.Context, sessionID string, msg Message, maxLen int) (storage.Record, error) {
	if err := memCheckCall(ctx, "append", sessionID); err != nil {
		return storage.Record{}, err
	}
	sess := s.lock(sessionID, true)
	rec, err := s.appendLocked(sess, msg, maxLen, nil)
	sess.mu.Unlock()
	s.afterGrow(sess.shard)
	return rec, err
}

// idHash is the hash find compares; 0 stands for the empty id, which is never found.
func (s *MemoryStore) idHash(id string) uint64 {
	if id == "" {
		return 0
	}
	return maphash.String(s.seed, id) | 1
}

// find returns the index in sess.records of the retained record with id, or -1. It scans
// the id hashes from the newest record back: no index is maintained on append.
func (s *MemoryStore) find(sess *memSession, id string) int {
	return s.findHash(sess, id, s.idHash(id))
}

func (s *MemoryStore) findHash(sess *memSession, id string, h uint64) int {
	if h == 0 {
		return -1
	}
	for i := len(sess.hashes) - 1; i >= 0; i-- {
		if sess.hashes[i] == h && sess.records[i].Message.ID == id {
			return i
		}
	}
	return -1
}

func memRecordSize(m *Message) int64 {
	return int64(len(m.ID)+len(m.Type)+len(m.Role)+len(m.Content)+len(m.Metadata)) + memRecordOverhead
}

// appendLocked appends msg to sess (locked by the caller) and notifies its subscribers,
// attaching ev to the notification when set.
func (s *MemoryStore) appendLocked(sess *memSession, msg Message, maxLen int, ev *storage.StreamEvent) (storage.Record, error) {
	h := s.idHash(msg.ID)
	if i := s.findHash(sess, msg.ID, h); i >= 0 {
		return sess.records[i], fmt.Errorf("memory store: append %q: %w", msg.ID, storage.ErrDuplicate)
	}
	if len(msg.Metadata) == 0 {
		msg.Metadata = nil
	} else {
		msg.Metadata = bytes.Clone(msg.Metadata)
	}
	sess.head++
	rec := storage.Record{Seq: sess.head, Message: msg}
	sess.records = append(sess.records, rec)
	sess.hashes = append(sess.hashes, h)
	size := memRecordSize(&msg)
	sess.bytes += size
	sh := sess.shard
	s.addBytes(sh, size)
	sh.messages.Add(1)

	limit := len(sess.records)
	if maxLen > 0 {
		limit = min(limit, maxLen)
	}
	if s.maxMessages > 0 {
		limit = min(limit, s.maxMessages)
	}
	drop := len(sess.records) - limit
	var freed int64
	for i := range drop {
		freed += memRecordSize(&sess.records[i].Message)
	}
	// One session keeps at most its byte share (and always its newest record).
	for s.sessBytes > 0 && sess.bytes-freed > s.sessBytes && drop < len(sess.records)-1 {
		freed += memRecordSize(&sess.records[drop].Message)
		drop++
	}
	if drop > 0 {
		clear(sess.records[:drop]) // let the dropped messages be collected
		sess.records = sess.records[drop:]
		sess.hashes = sess.hashes[drop:]
		sess.bytes -= freed
		s.addBytes(sh, -freed)
		sh.messages.Add(-int64(drop))
	}
	for sub := range sess.subs {
		sub.fn(storage.Notification{Record: rec, Stream: ev, Epoch: sess.epoch})
	}
	return rec, nil
}

// pageLocked returns the records of sess (locked by the caller) after afterSeq.
func (sess *memSession) pageLocked(afterSeq uint64, withRecords bool) storage.Page {
	page := storage.Page{Head: sess.head}
	if sess.head > 0 {
		page.Epoch = sess.epoch
	}
	if afterSeq >= sess.head || !withRecords {
		return page
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
	page.Records = append([]storage.Record(nil), sess.records[start:]...)
	return page
}

// Read implements Store.
func (s *MemoryStore) Read(ctx context.Context, sessionID string, afterSeq uint64) (storage.Page, error) {
	if err := memCheckCall(ctx, "read", sessionID); err != nil {
		return storage.Page{}, err
	}
	sess := s.lock(sessionID, false)
	if sess == nil {
		return storage.Page{}, nil
	}
	defer sess.mu.Unlock()
	return sess.pageLocked(afterSeq, true), nil
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
	if i := s.find(sess, messageID); i >= 0 {
		return sess.records[i].Seq, true, nil
	}
	return 0, false, nil
}

// Join implements Store under one lock of the session.
func (s *MemoryStore) Join(ctx context.Context, sessionID string, req storage.JoinRequest) (storage.Joined, error) {
	if err := memCheckCall(ctx, "join", sessionID); err != nil {
		return storage.Joined{}, err
	}
	sess := s.lock(sessionID, false)
	if sess == nil {
		return storage.Joined{}, nil
	}
	defer sess.mu.Unlock()
	var j storage.Joined
	if req.Epoch != "" && (sess.head == 0 || req.Epoch != sess.epoch) {
		req.LastMessageID = "" // from another epoch
	}
	if i := s.find(sess, req.LastMessageID); i >= 0 {
		j.Anchor, j.Found = sess.records[i].Seq, true
	}
	j.Page = sess.pageLocked(j.Anchor, req.Replay)
	j.Streams = sess.snapshotLocked(s.now())
	return j, nil
}

// Subscribe implements Store. fn is called synchronously from inside Append with the
// session's lock held; it never receives a Resync notification. A session with subscribers
// is never evicted nor expired. The returned cancel is idempotent.
func (s *MemoryStore) Subscribe(ctx context.Context, sessionID string, fn func(storage.Notification)) (func(), error) {
	if err := memCheckCall(ctx, "subscribe", sessionID); err != nil {
		return nil, err
	}
	sub := &memSub{fn: fn}
	sess := s.lock(sessionID, true)
	if sess.subs == nil {
		sess.subs = make(map[*memSub]struct{})
	}
	sess.subs[sub] = struct{}{}
	sess.nsubs.Store(int32(len(sess.subs)))
	sess.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			sess.mu.Lock()
			delete(sess.subs, sub)
			sess.nsubs.Store(int32(len(sess.subs)))
			sess.mu.Unlock()
			// Idle time counts from the moment the last subscriber left.
			sh := sess.shard
			sh.mu.Lock()
			if !sess.dead {
				sess.touched = s.now()
				moveFrontLocked(sh, sess)
			}
			sh.mu.Unlock()
		})
	}, nil
}
