package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// mountWS serves hub with wshttp on a test server, as adapters/wshttp's tests do.
func mountWS(t *testing.T, hub *core.Hub, cfg adaptertest.Config) string {
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{AllowedOrigins: cfg.AllowedOrigins, AllowedHosts: cfg.AllowedHosts}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
}

// runHubCluster runs the adaptertest two-instance cases with a Store per instance: its own
// client (so its own connections, pub/sub included) to one Redis, with one random prefix
// per case, as two processes would share a deployment. newClient returns a new client to
// the Redis of test t (the same one every time for the same t).
func runHubCluster(t *testing.T, newClient func(t *testing.T) redis.UniversalClient) {
	var mu sync.Mutex
	prefixes := map[*testing.T]string{}
	adaptertest.RunCluster(t, mountWS, func(t *testing.T, instance int) storage.Store {
		client := newClient(t)
		mu.Lock()
		prefix, ok := prefixes[t]
		if !ok {
			prefix = uniquePrefix(t, client)
			prefixes[t] = prefix
		}
		mu.Unlock()
		return newStore(t, client, redisstore.Options{Prefix: prefix})
	})
}

func TestHubClusterMiniredis(t *testing.T) {
	var mu sync.Mutex
	servers := map[*testing.T]string{}
	runHubCluster(t, func(t *testing.T) redis.UniversalClient {
		mu.Lock()
		addr, ok := servers[t]
		if !ok {
			mr, _ := newMiniredis(t)
			addr = mr.Addr()
			servers[t] = addr
		}
		mu.Unlock()
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = c.Close() })
		return c
	})
}

// TestHubClusterRedis runs the cases against the Redis at REDIS_URL.
func TestHubClusterRedis(t *testing.T) {
	realRedis(t) // skips (fails in CI) without REDIS_URL
	runHubCluster(t, func(t *testing.T) redis.UniversalClient { return realRedis(t) })
}

// resyncCounter counts the Resync notifications a hub's subscriptions receive.
type resyncCounter struct {
	storage.Store
	resyncs atomic.Int32
}

func (r *resyncCounter) Subscribe(ctx context.Context, sid string, fn func(storage.Notification)) (func(), error) {
	return r.Store.Subscribe(ctx, sid, func(n storage.Notification) {
		if n.Resync {
			r.resyncs.Add(1)
		}
		fn(n)
	})
}

// newTestHub returns a hub on store that is shut down when t ends.
func newTestHub(t *testing.T, store storage.Store) *core.Hub {
	h := core.NewHub(core.Options{Store: store, MaxStoredMessages: 1000, StoreTimeout: 2 * time.Second})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
	})
	return h
}

// wsReader reads the chat messages a client receives, in order, skipping heartbeats.
type wsReader struct {
	c *adaptertest.Client
}

// next returns the next envelope; a read error (close, or 5 s of silence) is returned.
func (r wsReader) next() (core.Message, error) {
	for {
		b, err := r.c.ReadFrame()
		if err != nil {
			return core.Message{}, err
		}
		var m core.Message
		err = envelope.Decode(b, &m)
		if errors.Is(err, envelope.ErrHeartbeat) {
			continue
		}
		return m, err
	}
}

// collect appends the ids of the chat messages received until the one with id last, and
// fails on anything else (an error or gap envelope, a read error).
func (r wsReader) collect(t *testing.T, ids []string, last string) []string {
	t.Helper()
	for {
		m, err := r.next()
		if err != nil {
			t.Fatalf("reading after %d messages: %v", len(ids), err)
		}
		if m.Type != core.TypeMessage {
			t.Fatalf("unexpected envelope after %d messages: %+v (%s)", len(ids), m, m.Metadata)
		}
		ids = append(ids, m.ID)
		if m.ID == last {
			return ids
		}
	}
}

