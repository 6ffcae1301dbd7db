package redisstore_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// TestRedisRestart kills a real redis-server and starts it again on the same port: while it
// is down every operation fails with storage.ErrStoreUnavailable; afterwards go-redis
// reconnects, every subscriber (on both instances) gets a Resync, and appends continue
// (the append-only file kept the history, so sequence numbers continue too).
func TestRedisRestart(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a := newStore(t, newClient(), redisstore.Options{})
	b := newStore(t, newClient(), redisstore.Options{})
	subs := []*notes{newNotes(), newNotes()}
	for i, s := range []*redisstore.Store{a, b} {
		cancel, err := s.Subscribe(ctx, "room", subs[i].fn)
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
	}
	if _, err := a.Append(ctx, "room", testMsg("1"), 100); err != nil {
		t.Fatal(err)
	}
	for _, n := range subs {
		n.waitFor(t, "seq 1", hasSeq(1))
	}

	srv.kill()
	// A third client probes the outage: go-redis fails fast with the last dial error for up
	// to a second after PoolSize failed dials, which would hold a and b back after the restart.
	probe := newStore(t, newClient(), redisstore.Options{})
	for op, err := range storeOps(ctx, probe, "room") {
		var netErr *net.OpError
		if !errors.Is(err, storage.ErrStoreUnavailable) || !errors.As(err, &netErr) {
			t.Errorf("%s while Redis is down: err = %v; want ErrStoreUnavailable wrapping a *net.OpError", op, err)
		}
	}

	srv.start()
	resyncs := make([]int, len(subs))
	for i, n := range subs {
		resyncs[i] = n.waitFor(t, "a Resync after the restart", isResync)
	}
	rec, err := b.Append(ctx, "room", testMsg("2"), 100)
	if err != nil || rec.Seq != 2 {
		t.Fatalf("Append after restart = seq %d, %v; want seq 2, nil", rec.Seq, err)
	}
	for i, n := range subs {
		if at := n.waitFor(t, "seq 2 after the restart", hasSeq(2)); at < resyncs[i] {
			t.Errorf("subscriber %d got seq 2 before its Resync", i)
		}
	}
	page, err := a.Read(ctx, "room", 0)
	if err != nil || page.Head != 2 || len(page.Records) != 2 {
		t.Fatalf("Read after restart = %+v, %v; want both records", page, err)
	}
}
