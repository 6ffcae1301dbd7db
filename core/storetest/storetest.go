package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// DefaultWaitTimeout is how long the suite waits for an expected notification when
// Options.WaitTimeout is zero.
const DefaultWaitTimeout = 10 * time.Second

// Options tunes the suite. The zero value is ready to use.
type Options struct {
	// WaitTimeout bounds every wait for a notification. Zero means DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Peer, when set, returns another instance sharing store's backend (for example a
	// second redisstore.Store on the same Redis), as a second hub process would have. The
	// subscription cases then also subscribe through the peer, which proves cross-instance
	// delivery. Nil means the cases use store itself for both roles.
	Peer func(t *testing.T, store storage.Store) storage.Store
	// Advance, when set, moves the clock by which store judges stream leases forward by d
	// (for example a fake clock passed to core.MemoryStoreOptions.Now). The lease cases
	// then advance it instead of waiting for short real leases to run out. Nil means the
	// store uses real time.
	Advance func(store storage.Store, d time.Duration)
	// Lose, when set, makes the backend lose the session's history as a restart without
	// persistence, a flush or an expiry would (for example by deleting its keys, or by
	// moving a fake clock past the session TTL). The epoch cases then check that the
	// epoch changes and the sequence restarts. Nil skips those checks.
	Lose func(store storage.Store, sessionID string)
}

// tcase is one case of the suite.
type tcase struct {
	name string
	run  func(t *testing.T, h *harness)
}

// Run runs the conformance suite with default options. newStore is called once per case
// and must return a ready store; it should register its own cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	RunWithOptions(t, newStore, Options{})
}

// RunWithOptions runs the conformance suite with the given options.
func RunWithOptions(t *testing.T, newStore func(t *testing.T) storage.Store, opts Options) {
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = DefaultWaitTimeout
	}
	var cases []tcase
	for _, group := range [][]tcase{
		{
			{"SeqStartsAtOneAndGrows", testSeqStartsAtOne},
			{"ReadAfter", testReadAfter},
			{"EmptySession", testEmptySession},
			{"TrimKeepsNewest", testTrimKeepsNewest},
			{"MaxLenMayChange", testMaxLenMayChange},
			{"Lookup", testLookup},
			{"DuplicateReturnsExisting", testDuplicateReturnsExisting},
			{"DuplicateAllowedAfterTrim", testDuplicateAfterTrim},
			{"EmptyIDNeverDuplicate", testEmptyIDNeverDuplicate},
			{"RoundTrip", testRoundTrip},
			{"AppendCopiesMetadata", testAppendCopiesMetadata},
			{"SessionsIsolated", testSessionsIsolated},
			{"InvalidSessionID", testInvalidSessionID},
			{"ContextCanceled", testContextCanceled},
		},
		{
			{"SubscribeInOrder", testSubscribeInOrder},
			{"SubscribeFromNowOn", testSubscribeFromNowOn},
			{"TwoSubscribers", testTwoSubscribers},
			{"CancelStopsDelivery", testCancelStopsDelivery},
			{"CancelWaitsForCallback", testCancelWaits},
			{"ResubscribeAfterCancel", testResubscribe},
			{"DuplicateDoesNotNotify", testDuplicateDoesNotNotify},
			{"ConcurrentAppends", testConcurrentAppends},
		},
		epochCases(),
		streamCases(),
		pendingCases(),
		directoryCases(),
	} {
		cases = append(cases, group...)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			h := &harness{store: store, peer: store, wait: opts.WaitTimeout}
			if opts.Peer != nil {
				h.peer = opts.Peer(t, store)
			}
			if opts.Advance != nil {
				h.advance = func(d time.Duration) { opts.Advance(store, d) }
			}
			if opts.Lose != nil {
				h.lose = func(sid string) { opts.Lose(store, sid) }
			}
			tc.run(t, h)
		})
	}
}