// TestHubSurvivesRedisRestart kills a real redis-server and starts it again while two hubs
// serve one session: a writer on hub A keeps sending (retrying each message with the same
// id until it comes back, as a client does after STORE_UNAVAILABLE), a watcher on hub B
// stays connected, and a second watcher leaves during the outage and comes back to hub B
// with lastMessageId. Both watchers must end up with every message exactly once, in order,
// with no gap envelope: the Resync after the restart makes each hub catch up from the
// history (kept by the append-only file).
func TestHubSurvivesRedisRestart(t *testing.T) {
	srv := startRedis(t)
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr(), DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	prefix := uniquePrefix(t, newClient())
	var urls [2]string
	var stores [2]*resyncCounter
	for i := range urls {
		stores[i] = &resyncCounter{Store: newStore(t, newClient(), redisstore.Options{Prefix: prefix})}
		urls[i] = mountWS(t, newTestHub(t, stores[i]), adaptertest.Config{})
	}
	const n = 40
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("m-%02d", i)
	}
	q := url.Values{"sessionId": {"restart"}}
	// Fresh connections get no replay: they must have joined before the first message.
	stayer := wsReader{adaptertest.DialJoined(t, urls[1], q, nil)}
	leaver := wsReader{adaptertest.DialJoined(t, urls[0], q, nil)}
	writer := wsReader{adaptertest.DialJoined(t, urls[0], q, nil)}

	// The writer sends every message until it comes back; it reports how many came back
	// and when a send failed.
	acked := make(chan int, n)
	failed := make(chan struct{}, 1)
	writerErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	t.Cleanup(func() { _ = writer.c.Conn.Close(); wg.Wait() }) // ends a writer left waiting
	go func() {
		defer wg.Done()
		writerErr <- func() error {
			for i, id := range want {
				for {
					m := core.Message{ID: id, Type: core.TypeMessage, Content: "text " + id}
					_ = writer.c.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
					if err := writer.c.Conn.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)); err != nil {
						return fmt.Errorf("writer: %w", err)
					}
					m, err := writer.next()
					if err != nil {
						return fmt.Errorf("writer: %w", err)
					}
					if m.Type == core.TypeError { // STORE_UNAVAILABLE: send again
						select {
						case failed <- struct{}{}:
						default:
						}
						time.Sleep(20 * time.Millisecond) // retry backoff, as a client would
						continue
					}
					if m.ID != id {
						return fmt.Errorf("writer got %q (%s) while waiting for %q", m.ID, m.Type, id)
					}
					acked <- i + 1
					break
				}
			}
			return nil
		}()
	}()
	waitAcked := func(k int) {
		t.Helper()
		for got := 0; got < k; {
			select {
			case got = <-acked:
			case err := <-writerErr:
				t.Fatalf("writer ended early: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatalf("writer stuck before message %d", k)
			}
		}
	}

	waitAcked(10)
	leaverIDs := leaver.collect(t, nil, want[9])
	srv.kill()
	_ = leaver.c.Conn.Close() // leaves during the outage
	select {
	case <-failed: // a message was sent while Redis was down
	case err := <-writerErr:
		t.Fatalf("writer ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no send failed while Redis was down")
	}
	srv.start()
	waitAcked(20)
	// With lastMessageId the join's replay covers everything since, so no Sync is needed.
	leaver = wsReader{adaptertest.Dial(t, urls[1], url.Values{
		"sessionId": {"restart"}, "lastMessageId": {leaverIDs[len(leaverIDs)-1]},
	}, nil)}
	waitAcked(n)
	if err := <-writerErr; err != nil {
		t.Fatal(err)
	}
	for i, st := range stores {
		if st.resyncs.Load() == 0 {
			t.Errorf("hub %d's subscription got no Resync: the restart went unnoticed", i)
		}
	}
	for name, ids := range map[string][]string{
		"watcher that stayed": stayer.collect(t, nil, want[n-1]),
		"watcher that left":   leaver.collect(t, leaverIDs, want[n-1]),
	} {
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("%s got %d messages %v; want each of %d exactly once, in order", name, len(ids), ids, n)
		}
	}
}
