package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/chatwire/chatwire/core"
)

// RateLimitOptions configures RateLimit.
type RateLimitOptions struct {
	// PerConn limits the messages of each connection. Default: no limit.
	PerConn Rate
	// PerPrincipal limits the messages of each principal, over all its connections (on
	// every instance, with a shared Limiter). Connections without a principal key are not
	// limited by it. Default: no limit.
	PerPrincipal Rate
	// PrincipalKey names a principal's bucket ("" for none). Default: PrincipalID.
	PrincipalKey func(principal any) string
	// Limiter holds the buckets, under the keys "conn:<conn id>" and
	// "principal:<principal key>". Default: a new MemoryLimiter per RateLimit call.
	Limiter Limiter
	// MaxRejections closes a connection with 1008 (policy violation) when this many of its
	// messages in a row were over the limit: the last one gets the close instead of an
	// error envelope. Any message let through resets the count. Default: 20. A negative
	// value never closes.
	MaxRejections int
	// FailClosed rejects messages (with an INTERNAL error envelope) while the Limiter
	// fails. Default: false, which lets them through and logs a warning.
	FailClosed bool
	// Logger receives limiter failures. Default: nil, which discards them.
	Logger *slog.Logger
}

// DefaultMaxRejections is RateLimitOptions.MaxRejections's default.
const DefaultMaxRejections = 20

// rateLimitedText is the text of the RATE_LIMITED error envelope.
const rateLimitedText = "Rate limit exceeded; message dropped"

// RateLimit returns hooks that limit how fast clients send: a Guard that answers a message
// over the limit with an error envelope with code RATE_LIMITED (the message is neither
// stored nor handled, and the connection stays open) and closes a connection that keeps
// flooding (see MaxRejections), plus an OnDisconnect that forgets the connection. Install
// both (Chain, Apply). The check runs on the connection's own reader, so a flooding client
// slows only itself.
func RateLimit(opts RateLimitOptions) Hooks {
	rl := &rateLimiter{
		perConn:      opts.PerConn,
		perPrincipal: opts.PerPrincipal,
		key:          opts.PrincipalKey,
		lim:          opts.Limiter,
		max:          opts.MaxRejections,
		failClosed:   opts.FailClosed,
		log:          opts.Logger,
	}
	if rl.key == nil {
		rl.key = PrincipalID
	}
	if rl.lim == nil {
		rl.lim = NewMemoryLimiter()
	}
	if rl.max == 0 {
		rl.max = DefaultMaxRejections
	}
	if rl.log == nil {
		rl.log = slog.New(slog.DiscardHandler)
	}
	return Hooks{
		Guards:       []core.Guard{rl.guard},
		OnDisconnect: func(ev core.DisconnectEvent) { rl.streaks.Delete(ev.ConnID) },
	}
}

type rateLimiter struct {
	perConn, perPrincipal Rate
	key                   func(any) string
	lim                   Limiter
	max                   int
	failClosed            bool
	log                   *slog.Logger
	streaks               sync.Map // conn id -> *atomic.Int64: rejections in a row
}

func (rl *rateLimiter) guard(ctx context.Context, req *core.Request) error {
	ok, err := rl.allow(ctx, "conn:"+req.ConnID, rl.perConn)
	if err == nil && ok && !rl.perPrincipal.Unlimited() {
		if id := rl.key(req.Principal); id != "" {
			ok, err = rl.allow(ctx, "principal:"+id, rl.perPrincipal)
		}
	}
	if err != nil {
		return err
	}
	if ok {
		if v, found := rl.streaks.Load(req.ConnID); found {
			v.(*atomic.Int64).Store(0)
		}
		return nil
	}
	v, _ := rl.streaks.LoadOrStore(req.ConnID, new(atomic.Int64))
	n := v.(*atomic.Int64).Add(1)
	if rl.max > 0 && n >= int64(rl.max) {
		return fmt.Errorf("%w: %d messages in a row over the rate limit", core.ErrPolicyViolation, n)
	}
	return core.NewError(core.CodeRateLimited, rateLimitedText)
}

// allow asks the limiter, applying the failure policy.
func (rl *rateLimiter) allow(ctx context.Context, key string, rate Rate) (bool, error) {
	if rate.Unlimited() {
		return true, nil
	}
	ok, err := rl.lim.Allow(ctx, key, rate)
	if err == nil {
		return ok, nil
	}
	if rl.failClosed {
		return false, fmt.Errorf("middleware: rate limiter: %w", err)
	}
	rl.log.Warn("chatwire: rate limiter failed; message let through", "err", err)
	return true, nil
}

// PrincipalID is the default principal key of RateLimit and Caps: the principal itself when
// it is a string, its String method's result when it has one, else "" (no key: per-principal
// limits do not apply). Principals of other types need an explicit PrincipalKey.
func PrincipalID(principal any) string {
	switch p := principal.(type) {
	case string:
		return p
	case fmt.Stringer:
		return p.String()
	}
	return ""
}
