package redisstore_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
)

// TestConcurrentAppendsShareRoundTrips: appends made at once by many callers go to Redis
// in a few pipelines, not one round trip each. Through a proxy that delays every reply by
// 100 ms and a client with a pool of 2 connections, 64 concurrent appends would take 32
// round trips one by one; pipelined they take the first call's round trip and one or two
// more for everything that waited meanwhile. Every append gets its own record, in one
// gapless sequence.
func TestConcurrentAppendsShareRoundTrips(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	const delay = 100 * time.Millisecond
	proxy := newLatencyProxy(t, srv.addr(), delay)
	c := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), PoolSize: 2, ReadTimeout: 5 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	s := newStore(t, c, redisstore.Options{})
	ctx := context.Background()
	if _, err := s.Append(ctx, "warm", testMsg("w"), 10); err != nil { // loads the script
		t.Fatal(err)
	}

	const n = 64
	seqs := make([]uint64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := s.Append(ctx, "p", testMsg(fmt.Sprintf("m%02d", i)), 0)
			seqs[i], errs[i] = rec.Seq, err
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("sequences %v, want 1..%d", seqs, n)
		}
	}
	trips := int(elapsed / delay)
	t.Logf("%d concurrent appends: %v with replies delayed %v: %d round trips", n, elapsed, delay, trips)
	if trips > 4 {
		t.Errorf("%d concurrent appends took %d round trips (%v), want <= 4", n, trips, elapsed)
	}
}

// TestPipelinedAppendsAfterScriptFlush: a pipeline sends scripts by hash; when Redis has
// forgotten them, every call of the pipeline is sent again in full and succeeds.
func TestPipelinedAppendsAfterScriptFlush(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	c := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = c.Close() })
	s := newStore(t, c, redisstore.Options{})
	ctx := context.Background()
	for round := range 3 {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := core.Message{ID: fmt.Sprintf("r%d-%02d", round, i), Type: core.TypeMessage, Content: "x"}
				if _, err := s.Append(ctx, "f", m, 0); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: append after SCRIPT FLUSH: %v", round, err)
		}
	}
	page, err := s.Read(ctx, "f", 0)
	if err != nil || len(page.Records) != 96 {
		t.Fatalf("Read = %d records, %v; want 96", len(page.Records), err)
	}
}

// TestPipelinedCallerDeadline: a caller whose context ends while its call waits for Redis
// returns at once with the context's error, whatever the other calls of its pipeline do.
func TestPipelinedCallerDeadline(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	proxy := newLatencyProxy(t, srv.addr(), 300*time.Millisecond)
	c := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), ReadTimeout: 5 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	s := newStore(t, c, redisstore.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Append(ctx, "d", testMsg("late"), 0)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("Append with a 50ms deadline against 300ms replies = %v", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Fatalf("Append returned after %v, past its 50ms deadline", took)
	}
}
