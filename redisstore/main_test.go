package redisstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// inCI reports whether the tests run in CI, where a missing dependency is a failure.
func inCI() bool { return os.Getenv("CI") != "" }

// skipOrFail skips the test with reason, except in CI where it fails it.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s (CI is set, so this is a failure)", reason)
	}
	t.Skip(reason)
}

// newMiniredis starts a miniredis server for t and returns it with a client to it.
func newMiniredis(t testing.TB) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	return mr, client
}

// realRedis returns a client for REDIS_URL, skipping (failing in CI) when it is unset or
// unreachable.
func realRedis(t testing.TB) *redis.Client {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		skipOrFail(t, "REDIS_URL is not set; set it (e.g. redis://127.0.0.1:6379/0) to test against a real Redis")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("REDIS_URL=%s is set but Redis does not answer: %v", url, err)
	}
	return client
}

// uniquePrefix returns a random key prefix and deletes every key under it when t ends,
// so parallel runs against one Redis never collide.
func uniquePrefix(t testing.TB, client redis.UniversalClient) string {
	t.Helper()
	prefix := "chatwire-test:" + core.NewID() + ":"
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	return prefix
}

// deleteKeys removes every key starting with prefix (a random string made by the tests,
// never user input) on every node.
func deleteKeys(t testing.TB, client redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	del := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *redis.Client:
		err = del(ctx, c)
	}
	if err != nil {
		t.Logf("cleaning up keys %s*: %v", prefix, err)
	}
}

// newStore returns a Store on client that is closed when t ends.
func newStore(t testing.TB, client redis.UniversalClient, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}
