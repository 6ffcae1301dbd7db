package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/chatwire/chatwire/storage"
)

// commandTimeout bounds one pub/sub command sent by the command worker (including a redial).
const commandTimeout = 5 * time.Second

// errConnLost tells a Subscribe waiting for its confirmation that the pub/sub connection
// was lost or replaced before the confirmation arrived; it asks again on the new connection.
var errConnLost = errors.New("pub/sub connection lost")

// errClosed is returned by Subscribe after Close.
var errClosed = fmt.Errorf("redisstore: store closed: %w", storage.ErrStoreUnavailable)

// topic is the set of local subscribers of one session's channel.
type topic struct {
	sessionID string // whose keys keepAlive refreshes; "" for a directory channel
	subs      map[*subscriber]struct{}
	// confirmed is set by the first subscribe confirmation; any later one means the channel
	// was subscribed again on a new connection, so messages may have been missed.
	confirmed bool
}

// subscriber is one Subscribe call. mu is held while fn runs, so cancel can wait for it.
type subscriber struct {
	mu       sync.Mutex
	fn       func(storage.Notification)
	canceled bool
}

func (sub *subscriber) deliver(n storage.Notification) {
	sub.mu.Lock()
	if !sub.canceled {
		sub.fn(n)
	}
	sub.mu.Unlock()
}

// command is a pub/sub command for the command worker: SUBSCRIBE or UNSUBSCRIBE channel
// (when set), then PING token (when set), whose answer confirms everything sent before it.
type command struct {
	subscribe bool
	channel   string
	token     string
}

// Subscribe implements storage.Store. The first local subscriber of a session adds the session's
// channel to the Store's one pub/sub connection (plain SUBSCRIBE, also on a cluster).
// Subscribe returns once Redis has processed that SUBSCRIBE — one round trip on the pub/sub
// connection and no other command — so every record appended afterwards is delivered unless
// the connection is lost, which is reported with a Resync notification. On a cluster,
// records appended shortly before Subscribe may be delivered too (PUBLISH reaches other
// nodes over the cluster bus); subscribers skip sequences they have.
//
// fn is called from one of the Store's delivery workers: the notifications of one session
// always from the same worker, in order, and those of different sessions in parallel. fn
// must return quickly. After the pub/sub connection is re-established following a failure,
// every subscriber gets storage.Notification{Resync: true}. cancel is idempotent, waits for a
// running fn and never waits for Redis; it unsubscribes the channel (in the background)
// when the last local subscriber of the session leaves. It must not be called from inside
// fn.
func (s *Store) Subscribe(ctx context.Context, sessionID string, fn func(storage.Notification)) (func(), error) {
	if err := check(ctx, "subscribe", sessionID); err != nil {
		return nil, err
	}
	k := s.opts.keysFor(sessionID)
	sub := &subscriber{fn: fn}
	if err := s.addSubscriber(ctx, k.channel, sessionID, sub); err != nil {
		s.removeSubscriber(k.channel, sub)
		return nil, err
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

// addSubscriber registers sub and waits until Redis has processed the SUBSCRIBE for its
// channel: a PING with a unique payload follows it on the pub/sub connection, and Redis
// answers the commands of one connection in order.
func (s *Store) addSubscriber(ctx context.Context, channel, sessionID string, sub *subscriber) error {
	retry := false
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return errClosed
		}
		cmd := command{}
		if !retry {
			t := s.topics[channel]
			if t == nil {
				t = &topic{sessionID: sessionID, subs: make(map[*subscriber]struct{})}
				s.topics[channel] = t
				cmd.subscribe, cmd.channel = true, channel
			}
			t.subs[sub] = struct{}{}
		}
		// A retry needs no SUBSCRIBE: go-redis resubscribes every channel it knows when it
		// redials, and replacePubSub subscribes every registered channel.
		s.pingSeq++
		cmd.token = "chatwire-sub-" + strconv.FormatUint(s.pingSeq, 10)
		done := make(chan error, 1)
		s.pings[cmd.token] = done
		s.enqueueLocked(cmd)
		s.mu.Unlock()

		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
			s.endPings(cmd.token, err) // forget the token
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errConnLost) && ctx.Err() == nil:
			retry = true
			continue
		case errors.Is(err, errClosed):
			return err
		}
		return fail(ctx, "subscribe", sessionID, err)
	}
}

// removeSubscriber forgets sub and queues an UNSUBSCRIBE when it was the channel's last.
func (s *Store) removeSubscriber(channel string, sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[channel]
	if t == nil {
		return
	}
	delete(t.subs, sub)
	if len(t.subs) == 0 {
		delete(s.topics, channel)
		if !s.closed {
			s.enqueueLocked(command{channel: channel})
		}
	}
}

// enqueueLocked queues cmd for the command worker; s.mu is held.
func (s *Store) enqueueLocked(cmd command) {
	s.queue = append(s.queue, cmd)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// endPings settles waiting pings: the one named token when token is set, else all of them.
func (s *Store) endPings(token string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, ch := range s.pings {
		if token == "" || t == token {
			ch <- err
			delete(s.pings, t)
		}
	}
}

// commandLoop sends the queued pub/sub commands in order. It runs apart from Subscribe and
// cancel so that neither waits for go-redis, which holds the pub/sub connection's lock
// while it redials.
func (s *Store) commandLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		cmd := s.queue[0]
		s.queue[0] = command{}
		s.queue = s.queue[1:]
		ps := s.ps
		s.mu.Unlock()

		ctx, cancel := context.WithTimeout(s.ctx, commandTimeout)
		var err error
		switch {
		case cmd.channel != "" && cmd.subscribe:
			err = ps.Subscribe(ctx, cmd.channel)
		case cmd.channel != "":
			// go-redis forgets the channel even if this fails, so no redial resubscribes it;
			// messages for channels without subscribers are ignored anyway.
			_ = ps.Unsubscribe(ctx, cmd.channel)
		}
		if cmd.token != "" && err == nil {
			err = ps.Ping(ctx, cmd.token)
		}
		cancel()
		if cmd.token != "" && err != nil {
			s.mu.Lock()
			replaced := s.ps != ps
			s.mu.Unlock()
			if replaced || s.ctx.Err() != nil {
				err = errConnLost // answered by the reader's Resync path or Close
			}
			s.endPings(cmd.token, err)
		}
	}
}
