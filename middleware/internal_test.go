package middleware

import (
	"context"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
)

func TestMemoryLimiterBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	l := &MemoryLimiter{now: func() time.Time { return now }}
	rate := Rate{Limit: 10, Period: time.Second, Burst: 3} // one token per 100ms, bucket of 3
	steps := []struct {
		advance time.Duration
		key     string
		want    bool
	}{
		{0, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false}, // the burst, then empty
		{0, "b", true},                                      // buckets are per key
		{50 * time.Millisecond, "a", false},                 // half a token
		{50 * time.Millisecond, "a", true}, {0, "a", false}, // one token refilled
		{time.Hour, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false}, // full again, not more
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got, _ := l.Allow(context.Background(), s.key, rate); got != s.want {
			t.Fatalf("step %d (%s after +%v): allowed %v, want %v", i, s.key, s.advance, got, s.want)
		}
	}
	now = now.Add(2 * sweepEvery) // every bucket refilled: a later call forgets them
	_, _ = l.Allow(context.Background(), "c", rate)
	if n := l.Len(); n != 1 {
		t.Fatalf("%d buckets held after the sweep, want 1 (the new one)", n)
	}
	if ok, _ := l.Allow(context.Background(), "x", Rate{}); !ok {
		t.Fatal("a zero Rate limited")
	}
}

func TestRateAccessors(t *testing.T) {
	cases := []struct {
		r        Rate
		size     int
		interval time.Duration
	}{
		{PerMinute(100), 100, 600 * time.Millisecond},
		{PerSecond(4), 4, 250 * time.Millisecond},
		{Rate{Limit: 2, Burst: 5}, 5, 500 * time.Millisecond},
		{Rate{}, 1, 0},
	}
	for _, tc := range cases {
		if tc.r.Size() != tc.size || tc.r.Interval() != tc.interval {
			t.Errorf("%+v: size %d interval %v, want %d %v", tc.r, tc.r.Size(), tc.r.Interval(), tc.size, tc.interval)
		}
	}
}

type closerFunc func(string, core.CloseCode, string) bool

func (f closerFunc) CloseConn(id string, code core.CloseCode, reason string) bool {
	return f(id, code, reason)
}

func TestMaxAgeTimers(t *testing.T) {
	closed := make(chan string, 1)
	m := NewMaxAge(MaxAgeOptions{MaxAge: 20 * time.Millisecond, Jitter: -1})
	closer := closerFunc(func(id string, code core.CloseCode, _ string) bool {
		if code != core.CloseServiceRestart {
			t.Errorf("code %v", code)
		}
		closed <- id
		return true
	})
	h := m.Hooks()
	m.start("gone", closer) // what OnConnect does with the event's hub
	h.OnDisconnect(core.DisconnectEvent{ConnEvent: core.ConnEvent{ConnID: "gone"}})
	m.start("old", closer)
	select {
	case id := <-closed:
		if id != "old" {
			t.Fatalf("closed %q, want old (gone had disconnected)", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
	h.OnConnect(core.ConnEvent{ConnID: "open"})
	m.Close()
	m.mu.Lock()
	n := len(m.timers)
	m.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d timers left after Close", n)
	}
	h.OnConnect(core.ConnEvent{ConnID: "late"}) // after Close: no timer
	if len(m.timers) != 0 {
		t.Fatal("timer started after Close")
	}
	if got := NewMaxAge(MaxAgeOptions{MaxAge: time.Hour}).lifetime(); got < 54*time.Minute || got > 66*time.Minute {
		t.Fatalf("lifetime %v outside 1h±10%%", got)
	}
}
