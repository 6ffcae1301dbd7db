package redisstore

import (
	"fmt"
	"strings"
	"time"
)

// Defaults used for zero Options fields.
const (
	// DefaultPrefix starts every key and channel name.
	DefaultPrefix = "chatwire:"
	// DefaultSessionTTL is how long an idle session's keys live after its last append.
	DefaultSessionTTL = 24 * time.Hour
	// DefaultPingInterval is how long the pub/sub connection may stay silent before it is
	// pinged; a second silent interval in a row counts as a lost connection.
	DefaultPingInterval = 30 * time.Second
)

// Options configures a Store. The zero value is ready to use: every zero field means the
// default its comment states. New copies the struct and never modifies it.
type Options struct {
	// Prefix starts every key and channel name, so that several applications (or tests) can
	// share one Redis. Default DefaultPrefix ("chatwire:"). It must not contain '{' or '}',
	// which would break the hash tags that keep a session's keys in one cluster slot.
	Prefix string

	// SessionTTL is how long a session's keys (history and its state) live at least after
	// its last Append. Appends refresh the expiry (to 1.25×SessionTTL) at most every
	// SessionTTL/4, so the keys live between SessionTTL and 1.25×SessionTTL after the last
	// append; Join (a connection joining the session) refreshes it too, and while a Store
	// has a local subscriber for a session it refreshes the keys every SessionTTL/3. Read
	// and Lookup do not refresh it. When the keys expire the session's history is gone: the
	// next append starts a new epoch at sequence 1. Default DefaultSessionTTL (24h); a
	// negative value means the keys never expire.
	SessionTTL time.Duration

	// PingInterval is how long the pub/sub connection may stay silent before the Store pings
	// it; if the next interval passes silently too, the connection is dropped and replaced
	// (every subscriber then gets a Resync notification). This detects half-open TCP
	// connections that would otherwise block delivery forever. Default DefaultPingInterval
	// (30s). Values below 100ms are raised to 100ms.
	PingInterval time.Duration
}

// resolved are the effective settings.
type resolved struct {
	prefix       string
	ttl          time.Duration // <= 0: never expire
	pingInterval time.Duration
}

func resolve(o Options) (resolved, error) {
	r := resolved{prefix: o.Prefix, ttl: o.SessionTTL, pingInterval: o.PingInterval}
	if r.prefix == "" {
		r.prefix = DefaultPrefix
	}
	if strings.ContainsAny(r.prefix, "{}") {
		return resolved{}, fmt.Errorf("redisstore: Options.Prefix %q must not contain '{' or '}'", r.prefix)
	}
	if r.ttl == 0 {
		r.ttl = DefaultSessionTTL
	}
	switch {
	case r.pingInterval == 0:
		r.pingInterval = DefaultPingInterval
	case r.pingInterval < 100*time.Millisecond:
		r.pingInterval = 100 * time.Millisecond
	}
	return r, nil
}

// keys are the Redis names of one session. The session id sits in a hash tag, so all of
// them map to one cluster slot and one script may use them together.
type keys struct {
	// stream is the history, meta its state and id index (see script.go), channel the
	// pub/sub channel.
	stream, meta, channel string
	// base is "<prefix>{<sessionID>}:", the start of every name above; streams is the set
	// of running stream ids, whose state keys are streamKeys' (see stream.go).
	base, streams string
}

func (r *resolved) keysFor(sessionID string) keys {
	base := r.prefix + "{" + sessionID + "}:"
	return keys{stream: base + "stream", meta: base + "meta", channel: base + "live",
		base: base, streams: base + "streams"}
}

// streamKeys returns the state keys of one running stream: a hash {seq, started,
// deadline} and a string with the text so far. streamID must be valid (validStreamID).
func (k keys) streamKeys(streamID string) (state, text string) {
	return k.base + "st:" + streamID, k.base + "text:" + streamID
}

// ttlMillis is the TTL argument of the scripts: 0 means no expiry.
func (r *resolved) ttlMillis() int64 {
	if r.ttl <= 0 {
		return 0
	}
	return max(r.ttl.Milliseconds(), 1)
}
