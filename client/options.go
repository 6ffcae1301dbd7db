package client

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// Defaults of Options; see each field's documentation.
const (
	DefaultMinBackoff       = 250 * time.Millisecond
	DefaultMaxBackoff       = 30 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	// DefaultIdleTimeout is two default server heartbeat intervals plus the server's pong
	// timeout: a healthy chatwire server sends a heartbeat well within it.
	DefaultIdleTimeout  = 70 * time.Second
	DefaultReadLimit    = 16 << 20
	DefaultEventBuffer  = 64
	DefaultDedupeWindow = 5000
)

// stableAfter is how long a connection must stay open before the backoff starts again from
// its first step: a server that accepts and at once closes (1013 while its store is down)
// still sees exponentially spaced attempts.
const stableAfter = 5 * time.Second

// Options configures a Client. The zero value of every field means its documented default;
// Dial copies the struct and never modifies the caller's value.
type Options struct {
	// SessionID names the session to join. Default: the URL's sessionId query parameter,
	// else none: the server makes a new session and names it in its welcome frame
	// (PROTOCOL.md, "The welcome frame"), and every reconnect names that one (see
	// Client.SessionID). With a server that sends no welcome, the client then names a random
	// id from the first reconnect on. It must satisfy core.ValidSessionID.
	SessionID string

	// LastMessageID asks the first connection to replay every stored message after this
	// id. Default: the URL's lastMessageId query parameter, else none: the first connection
	// then receives running streams and every message stored after its upgrade (chatwire's
	// adapters join the session before answering 101). Later connections always resume from
	// the last stored message the client saw, without gap.
	LastMessageID string

	// History, when set and the client has no last message id yet, asks the server for the
	// session's whole retained history first (query history=all). Default: false.
	History bool

	// Header is sent with every upgrade request (cookies, Authorization, Origin). Default:
	// nil. Dial copies it.
	Header http.Header

	// Backoff spaces reconnect attempts: exponential, with full jitter. Default: the zero
	// Backoff, i.e. Min 250ms, Max 30s, Rand math/rand/v2.Float64.
	Backoff Backoff

	// MaxAttempts is how many reconnect attempts in a row may fail before the client gives
	// up (Err then returns an error wrapping ErrGaveUp). Default: 0, no limit.
	MaxAttempts int

	// HandshakeTimeout bounds each connection attempt (TCP, TLS, the upgrade and the
	// server's first frame, which a chatwire server sends at once: the welcome frame, or a
	// refusal). A server that sends nothing first (not a chatwire server) fails the attempt
	// after it. Default: 10s.
	HandshakeTimeout time.Duration

	// WriteTimeout bounds each frame write; a connection that does not take a frame in
	// time is treated as dead. Default: 10s.
	WriteTimeout time.Duration

	// IdleTimeout is how long a connection may go without receiving anything (a
	// heartbeat, a ping or an envelope) before the client drops it and reconnects.
	// Default: 70s (a chatwire server sends a heartbeat every 30s by default). A negative
	// value disables the check.
	IdleTimeout time.Duration

	// ReadLimit is the largest frame, in bytes, the client accepts; a larger one ends the
	// connection (the client reconnects). Default: 16 MiB.
	ReadLimit int64

	// EventBuffer is the capacity of the Events channel. Default: 64.
	EventBuffer int

	// DedupeWindow is how many envelope ids the client remembers to drop duplicates.
	// Default: 5000 (a server retains 100 messages per session by default).
	DedupeWindow int

	// TLSConfig is used for wss:// URLs. Default: nil, the crypto/tls defaults.
	TLSConfig *tls.Config

	// NetDialContext dials the TCP connection. Default: nil, a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger receives connection diagnostics (never message contents or headers).
	// Default: nil, which discards everything.
	Logger *slog.Logger
}

// withDefaults returns a copy of o with every zero field set to its default.
func (o Options) withDefaults() Options {
	o.Header = o.Header.Clone()
	o.Backoff = o.Backoff.withDefaults()
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Backoff computes the waits between reconnect attempts: exponential growth from Min,
// capped at Max, with full jitter (each wait is uniformly random between zero and the cap,
// so clients cut off together do not come back together). The zero value is ready to use.
type Backoff struct {
	// Min is the cap of the first wait. Default: 250ms.
	Min time.Duration
	// Max is the largest cap, reached after a few attempts. Default: 30s; a Max below Min
	// is raised to Min.
	Max time.Duration
	// Rand returns a random number in [0, 1); values outside are clamped. It is called
	// from one goroutine at a time. Default: math/rand/v2.Float64.
	Rand func() float64
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = DefaultMinBackoff
	}
	if b.Max <= 0 {
		b.Max = DefaultMaxBackoff
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Cap returns the upper bound of the wait before attempt n (0 for the first attempt after a
// connection ended): min(Max, Min·2ⁿ). Negative n counts as 0.
func (b Backoff) Cap(n int) time.Duration {
	b = b.withDefaults()
	c := b.Min
	for i := 0; i < n && c < b.Max; i++ {
		c *= 2
		if c <= 0 { // overflow
			return b.Max
		}
	}
	return min(c, b.Max)
}

// Delay returns the wait before attempt n: Rand() × Cap(n), a value in [0, Cap(n)).
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	r := b.Rand()
	if !(r >= 0) { // also catches NaN
		r = 0
	}
	c := b.Cap(n)
	f := r * float64(c)
	if f >= float64(c) {
		return c - 1
	}
	return time.Duration(f)
}
