package redisstore

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds of the wait between attempts to re-establish the pub/sub connection.
const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = time.Second
)

// healthToken is the payload of the reader's own health-check pings.
const healthToken = "chatwire-health"

// readLoop is the only reader of the pub/sub connection. It dispatches messages, settles
// Subscribe's pings, checks the connection's health, and sends Resync to a channel's
// subscribers whenever the channel is subscribed again on a new connection (after go-redis
// redialled, or after replacePubSub), which is exactly when messages may have been lost.
// Nothing is dropped silently (go-redis's Channel, which drops messages when the reader
// stalls, is not used).
func (s *Store) readLoop() {
	defer s.wg.Done()
	defer s.stopWorkers()
	pingSent := false
	backoff := minBackoff
	var batch []*subscriber
	for {
		s.mu.Lock()
		ps := s.ps
		s.mu.Unlock()
		msg, err := ps.ReceiveTimeout(s.ctx, s.opts.pingInterval)
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				if !pingSent {
					pingSent = true
					_ = ps.Ping(s.ctx, healthToken) // a failure shows in the next receive
					continue
				}
				// Two silent intervals in a row: the connection is presumed dead (half-open).
				s.replacePubSub()
			}
			// go-redis has dropped the broken connection and redials (resubscribing every
			// channel it knows) on the next receive. Pings sent on it are never answered.
			pingSent = false
			s.endPings("", errConnLost)
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-s.ctx.Done():
				timer.Stop()
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, pingSent = minBackoff, false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			// From this confirmation on nothing published to the channel is missed; a
			// repeated one means a new connection: its subscribers read what they missed.
			batch = s.resubscribed(batch[:0], m.Channel)
			if len(batch) > 0 {
				s.dispatch(delivery{channel: m.Channel, resync: true})
			}
			clear(batch) // keep no canceled subscriber reachable
		case *redis.Message:
			s.dispatch(delivery{channel: m.Channel, payload: m.Payload})
		case *redis.Pong:
			if m.Payload != healthToken {
				s.endPings(m.Payload, nil)
			}
		}
	}
}

// subscribers appends the subscribers of channel to dst.
func (s *Store) subscribers(dst []*subscriber, channel string) []*subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.topics[channel]; t != nil {
		for sub := range t.subs {
			dst = append(dst, sub)
		}
	}
	return dst
}

// resubscribed records a subscribe confirmation for channel. For the channel's first one it
// returns dst unchanged; for a repeated one it appends the channel's subscribers.
func (s *Store) resubscribed(dst []*subscriber, channel string) []*subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[channel]
	if t == nil {
		return dst
	}
	if !t.confirmed {
		t.confirmed = true
		return dst
	}
	for sub := range t.subs {
		dst = append(dst, sub)
	}
	return dst
}

// replacePubSub swaps the pub/sub connection for a new one subscribed to every registered
// channel. Commands the worker sends meanwhile may reach either connection; whatever a
// subscriber misses in that window is covered by the Resync that follows the replacement.
func (s *Store) replacePubSub() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	old := s.ps
	s.ps = s.client.Subscribe(s.ctx)
	ps := s.ps
	channels := make([]string, 0, len(s.topics))
	for ch := range s.topics {
		channels = append(channels, ch)
	}
	s.mu.Unlock()
	_ = old.Close()
	if len(channels) > 0 {
		ctx, cancel := context.WithTimeout(s.ctx, commandTimeout)
		// Even if this fails, go-redis remembers the channels and subscribes on redial.
		_ = ps.Subscribe(ctx, channels...)
		cancel()
	}
}

// touchKeys queues PEXPIREs refreshing the TTL of one session's keys on p. The state keys of
// running streams are refreshed by their producer's StreamAppend calls instead.
func (s *Store) touchKeys(ctx context.Context, p redis.Pipeliner, k keys) {
	if ttl := time.Duration(s.opts.ttlMillis()) * time.Millisecond; ttl > 0 {
		ttl += ttl / 4 // as the scripts do
		p.PExpire(ctx, k.stream, ttl)
		p.PExpire(ctx, k.meta, ttl)
		p.PExpire(ctx, k.streams, ttl)
	}
}

// keepAlive refreshes the TTL of every session with a local subscriber every TTL/3, so a
// watched but quiet session does not expire (and restart its sequence numbers).
func (s *Store) keepAlive() {
	defer s.wg.Done()
	ticker := time.NewTicker(max(s.opts.ttl/3, time.Second))
	defer ticker.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-ticker.C:
		}
		s.mu.Lock()
		sids := make([]string, 0, len(s.topics))
		for _, t := range s.topics {
			if t.sessionID != "" {
				sids = append(sids, t.sessionID)
			}
		}
		s.mu.Unlock()
		if len(sids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, commandTimeout)
		// Best effort; the next tick tries again.
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, sid := range sids {
				s.touchKeys(ctx, p, s.opts.keysFor(sid))
			}
			return nil
		})
		cancel()
	}
}
