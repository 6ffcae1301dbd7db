package core

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// benchIDs are message ids made before the benchmarks run, so that they measure the store.
var benchIDs = func() []string {
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "m" + strconv.Itoa(i)
	}
	return ids
}()

// BenchmarkMemoryStoreAppend measures Append with a history limit of 100, as the hub calls
// it: on one session, in parallel on one session per goroutine, and in parallel on 1,000
// sessions, where a store-wide lock would serialise unrelated sessions.
func BenchmarkMemoryStoreAppend(b *testing.B) {
	ctx := context.Background()
	content := string(make([]byte, 100))
	b.Run("one-session", func(b *testing.B) {
		s := NewMemoryStore(MemoryStoreOptions{})
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			m := Message{ID: benchIDs[i%len(benchIDs)], Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
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
				m := Message{ID: benchIDs[i%len(benchIDs)], Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
				if _, err := s.Append(ctx, sid, m, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel-1000-sessions", func(b *testing.B) {
		s := NewMemoryStore(MemoryStoreOptions{})
		sids := make([]string, 1000)
		for i := range sids {
			sids[i] = "bench-" + strconv.Itoa(i)
		}
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			g := int(next.Add(1)) // each goroutine its own ids: no duplicates
			for i := g * 7919; pb.Next(); i++ {
				sid := sids[i%len(sids)]
				m := Message{ID: benchIDs[(i/len(sids)+g*512)%len(benchIDs)], Type: TypeMessage, Role: RoleUser, Content: content, Timestamp: 1}
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
		if _, err := s.Append(ctx, "bench", Message{ID: benchIDs[i], Content: "x"}, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok, err := s.Lookup(ctx, "bench", benchIDs[i%100]); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
