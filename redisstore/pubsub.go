package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
)

// maxBackoff bounds the wait between attempts to re-establish the pub/sub connection.
const maxBackoff = time.Second

// unsubscribeTimeout bounds the UNSUBSCRIBE that a cancel function sends.
const unsubscribeTimeout = time.Second

// errConnLost tells a Subscribe waiting for its confirmation that the pub/sub connection
// was lost before the confirmation arrived; it retries on the new connection.
var errConnLost = errors.New("pub/sub connection lost")

// errClosed is returned by Subscribe after Close.
var errClosed = fmt.Errorf("redisstore: store closed: %w", core.ErrStoreUnavailable)

// topic is the set of local subscribers of one session's channel.
type topic struct {
	sessionID string
	subs      map[*subscriber]struct{}
}

// subscriber is one Subscribe call. mu is held while fn runs, so cancel can wait for it.
type subscriber struct {
	mu       sync.Mutex
	fn       func(core.Notification)
	canceled bool
}

func (sub *subscriber) deliver(n core.Notification) {
	sub.mu.Lock()
	if !sub.canceled {
		sub.fn(n)
	}
	sub.mu.Unlock()
}

// Subscribe implements core.Store. The first local subscriber of a session adds the session's
// channel to the Store's pub/sub connection (plain SUBSCRIBE, also on a cluster); Subscribe
// returns once Redis has confirmed it, so every record appended afterwards is delivered
// (unless the connection is lost, which is reported with a Resync notification). It also
// refreshes the session's TTL. fn is called from the Store's reader goroutine, one
// notification at a time for the whole Store: it must return quickly. When the pub/sub
// connection is re-established after a failure, every subscriber gets
// core.Notification{Resync: true}. cancel is idempotent, waits for a running fn, and
// unsubscribes the channel when the last local subscriber of the session leaves; it must
// not be called from inside fn.
func (s *Store) Subscribe(ctx context.Context, sessionID string, fn func(core.Notification)) (func(), error) {
	if err := check(ctx, "subscribe", sessionID); err != nil {
		return nil, err
	}
	k := s.opts.keysFor(sessionID)
	sub := &subscriber{fn: fn}
	if err := s.addSubscriber(ctx, k.channel, sessionID, sub); err != nil {
		s.removeSubscriber(k.channel, sub)
		return nil, err
	}
	if err := s.touch(ctx, sessionID); err != nil {
		s.removeSubscriber(k.channel, sub)
		return nil, fail(ctx, "subscribe", sessionID, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			sub.mu.Lock()
			sub.canceled = true
			sub.mu.Unlock()
			s.removeSubscriber(k.channel, sub)
		})
	}, nil
}

// addSubscriber registers sub and waits until the server has processed the SUBSCRIBE for
// its channel: it sends a PING with a unique payload on the pub/sub connection after the
// SUBSCRIBE, and Redis answers commands of one connection in order.
func (s *Store) addSubscriber(ctx context.Context, channel, sessionID string, sub *subscriber) error {
	for {
		token, done := s.newPing()
		s.cmdMu.Lock()
		if s.closed {
			s.cmdMu.Unlock()
			s.dropPing(token)
			return errClosed
		}
		s.mu.Lock()
		t := s.topics[channel]
		first := t == nil
		if first {
			t = &topic{sessionID: sessionID, subs: make(map[*subscriber]struct{})}
			s.topics[channel] = t
		}
		t.subs[sub] = struct{}{}
		s.mu.Unlock()
		// Only the first subscriber sends SUBSCRIBE. A retry after a lost connection needs
		// none either: go-redis resubscribes every channel it knows when it redials, and
		// replacePubSub subscribes every registered channel.
		var err error
		if first {
			err = s.ps.Subscribe(ctx, channel)
		}
		if err == nil {
			err = s.ps.Ping(ctx, token)
		}
		s.cmdMu.Unlock()
		if err == nil {
			select {
			case err = <-done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		s.dropPing(token)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errConnLost) && ctx.Err() == nil:
			continue
		case errors.Is(err, errClosed):
			return err
		}
		return fail(ctx, "subscribe", sessionID, err)
	}
}

// removeSubscriber forgets sub and unsubscribes the channel when it was the last one.
func (s *Store) removeSubscriber(channel string, sub *subscriber) {
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	s.mu.Lock()
	t := s.topics[channel]
	last := false
	if t != nil {
		delete(t.subs, sub)
		if len(t.subs) == 0 {
			delete(s.topics, channel)
			last = true
		}
	}
	s.mu.Unlock()
	if last && !s.closed {
		ctx, cancel := context.WithTimeout(s.ctx, unsubscribeTimeout)
		// go-redis forgets the channel even if the command fails, so a reconnect will not
		// resubscribe it; stray messages for unknown channels are ignored anyway.
		_ = s.ps.Unsubscribe(ctx, channel)
		cancel()
	}
}

