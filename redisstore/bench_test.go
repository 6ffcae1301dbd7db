package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// Benchmarks run against the Redis at REDIS_URL, else against miniredis; the backend is in
// every benchmark's name ("backend=redis" or "backend=miniredis"), since miniredis numbers
// say little about a real server.
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench . -benchtime 3s ./redisstore/

// benchBackend returns the backend's name and a function making a new client to it with
// the given pool size (0: go-redis's default).
func benchBackend(b *testing.B) (string, func(poolSize int) redis.UniversalClient) {
	opts := &redis.Options{}
	name := "redis"
	if url := os.Getenv("REDIS_URL"); url != "" {
		var err error
		if opts, err = redis.ParseURL(url); err != nil {
			b.Fatalf("REDIS_URL: %v", err)
		}
	} else {
		name = "miniredis"
		mr, _ := newMiniredis(b)
		opts.Addr = mr.Addr()
	}
	return name, func(poolSize int) redis.UniversalClient {
		o := *opts
		o.PoolSize = poolSize
		c := redis.NewClient(&o)
		b.Cleanup(func() { _ = c.Close() })
		return c
	}
}

// benchMsg is a typical chat message of about 200 bytes of JSON.
func benchMsg(id string) core.Message {
	return core.Message{
		ID: id, Type: core.TypeMessage, Role: core.RoleAssistant, Timestamp: 1700000000000,
		Content:  "The quick brown fox jumps over the lazy dog; a typical reply of modest length.",
		Metadata: []byte(`{"model":"small","tokens":42}`),
	}
}

func reportRate(b *testing.B, n int64, start time.Time) {
	if el := time.Since(start).Seconds(); el > 0 {
		b.ReportMetric(float64(n)/el, "msgs/s")
	}
}

// BenchmarkAppend measures append+publish throughput: one append at a time (each waits for
// its round trip), and 64 goroutines appending to 256 sessions at once (requests from many
// pool connections overlap, the way a busy hub appends).
func BenchmarkAppend(b *testing.B) {
	backend, newClient := benchBackend(b)
	ctx := context.Background()
	b.Run("backend="+backend+"/sequential", func(b *testing.B) {
		client := newClient(0)
		s := newStore(b, client, redisstore.Options{Prefix: uniquePrefix(b, client)})
		b.ReportAllocs()
		start := time.Now()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Append(ctx, "bench", benchMsg(fmt.Sprint(i)), 1000); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, int64(b.N), start)
	})
	b.Run("backend="+backend+"/concurrent-64x256sessions", func(b *testing.B) {
		client := newClient(64)
		s := newStore(b, client, redisstore.Options{Prefix: uniquePrefix(b, client)})
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1)
				sid := fmt.Sprintf("bench-%d", i%256)
				if _, err := s.Append(ctx, sid, benchMsg(fmt.Sprint(i)), 1000); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b, next.Load(), start)
	})
}

// BenchmarkReplay100 measures a reconnect replay: Join with the client's last message id,
// which looks it up and reads the 100 messages after it (and the running streams) in one
// round trip.
func BenchmarkReplay100(b *testing.B) {
	backend, newClient := benchBackend(b)
	ctx := context.Background()
	b.Run("backend="+backend, func(b *testing.B) {
		client := newClient(0)
		s := newStore(b, client, redisstore.Options{Prefix: uniquePrefix(b, client)})
		for i := range 101 {
			if _, err := s.Append(ctx, "replay", benchMsg(fmt.Sprint(i)), 1000); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			j, err := s.Join(ctx, "replay", storage.JoinRequest{LastMessageID: "0", Replay: true})
			if err != nil || !j.Found || len(j.Page.Records) != 100 {
				b.Fatalf("Join: found %v, %d records, %v", j.Found, len(j.Page.Records), err)
			}
		}
	})
}

// BenchmarkDeliveryLatency measures the time from the start of Append on one Store to the
// notification on a second Store (its own client and pub/sub connection), as between two
// hub instances; it reports the p50 and p99 latencies.
func BenchmarkDeliveryLatency(b *testing.B) {
	backend, newClient := benchBackend(b)
	ctx := context.Background()
	b.Run("backend="+backend, func(b *testing.B) {
		pubClient := newClient(0)
		prefix := uniquePrefix(b, pubClient)
		pub := newStore(b, pubClient, redisstore.Options{Prefix: prefix})
		sub := newStore(b, newClient(0), redisstore.Options{Prefix: prefix})
		got := make(chan uint64, 1)
		cancel, err := sub.Subscribe(ctx, "latency", func(n storage.Notification) {
			if !n.Resync {
				got <- n.Record.Seq
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		defer cancel()
		lat := make([]time.Duration, 0, 1024)
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			rec, err := pub.Append(ctx, "latency", benchMsg(fmt.Sprint(i)), 1000)
			if err != nil {
				b.Fatal(err)
			}
			select {
			case seq := <-got:
				if seq != rec.Seq {
					b.Fatalf("got seq %d, want %d", seq, rec.Seq)
				}
			case <-time.After(5 * time.Second):
				b.Fatal("notification did not arrive within 5s")
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
}

// benchDelta is a typical model delta: a few tokens.
const benchDelta = "quick brown fox "

// BenchmarkStreamDeltas measures streamed-reply throughput between two instances: one
// producer appends deltas to a stream, one StreamAppend at a time as core.Stream does (each
// waits for its round trip), while a second Store (its own client and pub/sub connection)
// delivers every delta to subs local subscribers; the clock stops when the last delta has
// reached all of them. It reports deltas/s and the producer's round trip.
func BenchmarkStreamDeltas(b *testing.B) {
	backend, newClient := benchBackend(b)
	ctx := context.Background()
	for _, subs := range []int{1, 100} {
		b.Run(fmt.Sprintf("backend=%s/subscribers=%d", backend, subs), func(b *testing.B) {
			pubClient := newClient(0)
			prefix := uniquePrefix(b, pubClient)
			pub := newStore(b, pubClient, redisstore.Options{Prefix: prefix})
			sub := newStore(b, newClient(0), redisstore.Options{Prefix: prefix})
			var last atomic.Uint64
			var pending atomic.Int64
			done := make(chan struct{}, 1)
			for range subs {
				cancel, err := sub.Subscribe(ctx, "deltas", func(n storage.Notification) {
					if n.Stream != nil && n.Stream.Kind == storage.StreamDelta && n.Stream.Seq == last.Load() &&
						pending.Add(-1) == 0 {
						done <- struct{}{}
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				defer cancel()
			}
			id := core.NewID()
			last.Store(uint64(b.N))
			pending.Store(int64(subs))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for seq := uint64(1); seq <= uint64(b.N); seq++ {
				if err := pub.StreamAppend(ctx, "deltas", id, seq, benchDelta, 1, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				b.Fatalf("the last delta (%d) did not reach all %d subscribers", b.N, subs)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deltas/s")
		})
	}
}

// BenchmarkStreamResume10k measures the StreamSnapshot a reconnecting client (or a watcher
// after a gap) needs for a stream that has 10,000 deltas so far (about 160 KB of text).
func BenchmarkStreamResume10k(b *testing.B) {
	backend, newClient := benchBackend(b)
	ctx := context.Background()
	b.Run("backend="+backend, func(b *testing.B) {
		client := newClient(0)
		s := newStore(b, client, redisstore.Options{Prefix: uniquePrefix(b, client)})
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
	})
}