// harness is what a case works with.
type harness struct {
	store storage.Store
	peer  storage.Store // another instance on the same backend, or store itself
	wait  time.Duration
	// advance moves the store's lease clock (Options.Advance); nil for real time.
	advance func(d time.Duration)
	// lose makes the backend lose a session's history (Options.Lose); nil when it cannot.
	lose func(sessionID string)
}

// session returns a fresh, valid, random session id.
func session() string { return "st-" + core.NewID() }

// ctx returns a context for one store call, canceled when the test ends.
func (h *harness) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.wait)
	t.Cleanup(cancel)
	return ctx
}

// msg returns a message with the given id and content and fixed other fields.
func msg(id, content string) core.Message {
	return core.Message{
		ID: id, Type: core.TypeMessage, Role: core.RoleUser, Content: content,
		Timestamp: 1700000000000,
	}
}

// appendN appends n messages with ids prefix-1..prefix-n and returns their records.
func (h *harness) appendN(t *testing.T, sid, prefix string, n, maxLen int) []storage.Record {
	t.Helper()
	recs := make([]storage.Record, 0, n)
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		recs = append(recs, h.mustAppend(t, sid, msg(id, "content "+id), maxLen))
	}
	return recs
}

func (h *harness) mustAppend(t *testing.T, sid string, m core.Message, maxLen int) storage.Record {
	t.Helper()
	rec, err := h.store.Append(h.ctx(t), sid, m, maxLen)
	if err != nil {
		t.Fatalf("Append(%q, id %q): %v", sid, m.ID, err)
	}
	if !sameMessage(rec.Message, m) {
		t.Fatalf("Append returned message %s, want %s", show(rec.Message), show(m))
	}
	return rec
}

func (h *harness) mustRead(t *testing.T, sid string, after uint64) storage.Page {
	t.Helper()
	page, err := h.store.Read(h.ctx(t), sid, after)
	if err != nil {
		t.Fatalf("Read(%q, %d): %v", sid, after, err)
	}
	return page
}

func (h *harness) mustSubscribe(t *testing.T, s storage.Store, sid string) (*collector, func()) {
	t.Helper()
	c := newCollector()
	cancel, err := s.Subscribe(h.ctx(t), sid, c.fn)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", sid, err)
	}
	t.Cleanup(cancel)
	return c, cancel
}

// seqs returns the sequence numbers of recs.
func seqs(recs []storage.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sameMessage reports whether a and b are identical, including whether Metadata is nil.
func sameMessage(a, b core.Message) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Role == b.Role && a.Content == b.Content &&
		a.Timestamp == b.Timestamp && (a.Metadata == nil) == (b.Metadata == nil) &&
		bytes.Equal(a.Metadata, b.Metadata)
}

func show(m core.Message) string {
	meta := "nil"
	if m.Metadata != nil {
		meta = fmt.Sprintf("%q", m.Metadata)
	}
	return fmt.Sprintf("{ID:%q Type:%q Role:%q Content:%q Metadata:%s Timestamp:%d}",
		m.ID, m.Type, m.Role, m.Content, meta, m.Timestamp)
}

// collector records the notifications of one subscription. Its fn never blocks.
type collector struct {
	mu      sync.Mutex
	notes   []storage.Notification
	changed chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) fn(n storage.Notification) {
	c.mu.Lock()
	c.notes = append(c.notes, n)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// records returns the records received so far (Resync notifications left out).
func (c *collector) records() []storage.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []storage.Record
	for _, n := range c.notes {
		if !n.Resync {
			out = append(out, n.Record)
		}
	}
	return out
}

// waitFor waits until the collector holds a record with Seq >= seq and returns the
// records received so far; it fails the test after timeout.
func (c *collector) waitFor(t *testing.T, seq uint64, timeout time.Duration) []storage.Record {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		recs := c.records()
		for _, r := range recs {
			if r.Seq >= seq {
				return recs
			}
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			t.Fatalf("no notification with seq >= %d within %v; got seqs %v", seq, timeout, seqs(recs))
		}
	}
}
