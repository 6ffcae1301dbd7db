package core

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/storage"
)

// fakeClock is a settable clock for MemoryStoreOptions.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func memMsg(id string) Message {
	return Message{ID: id, Type: TypeMessage, Role: RoleUser, Content: id, Timestamp: 1}
}

func TestMemoryStoreTTL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		ttl       time.Duration
		idle      time.Duration
		touch     func(s *MemoryStore, sid string) // what happens half-way through the idle time
		subscribe bool
		kept      bool
	}{
		{name: "default TTL keeps a day-old-minus-a-second session", idle: DefaultSessionTTL - time.Second, kept: true},
		{name: "default TTL drops after 24h", idle: DefaultSessionTTL, kept: false},
		{name: "custom TTL drops", ttl: time.Minute, idle: time.Minute, kept: false},
		{name: "negative TTL never drops", ttl: -1, idle: 1000 * DefaultSessionTTL, kept: true},
		{name: "subscriber keeps the session", ttl: time.Minute, idle: time.Hour, subscribe: true, kept: true},
		{
			name: "read refreshes", ttl: time.Minute, idle: 90 * time.Second, kept: true,
			touch: func(s *MemoryStore, sid string) { _, _ = s.Read(ctx, sid, 0) },
		},
		{
			name: "lookup refreshes", ttl: time.Minute, idle: 90 * time.Second, kept: true,
			touch: func(s *MemoryStore, sid string) { _, _, _ = s.Lookup(ctx, sid, "x") },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1700000000, 0)}
			opts := MemoryStoreOptions{SessionTTL: tc.ttl, Now: clock.Now}
			s := NewMemoryStore(opts)
			if opts.SessionTTL != tc.ttl || opts.Now == nil {
				t.Fatal("NewMemoryStore modified the caller's options")
			}
			if _, err := s.Append(ctx, "sess", memMsg("m1"), 0); err != nil {
				t.Fatal(err)
			}
			if tc.subscribe {
				cancel, err := s.Subscribe(ctx, "sess", func(storage.Notification) {})
				if err != nil {
					t.Fatal(err)
				}
				defer cancel()
			}
			clock.Advance(tc.idle / 2)
			if tc.touch != nil {
				tc.touch(s, "sess")
			}
			clock.Advance(tc.idle - tc.idle/2)
			page, err := s.Read(ctx, "sess", 0)
			if err != nil {
				t.Fatal(err)
			}
			if kept := page.Head == 1 && len(page.Records) == 1; kept != tc.kept {
				t.Fatalf("after %v idle: head %d, %d records; want kept=%v", tc.idle, page.Head, len(page.Records), tc.kept)
			}
			if !tc.kept {
				// An expired session starts afresh.
				rec, err := s.Append(ctx, "sess", memMsg("m1"), 0)
				if err != nil || rec.Seq != 1 {
					t.Fatalf("Append to an expired session = seq %d, %v; want seq 1 and no duplicate", rec.Seq, err)
				}
			}
		})
	}
}

// TestMemoryStoreSweep checks that calls of any kind free expired sessions, without a
// goroutine and without an Append.
func TestMemoryStoreSweep(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1700000000, 0)}
	s := NewMemoryStore(MemoryStoreOptions{SessionTTL: time.Minute, Now: clock.Now})
	for i := range 100 {
		if _, err := s.Append(ctx, fmt.Sprintf("old-%d", i), memMsg("m"), 0); err != nil {
			t.Fatal(err)
		}
	}
	cancel, err := s.Subscribe(ctx, "watched", func(storage.Notification) {})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	clock.Advance(2 * time.Minute)
	calls := 0
	for ; calls < 1000 && s.Stats().Sessions > 1; calls++ {
		if _, err := s.Read(ctx, "nobody", 0); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Sessions != 1 || st.Messages != 0 || st.Bytes != 0 {
		t.Fatalf("after %d reads: %+v; want only the watched session, empty", calls, st)
	}
	if _, err := s.Append(ctx, "watched", memMsg("m"), 0); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryStoreTrimReleasesMemory checks that trimming keeps the backing array bounded.
func TestMemoryStoreTrimReleasesMemory(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryStoreOptions{})
	for i := range 10000 {
		if _, err := s.Append(ctx, "s", memMsg(fmt.Sprint(i)), 10); err != nil {
			t.Fatal(err)
		}
	}
	sess := s.lock("s", false)
	defer sess.mu.Unlock()
	if len(sess.records) != 10 || cap(sess.records) > 64 || len(sess.hashes) != 10 || cap(sess.hashes) > 64 {
		t.Fatalf("records len %d cap %d, hashes len %d cap %d; want 10, small", len(sess.records), cap(sess.records), len(sess.hashes), cap(sess.hashes))
	}
}

// TestMemoryStoreNotifiesBeforeAppendReturns documents the synchronous delivery.
func TestMemoryStoreNotifiesBeforeAppendReturns(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryStoreOptions{})
	var got []uint64
	cancel, err := s.Subscribe(ctx, "s", func(n storage.Notification) { got = append(got, n.Record.Seq) })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for want := uint64(1); want <= 3; want++ {
		if _, err := s.Append(ctx, "s", memMsg(fmt.Sprint(want)), 0); err != nil {
			t.Fatal(err)
		}
		if len(got) != int(want) || got[want-1] != want {
			t.Fatalf("after Append %d the subscriber has %v", want, got)
		}
	}
}
