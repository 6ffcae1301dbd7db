package core

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// heapInUse returns the bytes of live heap objects after a full collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// boundWorkload fills a store as the measurements did: many one-message sessions,
// or a few sessions of large messages.
type boundWorkload struct {
	name     string
	opts     MemoryStoreOptions
	sessions int
	perSess  int
	size     int
	maxLen   int
	// wantSessions and wantBytes are the bounds the store must hold (the options' values
	// or their defaults).
	wantSessions int
	wantBytes    int64
}

func boundWorkloads() []boundWorkload {
	return []boundWorkload{
		{name: "100k-sessions-defaults", sessions: 100_000, perSess: 1, size: 100, maxLen: 100,
			wantSessions: DefaultMaxSessions, wantBytes: DefaultMaxBytes},
		{name: "100k-sessions-small-bounds", opts: MemoryStoreOptions{MaxSessions: 1000, MaxBytes: 1 << 20},
			sessions: 100_000, perSess: 1, size: 100, maxLen: 100, wantSessions: 1000, wantBytes: 1 << 20},
		{name: "large-messages-defaults", sessions: 20, perSess: 100, size: 60_000, maxLen: 100,
			wantSessions: DefaultMaxSessions, wantBytes: DefaultMaxBytes},
		{name: "large-messages-4MiB", opts: MemoryStoreOptions{MaxBytes: 4 << 20}, sessions: 20, perSess: 100,
			size: 60_000, maxLen: 0, wantSessions: DefaultMaxSessions, wantBytes: 4 << 20},
	}
}

func (w boundWorkload) run(tb testing.TB, s *MemoryStore) {
	ctx := context.Background()
	content := strings.Repeat("x", w.size)
	for i := range w.sessions {
		sid := fmt.Sprintf("s-%d", i)
		for j := range w.perSess {
			m := Message{ID: fmt.Sprintf("m-%d-%d", i, j), Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
			// A fresh copy of the content, as a decoded frame would be.
			m.Content = string([]byte(m.Content))
			if _, err := s.Append(ctx, sid, m, w.maxLen); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// TestMemoryStoreBounds fills stores far past their limits and checks both the store's
// own accounting and the Go heap: what is held stays within the configured bounds (plus
// the per-session bookkeeping, at most 1 KiB a session).
func TestMemoryStoreBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 100,000 sessions")
	}
	for _, w := range boundWorkloads() {
		t.Run(w.name, func(t *testing.T) {
			before := heapInUse()
			s := NewMemoryStore(w.opts)
			w.run(t, s)
			st := s.Stats()
			held := heapInUse() - before
			t.Logf("%+v, heap %d KiB", st, held>>10)
			if st.Sessions > w.wantSessions {
				t.Errorf("%d sessions held, bound %d", st.Sessions, w.wantSessions)
			}
			if st.Bytes > w.wantBytes {
				t.Errorf("%d bytes accounted, bound %d", st.Bytes, w.wantBytes)
			}
			if limit := w.wantBytes + int64(w.wantSessions)<<10; held > limit {
				t.Errorf("heap grew by %d bytes, want <= %d (bound + 1 KiB per session)", held, limit)
			}
			if st.Sessions == 0 || st.Messages == 0 {
				t.Errorf("nothing held: %+v", st)
			}
			runtime.KeepAlive(s)
		})
	}
}

// BenchmarkMemoryStoreBound reports the memory a store holds after each bound workload:
// store-B is its own accounting, heap-B the growth of the Go heap.
func BenchmarkMemoryStoreBound(b *testing.B) {
	for _, w := range boundWorkloads() {
		b.Run(w.name, func(b *testing.B) {
			var held, accounted int64
			for b.Loop() {
				before := heapInUse()
				s := NewMemoryStore(w.opts)
				w.run(b, s)
				held += heapInUse() - before
				accounted += s.Stats().Bytes
				runtime.KeepAlive(s)
			}
			b.ReportMetric(float64(held)/float64(b.N), "heap-B")
			b.ReportMetric(float64(accounted)/float64(b.N), "store-B")
		})
	}
}
