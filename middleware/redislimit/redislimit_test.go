package redislimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/middleware/redislimit"
)

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	rate := middleware.Rate{Limit: 10, Period: time.Second, Burst: 3} // a token per 100ms
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			c1, prefix := be.connect(t)
			c2, _ := be.connect(t)
			a, err := redislimit.NewLimiter(c1, redislimit.LimiterOptions{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := redislimit.NewLimiter(c2, redislimit.LimiterOptions{Prefix: prefix})
			// Two instances share one bucket per key.
			var got []bool
			for _, l := range []*redislimit.Limiter{a, b, a, b} {
				ok, err := l.Allow(ctx, "principal:alice", rate)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ok)
			}
			if !got[0] || !got[1] || !got[2] || got[3] {
				t.Fatalf("outcomes %v, want the burst of 3 then a refusal", got)
			}
			if ok, _ := a.Allow(ctx, "principal:bob", rate); !ok {
				t.Fatal("bob limited by alice's bucket")
			}
			if ok, _ := a.Allow(ctx, "x", middleware.Rate{}); !ok {
				t.Fatal("a zero Rate limited")
			}
			key := prefix + "rate:{principal:alice}"
			ttl := c1.PTTL(ctx, key).Val()
			if ttl <= 0 || ttl > 300*time.Millisecond {
				t.Fatalf("bucket key TTL %v, want (0, 300ms]: it expires once the bucket is full", ttl)
			}
			eventually(t, "a token refilled", func() bool { ok, _ := a.Allow(ctx, "principal:alice", rate); return ok })
			be.expireKeys(time.Second)
			eventually(t, "full buckets' keys to expire", func() bool { return len(keysUnder(t, c1, prefix)) == 0 })
		})
	}
}

func TestCounter(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			c1, prefix := be.connect(t)
			c2, _ := be.connect(t)
			// Renewals run every ttl/3; 600ms leaves a loaded CI machine 200ms of slack per renewal.
			const ttl = 600 * time.Millisecond
			a, err := redislimit.NewCounter(c1, redislimit.CounterOptions{Prefix: prefix, LeaseTTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, _ := redislimit.NewCounter(c2, redislimit.CounterOptions{Prefix: prefix, LeaseTTL: ttl})
			defer b.Close()

			r1, ok1, err1 := a.Acquire(ctx, "session:s", 2)
			_, ok2, _ := b.Acquire(ctx, "session:s", 2)
			_, ok3, _ := a.Acquire(ctx, "session:s", 2)
			if err1 != nil || !ok1 || !ok2 || ok3 {
				t.Fatalf("acquire: %v %v %v %v; want two slots then a refusal across instances", err1, ok1, ok2, ok3)
			}
			// Held leases are renewed: after several TTLs both still count.
			time.Sleep(4 * ttl) // the passage of time is what is tested here
			if n, err := b.Count(ctx, "session:s"); err != nil || n != 2 {
				t.Fatalf("count %d (%v) after 4 lease TTLs, want 2: leases not renewed", n, err)
			}
			r1()
			r1() // idempotent
			if n, _ := a.Count(ctx, "session:s"); n != 1 {
				t.Fatalf("count %d after a release, want 1", n)
			}
			// Instance b crashes: its lease is not renewed and stops counting.
			_ = b.Close()
			eventually(t, "the crashed instance's lease to expire", func() bool {
				n, _ := a.Count(ctx, "session:s")
				return n == 0
			})
			r, ok, _ := a.Acquire(ctx, "session:s", 1)
			if !ok {
				t.Fatal("slot still taken after the crashed instance's lease expired")
			}
			r()
			be.expireKeys(time.Second)
			eventually(t, "no key left", func() bool { return len(keysUnder(t, c1, prefix)) == 0 })
		})
	}
}

func TestBadPrefix(t *testing.T) {
	if _, err := redislimit.NewLimiter(nil, redislimit.LimiterOptions{Prefix: "a{b"}); err == nil {
		t.Fatal("NewLimiter accepted a prefix with a brace")
	}
	if _, err := redislimit.NewCounter(nil, redislimit.CounterOptions{Prefix: "a}"}); err == nil {
		t.Fatal("NewCounter accepted a prefix with a brace")
	}
}
