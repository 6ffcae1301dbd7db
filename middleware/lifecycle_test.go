package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

func TestMaxAgeClosesWith1012(t *testing.T) {
	const age, jitter = 300 * time.Millisecond, 100 * time.Millisecond
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			ma := middleware.NewMaxAge(middleware.MaxAgeOptions{MaxAge: age, Jitter: jitter})
			defer ma.Close()
			hub := newHub(t, ma.Hooks().Apply(core.Options{Handler: echoBot}))
			ep := ad.mount(t, hub)
			var conns []*websocket.Conn
			start := time.Now()
			for range 5 {
				c, _, _, _ := dialStatus(t, ep, nil, nil)
				conns = append(conns, c)
			}
			// A connection that ends first has its timer stopped (goleak and Close check it).
			early, _, _, _ := dialStatus(t, ep, nil, nil)
			_ = early.Close()
			for i, c := range conns {
				if code := closeCode(t, c); code != core.CloseServiceRestart {
					t.Fatalf("conn %d closed with %d, want 1012", i, code)
				}
				if d := time.Since(start); d < age-jitter-20*time.Millisecond {
					t.Fatalf("conn %d closed after %v, before its minimum age %v", i, d, age-jitter)
				}
			}
			if d := time.Since(start); d > age+jitter+time.Second {
				t.Fatalf("connections closed only after %v (max age %v±%v)", d, age, jitter)
			}
		})
	}
}

// slowEcho echoes after a pause longer than the drain's readiness delay, so replies are
// still being produced when the connections are closed.
var slowEcho = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	select {
	case <-time.After(400 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	return echoBot(ctx, req, w)
})

// instance is one server of the drain test: a hub on a redis store behind an http.Server.
type instance struct {
	hub     *core.Hub
	store   storage.Store
	drainer *middleware.Drainer
	base    string // http://host:port
}

func startInstance(t *testing.T, mr *miniredis.Miniredis) *instance {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	store, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hub := core.NewHub(core.Options{Handler: slowEcho, Store: store, MaxStoredMessages: 1000})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: waitTimeout}
	in := &instance{hub: hub, store: store, base: "http://" + ln.Addr().String()}
	in.drainer = middleware.NewDrainer(hub, middleware.DrainOptions{Server: srv, Delay: 200 * time.Millisecond, Timeout: 10 * time.Second})
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/readyz", in.drainer.Ready())
	srv.Handler = mux
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // owned by the cleanup, which waits for it
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = in.drainer.Drain(ctx) // a no-op wait for an instance already drained
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
		_ = store.Close()
		_ = client.Close()
	})
	return in
}

func (in *instance) chatURL() string { return "ws" + in.base[len("http"):] + "/chat" }

func (in *instance) ready(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(in.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// drainClient is one chat client of the drain test and what it has seen.
type drainClient struct {
	session string
	conn    *websocket.Conn
	seen    []string // message ids, in order
	last    string
	echoed  bool // the reply to the in-flight message arrived
}

func (c *drainClient) read(t *testing.T) (core.Message, error) {
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return core.Message{}, err
		}
		var m core.Message
		if err := envelope.Decode(b, &m); errors.Is(err, envelope.ErrHeartbeat) {
			continue
		} else if err != nil {
			t.Errorf("undecodable frame %q", b)
			continue
		}
		c.seen = append(c.seen, m.ID)
		c.last = m.ID
		c.echoed = c.echoed || m.Content == "Echo: inflight"
		return m, nil
	}
}

// TestDrainOnSIGTERM: an instance with 200 live connections receives SIGTERM. Its readiness
// turns 503, every connection is closed with 1012 within 5 s, and every client resumes on a
// second instance (sharing the Redis store) with nothing lost and nothing twice.
func TestDrainOnSIGTERM(t *testing.T) {
	const clients = 200
	mr := miniredis.RunT(t)
	a, b := startInstance(t, mr), startInstance(t, mr)
	if a.ready(t) != http.StatusOK {
		t.Fatal("instance not ready before the drain")
	}
	cs := make([]*drainClient, clients)
	for i := range cs {
		c := &drainClient{session: fmt.Sprintf("drain-%d", i)}
		c.conn, _, _, _ = dialStatus(t, a.chatURL(), url.Values{"sessionId": {c.session}}, nil)
		if c.conn == nil {
			t.Fatalf("client %d refused", i)
		}
		cs[i] = c
		send(t, c.conn, core.Message{ID: c.session + "-before", Type: core.TypeMessage, Content: "before"})
	}
	for _, c := range cs { // each sees its stored message, then the echo
		for range 2 {
			if _, err := c.read(t); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A message whose reply is still being produced when the signal arrives.
	for _, c := range cs {
		send(t, c.conn, core.Message{ID: c.session + "-inflight", Type: core.TypeMessage, Content: "inflight"})
	}

	stop := a.drainer.Notify(syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for a.ready(t) != http.StatusServiceUnavailable { // Delay keeps connections open meanwhile
		if time.Now().After(deadline) {
			t.Fatal("readiness still OK after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond)
	}

	var wg sync.WaitGroup
	codes := make([]int, clients)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := c.read(t); err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						codes[i] = ce.Code
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, code := range codes {
		if core.CloseCode(code) != core.CloseServiceRestart {
			t.Fatalf("client %d closed with %d, want 1012", i, code)
		}
	}
	if elapsed > 5*time.Second {
		t.Fatalf("draining %d connections took %v, want < 5s", clients, elapsed)
	}
	t.Logf("%d connections closed with 1012 %v after SIGTERM (readiness delay 200ms)", clients, elapsed)

	// Resume on the second instance from the last message seen, re-sending the in-flight
	// message (same id: the store drops it if it was stored before the drain).
	for _, c := range cs {
		q := url.Values{"sessionId": {c.session}, "lastMessageId": {c.last}}
		c.conn, _, _, _ = dialStatus(t, b.chatURL(), q, nil)
		if c.conn == nil {
			t.Fatalf("%s: refused by the second instance", c.session)
		}
		send(t, c.conn, core.Message{ID: c.session + "-inflight", Type: core.TypeMessage, Content: "inflight"})
	}
	resumed := 0
	for _, c := range cs {
		if !c.echoed {
			resumed++
		}
		for !c.echoed {
			if _, err := c.read(t); err != nil {
				t.Fatalf("%s: %v", c.session, err)
			}
		}
	}
	t.Logf("%d of %d clients got the reply to their in-flight message from the second instance", resumed, clients)
	<-a.drainer.Done()
	for _, c := range cs {
		page, err := b.store.Read(context.Background(), c.session, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, id := range c.seen {
			seen[id]++
		}
		for _, r := range page.Records {
			if seen[r.Message.ID] != 1 {
				t.Fatalf("%s: stored message %q (%q) seen %d times", c.session, r.Message.ID, r.Message.Content, seen[r.Message.ID])
			}
		}
		if len(page.Records) != 4 || len(c.seen) != 4 {
			t.Fatalf("%s: %d stored, %d seen; want 4 (two messages, two echoes)", c.session, len(page.Records), len(c.seen))
		}
	}
}
