package storetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// The MemoryStore counterparts of redisstore's stream benchmarks:
//
//	go test -run '^$' -bench Stream ./core/storetest/

const benchDelta = "quick brown fox "

// BenchmarkMemoryStreamDeltas measures StreamAppend with one subscriber (called inside it).
func BenchmarkMemoryStreamDeltas(b *testing.B) {
	ctx := context.Background()
	s := core.NewMemoryStore(core.MemoryStoreOptions{})
	var got uint64
	cancel, err := s.Subscribe(ctx, "deltas", func(n storage.Notification) {
		if n.Stream != nil {
			got = n.Stream.Seq
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cancel()
	id := core.NewID()
	b.ReportAllocs()
	seq := uint64(0)
	start := time.Now()
	for b.Loop() {
		seq++
		if err := s.StreamAppend(ctx, "deltas", id, seq, benchDelta, 1, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	if got != seq {
		b.Fatalf("subscriber got delta %d, want %d", got, seq)
	}
	b.ReportMetric(float64(seq)/time.Since(start).Seconds(), "deltas/s")
}

// BenchmarkMemoryStreamResume10k measures StreamSnapshot of a stream with 10,000 deltas.
func BenchmarkMemoryStreamResume10k(b *testing.B) {
	ctx := context.Background()
	s := core.NewMemoryStore(core.MemoryStoreOptions{})
	id := core.NewID()
	for seq := uint64(1); seq <= 10000; seq++ {
		if err := s.StreamAppend(ctx, "resume", id, seq, benchDelta, 1, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(10000 * len(benchDelta)))
	b.ReportAllocs()
	for b.Loop() {
		states, err := s.StreamSnapshot(ctx, "resume")
		if err != nil || len(states) != 1 || states[0].Seq != 10000 {
			b.Fatalf("StreamSnapshot = %d states, %v", len(states), err)
		}
	}
}
