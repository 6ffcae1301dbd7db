package redislimit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/middleware"
)

// DefaultPrefix starts every key of a Limiter or Counter whose options set none.
const DefaultPrefix = "chatwire:limit:"

// LimiterOptions configures NewLimiter.
type LimiterOptions struct {
	// Prefix starts every key. It must not contain '{' or '}'. Default: DefaultPrefix.
	Prefix string
}

// Limiter is a middleware.Limiter whose buckets live in Redis, shared by every instance.
type Limiter struct {
	client redis.UniversalClient
	prefix string
}

var _ middleware.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter on client. It does no I/O.
func NewLimiter(client redis.UniversalClient, opts LimiterOptions) (*Limiter, error) {
	prefix, err := checkPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	return &Limiter{client: client, prefix: prefix}, nil
}

func checkPrefix(p string) (string, error) {
	if p == "" {
		return DefaultPrefix, nil
	}
	if strings.ContainsAny(p, "{}") {
		return "", fmt.Errorf("redislimit: prefix %q must not contain '{' or '}'", p)
	}
	return p, nil
}

// gcraScript takes one token from the bucket KEYS[1] with the generic cell rate algorithm:
// the key holds the theoretical arrival time (µs) of the next event. ARGV: 1 emission
// interval (µs), 2 bucket size. Returns 1 when allowed.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
local v = redis.call('GET', KEYS[1])
local tat = now
if v then
  tat = math.max(tonumber(v), now)
end
local nxt = tat + interval
if nxt - now > size * interval then
  return 0
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.max(1, math.ceil((nxt - now) / 1000)))
return 1
`)

// Allow implements middleware.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, rate middleware.Rate) (bool, error) {
	if rate.Unlimited() {
		return true, nil
	}
	interval := max(rate.Interval().Microseconds(), 1)
	n, err := gcraScript.Run(ctx, l.client, []string{l.prefix + "rate:{" + key + "}"}, interval, rate.Size()).Int()
	if err != nil {
		return false, fmt.Errorf("redislimit: allow: %w", err)
	}
	return n == 1, nil
}

// isNoScript reports whether err says the script cache lacks a script.
func isNoScript(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "NOSCRIPT")
}
