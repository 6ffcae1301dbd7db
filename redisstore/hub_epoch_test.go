package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/redisstore"
)

// epochClient is one WebSocket client of the epoch tests: it records every chat message id
// it ever received and every HISTORY_RESET, and, as a writer, which of its own messages
// came back (were acknowledged).
type epochClient struct {
	name string
	c    *adaptertest.Client

	mu     sync.Mutex
	seen   map[string]bool
	resets int
	epochs []string
	acked  map[string]time.Time // own messages that came back
	sentAt map[string]time.Time // own messages not acknowledged yet
	done   chan struct{}
}

func dialEpochClient(t *testing.T, name, endpoint string, q url.Values) *epochClient {
	c := &epochClient{name: name, c: adaptertest.DialJoined(t, endpoint, q, nil), seen: map[string]bool{},
		acked: map[string]time.Time{}, sentAt: map[string]time.Time{}, done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { _ = c.c.Conn.Close(); <-c.done })
	return c
}

func (c *epochClient) readLoop() {
	defer close(c.done)
	for {
		_ = c.c.Conn.SetReadDeadline(time.Now().Add(time.Minute))
		_, b, err := c.c.Conn.ReadMessage()
		if err != nil {
			return
		}
		var m core.Message
		if err := envelope.Decode(b, &m); err != nil {
			continue // heartbeats
		}
		c.mu.Lock()
		switch {
		case m.Type == core.TypeSystem && core.ErrorCode(metaField(m, "code")) == core.CodeHistoryReset:
			c.resets++
			c.epochs = append(c.epochs, metaField(m, "epoch"))
		case m.Type == core.TypeMessage:
			c.seen[m.ID] = true
			if _, ok := c.sentAt[m.ID]; ok {
				delete(c.sentAt, m.ID)
				c.acked[m.ID] = time.Now()
			}
		}
		c.mu.Unlock()
	}
}

func metaField(m core.Message, key string) string {
	var v map[string]any
	_ = json.Unmarshal(m.Metadata, &v)
	s, _ := v[key].(string)
	return s
}

// send writes message id (again, when it was not acknowledged); a write error ends the
// test's traffic for this client.
func (c *epochClient) send(id string) error {
	c.mu.Lock()
	c.sentAt[id] = time.Now()
	c.mu.Unlock()
	m := core.Message{ID: id, Type: core.TypeMessage, Content: "text " + id}
	_ = c.c.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.c.Conn.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m))
}

// stale returns own messages sent more than d ago that did not come back.
func (c *epochClient) stale(d time.Duration) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id, at := range c.sentAt {
		if time.Since(at) > d {
			out = append(out, id)
		}
	}
	return out
}

func (c *epochClient) state() (resets int, missing func(ids []string) []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets, func(ids []string) []string {
		c.mu.Lock()
		defer c.mu.Unlock()
		var out []string
		for _, id := range ids {
			if !c.seen[id] {
				out = append(out, id)
			}
		}
		return out
	}
}

// writeTraffic sends rate messages per second from each writer until stop is closed,
// resending what was not acknowledged within 500 ms (a STORE_UNAVAILABLE answer, or a
// message lost with the history), as a client does.
func writeTraffic(writers []*epochClient, rate int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if err := w.send(fmt.Sprintf("%s-%05d", w.name, i)); err != nil {
					return
				}
				if i%50 == 0 {
					for _, id := range w.stale(500 * time.Millisecond) {
						if w.send(id) != nil {
							return
						}
					}
				}
			}
		}()
	}
	return &wg
}

