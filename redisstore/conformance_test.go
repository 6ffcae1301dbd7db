package redisstore_test

import (
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core/storetest"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// peers remembers, for each Store under test, how to make another instance on the same
// Redis and key prefix (a second client, as a second process would have).
type peers struct {
	mu   sync.Mutex
	make map[storage.Store]func(t *testing.T) storage.Store
}

func (p *peers) add(s storage.Store, mk func(t *testing.T) storage.Store) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.make == nil {
		p.make = make(map[storage.Store]func(t *testing.T) storage.Store)
	}
	p.make[s] = mk
}

func (p *peers) peer(t *testing.T, s storage.Store) storage.Store {
	p.mu.Lock()
	mk := p.make[s]
	delete(p.make, s)
	p.mu.Unlock()
	return mk(t)
}

// runConformance runs the storetest suite; newClient returns a client to the Redis under
// test for one case (it may return the same Redis every time: each case has its own prefix).
// Its Lose deletes the session's keys, as a Redis restarted without persistence, a flush
// or an expiry would.
func runConformance(t *testing.T, newClient func(t *testing.T) (a, b redis.UniversalClient)) {
	var p peers
	var losers sync.Map // storage.Store -> func(t, sessionID)
	storetest.RunWithOptions(t, func(t *testing.T) storage.Store {
		a, b := newClient(t)
		opts := redisstore.Options{Prefix: uniquePrefix(t, a)}
		s := newStore(t, a, opts)
		p.add(s, func(t *testing.T) storage.Store { return newStore(t, b, opts) })
		losers.Store(storage.Store(s), func(sid string) { deleteKeys(t, a, opts.Prefix+"{"+sid+"}") })
		return s
	}, storetest.Options{Peer: p.peer, Lose: func(s storage.Store, sid string) {
		lose, _ := losers.Load(s)
		lose.(func(string))(sid)
	}})
}

func TestConformanceMiniredis(t *testing.T) {
	runConformance(t, func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) {
		mr, a := newMiniredis(t)
		b := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = b.Close() })
		return a, b
	})
}

// TestConformanceRedis runs the suite against the Redis at REDIS_URL, else against a
// redis-server the test starts.
func TestConformanceRedis(t *testing.T) {
	var a, b redis.UniversalClient
	if os.Getenv("REDIS_URL") != "" {
		a, b = realRedis(t), realRedis(t)
	} else {
		srv := startRedis(t, "--appendonly", "no")
		ca := redis.NewClient(&redis.Options{Addr: srv.addr()})
		cb := redis.NewClient(&redis.Options{Addr: srv.addr()})
		t.Cleanup(func() { _ = ca.Close(); _ = cb.Close() })
		a, b = ca, cb
	}
	runConformance(t, func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) { return a, b })
}
