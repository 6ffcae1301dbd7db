package core

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkMemoryStoreAppend measures Append with a history limit of 100, as the hub calls
// it: on one session, and in parallel on many sessions (one per goroutine group), where a
// store-wide lock would serialise unrelated sessions.
func BenchmarkMemoryStoreAppend(b *testing.B) {
	ctx := context.Background()
	content := string(make([]byte, 100))
	b.Run("one-session", func(b *testing.B) {
		s := NewMemoryStore(MemoryStoreOptions{})
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m := Message{ID: "m" + strconv.Itoa(i), Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
			if _, err := s.Append(ctx, "bench", m, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel-sessions", func(b *testing.B) {
		s := NewMemoryStore(MemoryStoreOptions{})
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			sid := "bench-" + strconv.FormatInt(next.Add(1), 10)
			for i := 0; pb.Next(); i++ {
				m := Message{ID: "m" + strconv.Itoa(i), Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
				if _, err := s.Append(ctx, sid, m, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel-1000-sessions", func(b *testing.B) {
		s := NewMemoryStore(MemoryStoreOptions{})
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := next.Add(1)
				sid := "bench-" + strconv.FormatInt(n%1000, 10)
				m := Message{ID: "m" + strconv.FormatInt(n, 10), Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
				if _, err := s.Append(ctx, sid, m, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkMemoryStoreLookup measures Lookup of a retained id in a full history of 100.
func BenchmarkMemoryStoreLookup(b *testing.B) {
	ctx := context.Background()
	s := NewMemoryStore(MemoryStoreOptions{})
	for i := range 100 {
		if _, err := s.Append(ctx, "bench", Message{ID: "m" + strconv.Itoa(i), Content: "x"}, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok, err := s.Lookup(ctx, "bench", "m"+strconv.Itoa(i%100)); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
