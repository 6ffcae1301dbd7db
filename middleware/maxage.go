package middleware

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/chatwire/chatwire/core"
)

// ConnCloser closes one connection by id; *core.Hub implements it.
type ConnCloser interface {
	CloseConn(connID string, code core.CloseCode, reason string) bool
}

// MaxAgeOptions configures NewMaxAge.
type MaxAgeOptions struct {
	// MaxAge is how long a connection may live before it is asked to reconnect. Choose it
	// so that MaxAge+Jitter stays below your platform's hard limit on connection time.
	// Default: 30 minutes.
	MaxAge time.Duration
	// Jitter spreads the closes uniformly over MaxAge±Jitter, so connections opened together
	// do not all reconnect together. Default: MaxAge/10. A negative value means none.
	Jitter time.Duration
	// Code is the close code. Default: core.CloseServiceRestart (1012), which clients treat
	// as "reconnect now".
	Code core.CloseCode
	// Reason is the close reason (at most 123 bytes). Default: "max connection age".
	Reason string
}

// Defaults of MaxAgeOptions.
const (
	DefaultMaxAge       = 30 * time.Minute
	defaultMaxAgeReason = "max connection age"
)

// MaxAge closes connections once they reach a maximum age, so that clients reconnect (to a
// fresh instance, with fresh credentials) before a serverless platform or load balancer
// cuts them. It owns one timer per live connection, stopped when the connection ends or on
// Close. It is safe for concurrent use.
type MaxAge struct {
	age, jitter time.Duration
	code        core.CloseCode
	reason      string

	mu     sync.Mutex
	timers map[string]*time.Timer
	closed bool
	wg     sync.WaitGroup // timer callbacks in progress
}

// NewMaxAge returns a MaxAge; install its Hooks on the hub (Hooks.Apply). It closes each
// connection through the hub that reported it (core.ConnEvent.Hub), so there is nothing
// else to wire.
func NewMaxAge(opts MaxAgeOptions) *MaxAge {
	m := &MaxAge{age: opts.MaxAge, jitter: opts.Jitter, code: opts.Code, reason: opts.Reason, timers: make(map[string]*time.Timer)}
	if m.age <= 0 {
		m.age = DefaultMaxAge
	}
	if m.jitter == 0 {
		m.jitter = m.age / 10
	}
	if m.jitter < 0 {
		m.jitter = 0
	}
	if m.jitter > m.age {
		m.jitter = m.age
	}
	if m.code == 0 {
		m.code = core.CloseServiceRestart
	}
	if m.reason == "" {
		m.reason = defaultMaxAgeReason
	}
	return m
}

// Hooks returns the hooks that start a connection's timer on connect and stop it on
// disconnect.
func (m *MaxAge) Hooks() Hooks {
	return Hooks{OnConnect: m.connected, OnDisconnect: m.disconnected}
}

// Close stops every timer and waits for closes in progress. Connections still open are
// left alone.
func (m *MaxAge) Close() {
	m.mu.Lock()
	m.closed = true
	for id, t := range m.timers {
		t.Stop()
		delete(m.timers, id)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// lifetime returns MaxAge±Jitter, drawn uniformly.
func (m *MaxAge) lifetime() time.Duration {
	if m.jitter <= 0 {
		return m.age
	}
	return m.age - m.jitter + time.Duration(rand.Int64N(int64(2*m.jitter)+1))
}

func (m *MaxAge) connected(ev core.ConnEvent) {
	if ev.Hub != nil {
		m.start(ev.ConnID, ev.Hub)
	}
}

// start arms the timer that closes connection id through closer.
func (m *MaxAge) start(id string, closer ConnCloser) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.timers[id] = time.AfterFunc(m.lifetime(), func() { m.expire(id, closer) })
}

func (m *MaxAge) disconnected(ev core.DisconnectEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.timers[ev.ConnID]; t != nil {
		t.Stop()
		delete(m.timers, ev.ConnID)
	}
}

func (m *MaxAge) expire(id string, closer ConnCloser) {
	m.mu.Lock()
	if m.closed || m.timers[id] == nil {
		delete(m.timers, id)
		m.mu.Unlock()
		return
	}
	delete(m.timers, id)
	m.wg.Add(1)
	m.mu.Unlock()
	defer m.wg.Done()
	closer.CloseConn(id, m.code, m.reason)
}
