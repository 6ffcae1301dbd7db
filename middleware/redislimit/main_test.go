package redislimit_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/chatwire/chatwire/core"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitTimeout = 5 * time.Second

// backend is a Redis the tests run against.
type backend struct {
	name string
	// connect returns a new client (closed at cleanup) and a key prefix of its own.
	connect func(t *testing.T) (redis.UniversalClient, string)
	// expireKeys lets key TTLs pass by d (miniredis only moves them on request).
	expireKeys func(d time.Duration)
}

// backends returns miniredis and, when REDIS_URL is set, the real Redis it names. In CI
// (CI set) a missing REDIS_URL fails the real-Redis cases instead of skipping them.
func backends(t *testing.T) []backend {
	mr := miniredis.RunT(t)
	out := []backend{{
		name: "miniredis",
		connect: func(t *testing.T) (redis.UniversalClient, string) {
			c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { _ = c.Close() })
			return c, "chatwire-test:" + core.NewID() + ":"
		},
		expireKeys: mr.FastForward,
	}}
	real := backend{name: "redis", expireKeys: func(time.Duration) {}}
	real.connect = func(t *testing.T) (redis.UniversalClient, string) {
		url := os.Getenv("REDIS_URL")
		if url == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("REDIS_URL is not set (CI is set, so this is a failure)")
			}
			t.Skip("REDIS_URL is not set; set it (e.g. redis://127.0.0.1:6379/0) to test against a real Redis")
		}
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		c := redis.NewClient(opts)
		prefix := "chatwire-test:" + core.NewID() + ":"
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			keys, _ := c.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				_ = c.Del(ctx, keys...).Err()
			}
			_ = c.Close()
		})
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("REDIS_URL=%s is set but Redis does not answer: %v", url, err)
		}
		return c, prefix
	}
	return append(out, real)
}

// keysUnder returns the keys that start with prefix.
func keysUnder(t *testing.T, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// eventually polls cond (state with no event to wait on: leases expiring in Redis).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
