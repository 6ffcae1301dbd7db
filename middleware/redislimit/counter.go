package redislimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// CounterOptions configures NewCounter.
type CounterOptions struct {
	// Prefix starts every key. It must not contain '{' or '}'. Default: DefaultPrefix.
	Prefix string
	// LeaseTTL is how long a slot counts without being renewed; the Counter renews its
	// slots every LeaseTTL/3. Default: 30s. Values below 30ms are raised to 30ms.
	LeaseTTL time.Duration
	// ReleaseTimeout bounds the Redis call that gives a slot back. Default: 5s.
	ReleaseTimeout time.Duration
}

// Defaults of CounterOptions.
const (
	DefaultLeaseTTL       = 30 * time.Second
	DefaultReleaseTimeout = 5 * time.Second
	minLeaseTTL           = 30 * time.Millisecond
)

// Counter is a middleware.Counter whose slots live in Redis as leases, shared by every
// instance; see the package documentation.
type Counter struct {
	client  redis.UniversalClient
	prefix  string
	ttl     time.Duration
	timeout time.Duration

	mu   sync.Mutex
	held map[string]map[string]struct{} // key -> members this Counter holds

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

var _ middleware.Counter = (*Counter)(nil)

// NewCounter returns a Counter on client and starts its lease renewer; Close stops it.
func NewCounter(client redis.UniversalClient, opts CounterOptions) (*Counter, error) {
	prefix, err := checkPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	c := &Counter{
		client: client, prefix: prefix, ttl: opts.LeaseTTL, timeout: opts.ReleaseTimeout,
		held: make(map[string]map[string]struct{}),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if c.ttl <= 0 {
		c.ttl = DefaultLeaseTTL
	}
	c.ttl = max(c.ttl, minLeaseTTL)
	if c.timeout <= 0 {
		c.timeout = DefaultReleaseTimeout
	}
	go c.renewLoop()
	return c, nil
}

// acquireScript drops expired leases of KEYS[1] and adds ARGV[1] with a lease of ARGV[3] ms
// unless ARGV[2] leases are live. Returns 1 when added.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`)

// renewScript extends the leases ARGV[2..] of KEYS[1] that are still there (ZADD XX: a
// lease that expired or was released is not brought back) by ARGV[1] ms.
var renewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`)

// countScript returns the number of live leases of KEYS[1].
var countScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

func (c *Counter) redisKey(key string) string { return c.prefix + "conns:{" + key + "}" }

// Acquire implements middleware.Counter.
func (c *Counter) Acquire(ctx context.Context, key string, limit int) (func(), bool, error) {
	member := core.NewID()
	rk := c.redisKey(key)
	n, err := acquireScript.Run(ctx, c.client, []string{rk}, member, limit, c.ttl.Milliseconds()).Int()
	if err != nil {
		return nil, false, fmt.Errorf("redislimit: acquire: %w", err)
	}
	if n != 1 {
		return nil, false, nil
	}
	c.mu.Lock()
	if c.held[rk] == nil {
		c.held[rk] = make(map[string]struct{})
	}
	c.held[rk][member] = struct{}{}
	c.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { c.release(rk, member) }) }, true, nil
}

// release forgets the lease locally first (so no renewal brings it back), then removes it.
// A failure leaves it to expire within the lease TTL.
func (c *Counter) release(rk, member string) {
	c.mu.Lock()
	delete(c.held[rk], member)
	if len(c.held[rk]) == 0 {
		delete(c.held, rk)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	_ = c.client.ZRem(ctx, rk, member).Err()
}

// Count returns the live slots under key on every instance.
func (c *Counter) Count(ctx context.Context, key string) (int, error) {
	n, err := countScript.Run(ctx, c.client, []string{c.redisKey(key)}).Int()
	if err != nil {
		return 0, fmt.Errorf("redislimit: count: %w", err)
	}
	return n, nil
}

// Close stops renewing leases and waits for the renewer to exit. Slots still held stop
// counting within the lease TTL; their release functions still work. Close the Counter
// after the hub has shut down.
func (c *Counter) Close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

func (c *Counter) renewLoop() {
	defer close(c.done)
	t := time.NewTicker(c.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.renew()
		}
	}
}

// renew extends every lease this Counter holds, one pipelined script call per key. Errors
// are dropped: the next tick tries again, and a lease that expired meanwhile is not renewed.
func (c *Counter) renew() {
	c.mu.Lock()
	batch := make(map[string][]any, len(c.held))
	for rk, members := range c.held {
		args := make([]any, 0, len(members)+1)
		args = append(args, c.ttl.Milliseconds())
		for m := range members {
			args = append(args, m)
		}
		batch[rk] = args
	}
	c.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.ttl/3)
	defer cancel()
	for attempt := 0; attempt < 2; attempt++ {
		pipe := c.client.Pipeline()
		for rk, args := range batch {
			renewScript.EvalSha(ctx, pipe, []string{rk}, args...)
		}
		_, err := pipe.Exec(ctx)
		if err == nil || !isNoScript(err) {
			return
		}
		if renewScript.Load(ctx, c.client).Err() != nil {
			return
		}
	}
}
