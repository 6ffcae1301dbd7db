package demo

import (
	"errors"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/redis/go-redis/v9"
)

// OpenStore returns the store the flags ask for: a Redis store on -redis URL, else an
// in-memory store. The returned close function releases it.
func (f *Flags) OpenStore() (core.Store, func() error, error) {
	if f.Redis == "" {
		return core.NewMemoryStore(core.MemoryStoreOptions{}), func() error { return nil }, nil
	}
	return OpenRedisStore(f.Redis)
}

// OpenRedisStore connects a Redis store to url (redis://host:port/db). The store owns a
// client of its own, closed by the returned function.
func OpenRedisStore(url string) (core.Store, func() error, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("redis url: %w", err)
	}
	opt.ContextTimeoutEnabled = true // let the hub's StoreTimeout bound every command
	client := redis.NewClient(opt)
	st, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return st, func() error { return errors.Join(st.Close(), client.Close()) }, nil
}

// EmbeddedRedis starts an in-process miniredis, so multi-instance examples run on a machine
// without a Redis server. It returns its redis:// URL and a function that stops it.
func EmbeddedRedis() (url string, stop func(), err error) {
	m, err := miniredis.Run()
	if err != nil {
		return "", nil, err
	}
	return "redis://" + m.Addr() + "/0", m.Close, nil
}