// epochScenario runs two hubs on one Redis (each with its own Store and client) with two
// readers and a writer on each, while the writers carry about 500 messages a second in
// total, and calls lose several times: each time the history is lost (Redis restarted
// empty, FLUSHALL). Every client must be told of every reset, and every message
// acknowledged to its writer — before or after a reset — must have reached every client.
func epochScenario(t *testing.T, newClient func() *redis.Client, rounds int, lose func(round int)) {
	prefix := uniquePrefix(t, newClient())
	var urls [2]string
	for i := range urls {
		st := newStore(t, newClient(), redisstore.Options{Prefix: prefix})
		// A reset re-sends the whole new history (up to 1,000 records) to every
		// connection as a replay; until replay frames stop counting against the send
		// queue (branch perf), the queue must hold it, or the catch-up closes readers 1008.
		h := core.NewHub(core.Options{Store: st, MaxStoredMessages: 1000, StoreTimeout: 2 * time.Second, SendQueueSize: 8192})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := h.Shutdown(ctx); err != nil {
				t.Errorf("hub shutdown: %v", err)
			}
		})
		urls[i] = mountWS(t, h, adaptertest.Config{})
	}
	q := url.Values{"sessionId": {"epochs"}}
	var clients, writers []*epochClient
	for i, u := range urls {
		for j := range 2 {
			clients = append(clients, dialEpochClient(t, fmt.Sprintf("reader-%d-%d", i, j), u, q))
		}
		w := dialEpochClient(t, fmt.Sprintf("writer-%d", i), u, q)
		clients = append(clients, w)
		writers = append(writers, w)
	}
	stop := make(chan struct{})
	traffic := writeTraffic(writers, 250, stop)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		traffic.Wait()
	}()

	waitAcks := func(after int) {
		t.Helper()
		eventually(t, "new messages to be acknowledged", func() bool {
			for _, w := range writers {
				w.mu.Lock()
				n := len(w.acked)
				w.mu.Unlock()
				if n < after {
					return false
				}
			}
			return true
		})
	}
	acks := 0
	for round := 1; round <= rounds; round++ {
		acks += 100
		waitAcks(acks) // traffic flows in this epoch
		lose(round)
		eventually(t, fmt.Sprintf("every client to be told of reset %d", round), func() bool {
			for _, c := range clients {
				if r, _ := c.state(); r < round {
					return false
				}
			}
			return true
		})
		acks += 100
		waitAcks(acks) // and again after the reset
	}
	close(stop)
	traffic.Wait()

	var acked []string
	for _, w := range writers {
		w.mu.Lock()
		for id := range w.acked {
			acked = append(acked, id)
		}
		w.mu.Unlock()
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, c := range clients {
		resets, missing := c.state()
		if resets < rounds {
			t.Errorf("%s was told of %d resets, want %d", c.name, resets, rounds)
		}
		for {
			m := missing(acked)
			if len(m) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s never received %d of %d acknowledged messages, e.g. %v", c.name, len(m), len(acked), m[:min(5, len(m))])
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("%d rounds, %d messages acknowledged, every client got each and every reset", rounds, len(acked))
}

// TestHubRedisRestartedEmpty: a redis-server without persistence is killed and started
// again (empty) three times while two hubs carry traffic.
func TestHubRedisRestartedEmpty(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	epochScenario(t, newClient, 3, func(int) {
		srv.kill()
		time.Sleep(50 * time.Millisecond) // some sends fail meanwhile
		srv.start()
	})
}

// TestHubFlushAll: FLUSHALL while two hubs carry traffic; the pub/sub connections stay up,
// so the new epoch is noticed from the notifications alone.
func TestHubFlushAll(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr()})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	admin := newClient()
	epochScenario(t, newClient, 2, func(int) {
		if err := admin.FlushAll(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestHubExpiryThenRecreation: a session's keys expire after everyone left (SessionTTL
// 1 s on a real redis-server), then it is used again. A client coming back with its
// lastMessageId and the epoch it knew is told HISTORY_RESET, then gets the new history.
func TestHubExpiryThenRecreation(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	st := newStore(t, client, redisstore.Options{Prefix: uniquePrefix(t, client), SessionTTL: time.Second})
	u := mountWS(t, newTestHub(t, st), adaptertest.Config{})
	q := url.Values{"sessionId": {"expiring"}}
	old := adaptertest.DialJoined(t, u, q, nil)
	old.Send(core.Message{ID: "old-1", Type: core.TypeMessage, Content: "before"})
	if m := old.Read(); m.ID != "old-1" {
		t.Fatalf("got %+v", m)
	}
	page, err := st.Read(context.Background(), "expiring", 0)
	if err != nil || page.Epoch == "" {
		t.Fatalf("Read = %+v, %v", page, err)
	}
	oldEpoch := page.Epoch
	_ = old.Conn.Close()
	eventually(t, "the session's keys to expire", func() bool {
		p, err := st.Read(context.Background(), "expiring", 0)
		return err == nil && p.Head == 0
	})
	fresh := adaptertest.DialJoined(t, u, q, nil)
	fresh.Send(core.Message{ID: "new-1", Type: core.TypeMessage, Content: "after"})
	if m := fresh.Read(); m.ID != "new-1" {
		t.Fatalf("got %+v", m)
	}
	q.Set("lastMessageId", "old-1")
	q.Set("epoch", oldEpoch)
	back := adaptertest.Dial(t, u, q, nil)
	got := back.ReadN(2)
	if got[0].Type != core.TypeSystem || core.ErrorCode(metaField(got[0], "code")) != core.CodeHistoryReset || metaField(got[0], "epoch") == oldEpoch {
		t.Fatalf("first frame %+v (%s), want HISTORY_RESET with the new epoch", got[0], got[0].Metadata)
	}
	if got[1].ID != "new-1" {
		t.Fatalf("after the reset got %+v, want the new history (new-1)", got[1])
	}
}

// TestHubRedisRestoredFromOlderSnapshot: Redis comes back from an RDB snapshot taken a
// moment before it was killed, as after a failover to a replica that lagged: the session
// keeps its epoch but its history went back. Hubs notice when they catch up after the
// reconnect (the record at their cursor is gone or another one) and reset every client.
func TestHubRedisRestoredFromOlderSnapshot(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	epochScenario(t, newClient, 2, func(int) {
		admin := redis.NewClient(&redis.Options{Addr: srv.addr()})
		err := admin.Save(context.Background()).Err()
		_ = admin.Close()
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // about 100 more messages, not in the snapshot
		srv.kill()
		srv.start()
	})
}

// TestHubNoticesResetOnJoin: FLUSHALL while nothing is sent: no notification tells the hub.
// The next connection to join reads the session's new (empty) epoch, and the hub resets the
// session: the connected client is told, and the next message reaches both.
func TestHubNoticesResetOnJoin(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	client := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = client.Close() })
	st := newStore(t, client, redisstore.Options{Prefix: uniquePrefix(t, client)})
	u := mountWS(t, newTestHub(t, st), adaptertest.Config{})
	q := url.Values{"sessionId": {"quiet"}}
	a := adaptertest.DialJoined(t, u, q, nil)
	for _, id := range []string{"q-1", "q-2"} {
		a.Send(core.Message{ID: id, Type: core.TypeMessage, Content: id})
		if m := a.Read(); m.ID != id {
			t.Fatalf("got %+v, want %s", m, id)
		}
	}
	if err := client.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	b := adaptertest.DialJoined(t, u, q, nil)
	if m := a.Read(); m.Type != core.TypeSystem || core.ErrorCode(metaField(m, "code")) != core.CodeHistoryReset {
		t.Fatalf("connected client got %+v (%s), want HISTORY_RESET", m, m.Metadata)
	}
	b.Send(core.Message{ID: "q-3", Type: core.TypeMessage, Content: "after"})
	for name, c := range map[string]*adaptertest.Client{"a": a, "b": b} {
		for {
			m := c.Read()
			if m.Type == core.TypeSystem {
				continue // b may be told of the reset too
			}
			if m.ID != "q-3" {
				t.Fatalf("%s got %+v, want q-3", name, m)
			}
			break
		}
	}
}