func (s *Store) newPing() (string, chan error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingSeq++
	token := "chatwire-sub-" + strconv.FormatUint(s.pingSeq, 10)
	ch := make(chan error, 1)
	s.pings[token] = ch
	return token, ch
}

func (s *Store) dropPing(token string) {
	s.mu.Lock()
	delete(s.pings, token)
	s.mu.Unlock()
}

// endPings answers every waiting ping: with nil for token (when set), or with err for all.
func (s *Store) endPings(token string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != "" {
		if ch, ok := s.pings[token]; ok {
			ch <- nil
			delete(s.pings, token)
		}
		return
	}
	for t, ch := range s.pings {
		ch <- err
		delete(s.pings, t)
	}
}

// readLoop is the only reader of the pub/sub connection. It dispatches messages, answers
// Subscribe's pings, checks the connection's health, and sends Resync to every subscriber
// once the connection works again after an error. It never drops a message silently:
// messages lost while disconnected are covered by the Resync.
func (s *Store) readLoop() {
	defer s.wg.Done()
	lost, pingSent := false, false
	backoff := 10 * time.Millisecond
	var batch []*subscriber
	for {
		s.cmdMu.Lock()
		ps := s.ps
		s.cmdMu.Unlock()
		msg, err := ps.ReceiveTimeout(s.ctx, s.opts.pingInterval)
		if s.ctx.Err() != nil {
			s.endPings("", errClosed)
			return
		}
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				if !pingSent {
					pingSent = true
					_ = ps.Ping(s.ctx, "chatwire-health") // a failure shows in the next receive
					continue
				}
				// Two silent intervals: the connection is presumed dead (half-open).
				s.replacePubSub()
			}
			// go-redis has closed the broken connection; it redials (and resubscribes every
			// channel) on the next receive. Waiting pings will never be answered.
			lost, pingSent = true, false
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
		backoff, pingSent = 10*time.Millisecond, false
		if lost {
			// The first reply on a new connection follows its resubscription, so from here
			// on nothing is missed: tell every subscriber to read what it may have missed.
			lost = false
			batch = s.subscribers(batch[:0], "")
			for _, sub := range batch {
				sub.deliver(core.Notification{Resync: true})
			}
		}
		switch m := msg.(type) {
		case *redis.Message:
			batch = s.subscribers(batch[:0], m.Channel)
			if len(batch) == 0 {
				continue
			}
			n := core.Notification{Resync: true} // an undecodable payload: read it instead
			if rec, err := decodePayload(m.Payload); err == nil {
				n = core.Notification{Record: rec}
			}
			for _, sub := range batch {
				sub.deliver(n)
			}
		case *redis.Pong:
			s.endPings(m.Payload, nil)
		}
		clear(batch) // do not keep canceled subscribers reachable
	}
}

// subscribers appends the subscribers of channel (of every channel if it is "") to dst.
func (s *Store) subscribers(dst []*subscriber, channel string) []*subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch, t := range s.topics {
		if channel == "" || ch == channel {
			for sub := range t.subs {
				dst = append(dst, sub)
			}
		}
	}
	return dst
}

// replacePubSub swaps the pub/sub connection for a new one subscribed to every channel.
func (s *Store) replacePubSub() {
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	if s.closed {
		return
	}
	_ = s.ps.Close()
	s.ps = s.client.Subscribe(s.ctx)
	s.mu.Lock()
	channels := make([]string, 0, len(s.topics))
	for ch := range s.topics {
		channels = append(channels, ch)
	}
	s.mu.Unlock()
	if len(channels) > 0 {
		// Even if this fails, go-redis remembers the channels and subscribes on redial.
		_ = s.ps.Subscribe(s.ctx, channels...)
	}
}

// touch refreshes the TTL of one session's keys.
func (s *Store) touch(ctx context.Context, sessionIDs ...string) error {
	ttl := s.opts.ttlMillis()
	if ttl == 0 || len(sessionIDs) == 0 {
		return nil
	}
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, sid := range sessionIDs {
			k := s.opts.keysFor(sid)
			for _, key := range []string{k.stream, k.seq, k.ids} {
				p.PExpire(ctx, key, time.Duration(ttl)*time.Millisecond)
			}
		}
		return nil
	})
	return err
}

// keepAlive refreshes the TTL of every session with a local subscriber every TTL/3, so a
// watched session does not expire (and restart its sequence) while it is quiet.
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
			sids = append(sids, t.sessionID)
		}
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.pingInterval)
		_ = s.touch(ctx, sids...) // best effort; the next tick tries again
		cancel()
	}
}
