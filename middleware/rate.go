package middleware

import (
	"context"
	"sync"
	"time"
)

// Rate is a token bucket: Limit tokens per Period, holding at most Burst tokens (a client
// that was quiet may send Burst messages at once, then Limit per Period).
type Rate struct {
	// Limit is the number of events allowed per Period. Zero (the default) means no limit.
	Limit int
	// Period is the refill period. Default: one second.
	Period time.Duration
	// Burst is the bucket's size. Default: Limit.
	Burst int
}

// PerSecond returns a Rate of n events per second (burst n).
func PerSecond(n int) Rate { return Rate{Limit: n, Period: time.Second} }

// PerMinute returns a Rate of n events per minute (burst n).
func PerMinute(n int) Rate { return Rate{Limit: n, Period: time.Minute} }

// Unlimited reports whether r imposes no limit (Limit <= 0).
func (r Rate) Unlimited() bool { return r.Limit <= 0 }

// Size returns the bucket's size: Burst, or Limit when Burst is not set.
func (r Rate) Size() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(r.Limit, 1)
}

// Interval returns the time one token takes to refill: Period / Limit.
func (r Rate) Interval() time.Duration {
	p := r.Period
	if p <= 0 {
		p = time.Second
	}
	if r.Limit <= 0 {
		return 0
	}
	return p / time.Duration(r.Limit)
}

// Limiter holds token buckets by key. The in-memory MemoryLimiter serves one process; a
// shared one (package redislimit) makes a limit hold across instances.
type Limiter interface {
	// Allow takes one token from the bucket named key, which refills at rate, and reports
	// whether there was one. Buckets that are full again may be forgotten.
	Allow(ctx context.Context, key string, rate Rate) (bool, error)
}

// MemoryLimiter is an in-process Limiter using the generic cell rate algorithm (a token
// bucket stored as one timestamp per key). A bucket that has refilled completely is
// forgotten during a later call, so keys of closed connections do not accumulate. It is safe
// for concurrent use and starts no goroutine. The zero value is ready to use.
type MemoryLimiter struct {
	mu        sync.Mutex
	tat       map[string]time.Time // theoretical arrival time of the next event, per key
	lastSweep time.Time
	now       func() time.Time // tests; nil means time.Now
}

// sweepEvery is how often MemoryLimiter looks for full buckets to forget.
const sweepEvery = time.Minute

// NewMemoryLimiter returns an empty MemoryLimiter.
func NewMemoryLimiter() *MemoryLimiter { return &MemoryLimiter{} }

// Allow implements Limiter. It never fails.
func (l *MemoryLimiter) Allow(_ context.Context, key string, rate Rate) (bool, error) {
	if rate.Unlimited() {
		return true, nil
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	interval := rate.Interval()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tat == nil {
		l.tat = make(map[string]time.Time)
	}
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.lastSweep = now
		for k, t := range l.tat {
			if !t.After(now) {
				delete(l.tat, k)
			}
		}
	}
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if next.Sub(now) > time.Duration(rate.Size())*interval {
		return false, nil
	}
	l.tat[key] = next
	return true, nil
}

// Len returns the number of buckets held (for tests and monitoring).
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}
