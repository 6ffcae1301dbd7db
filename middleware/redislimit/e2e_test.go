package redislimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/middleware/redislimit"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
)

func verify(_ context.Context, token string) (any, time.Time, error) {
	switch token {
	case "alice-token":
		return "alice", time.Time{}, nil
	case "bob-token":
		return "bob", time.Time{}, nil
	}
	return nil, time.Time{}, errors.New("unknown token")
}

var echoBot = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Type: core.TypeMessage, Role: core.RoleAssistant, Content: "Echo: " + req.Message.Content})
})

// serve runs one instance: a hub with mw behind wshttp, stopped at cleanup.
func serve(t *testing.T, mw middleware.Hooks) string {
	t.Helper()
	hub := core.NewHub(mw.Apply(core.Options{Handler: echoBot}))
	srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = hub.Shutdown(ctx)
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, ep, token string) (*websocket.Conn, int) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(ep, http.Header{"Authorization": {"Bearer " + token}})
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	_ = resp.Body.Close()
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
		adaptertest.ExpectWelcome(t, c)
	}
	return c, resp.StatusCode
}

// roundTrip sends content and returns the reply's error code ("" for the echo).
func roundTrip(t *testing.T, c *websocket.Conn, content string) string {
	t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: content})); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var m core.Message
	if err := envelope.Decode(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type == core.TypeError {
		var meta struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(m.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		return meta.Code
	}
	return ""
}

// TestAcrossInstances: two instances sharing Redis enforce one cap and one rate per
// principal, and a thousand connect/close cycles leave no slot and no key behind.
func TestAcrossInstances(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			var eps [2]string
			var counters [2]*redislimit.Counter
			var prefix string
			var first redis.UniversalClient
			released := make(chan struct{}, 16)
			signal := func(context.Context, *core.AdmitRequest) (core.Admission, error) {
				return core.Admission{Release: func() { released <- struct{}{} }}, nil
			}
			for i := range eps {
				client, p := be.connect(t)
				if i == 0 {
					prefix, first = p, client
				}
				limiter, _ := redislimit.NewLimiter(client, redislimit.LimiterOptions{Prefix: prefix})
				counter, _ := redislimit.NewCounter(client, redislimit.CounterOptions{Prefix: prefix})
				counters[i] = counter
				t.Cleanup(func() { _ = counter.Close() }) // after the instance's own cleanup
				eps[i] = serve(t, middleware.Chain(
					middleware.Hooks{Admit: middleware.Admit(
						signal, // first, so that its Release runs last
						middleware.Auth(middleware.AuthOptions{Verify: verify}),
						middleware.Caps(middleware.CapOptions{PerPrincipal: 1, Counter: counter}),
					)},
					middleware.RateLimit(middleware.RateLimitOptions{PerPrincipal: middleware.PerMinute(2), Limiter: limiter}),
				))
			}
			alice, _ := dial(t, eps[0], "alice-token")
			if _, status := dial(t, eps[1], "alice-token"); status != http.StatusTooManyRequests {
				t.Fatalf("alice's second connection, on the other instance: %d, want 429", status)
			}
			waitRelease(t, released) // a refusal releases what the Admit chain had taken
			bob, _ := dial(t, eps[1], "bob-token")
			got := []string{roundTrip(t, alice, "1"), roundTrip(t, alice, "2"), roundTrip(t, alice, "3"), roundTrip(t, bob, "1")}
			if got[0] != "" || got[1] != "" || got[2] != string(core.CodeRateLimited) || got[3] != "" {
				t.Fatalf("outcomes %q: want alice limited after 2, bob not", got)
			}
			_ = alice.Close()
			_ = bob.Close()
			waitRelease(t, released)
			waitRelease(t, released)

			const cycles = 1000
			d := websocket.Dialer{HandshakeTimeout: waitTimeout}
			for i := range cycles { // alternating instances, so each relies on the other's release
				c, resp, err := d.Dial(eps[i%2], http.Header{"Authorization": {"Bearer alice-token"}})
				if err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
				_ = resp.Body.Close()
				_ = c.Close()
				waitRelease(t, released)
			}
			for _, c := range counters {
				if n, err := c.Count(context.Background(), "principal:alice"); err != nil || n != 0 {
					t.Fatalf("%d slots (%v) held after %d cycles, want 0", n, err, cycles)
				}
			}
			if keys := keysUnder(t, first, prefix+"conns:"); len(keys) != 0 {
				t.Fatalf("keys left after the churn: %q", keys)
			}
		})
	}
}

func waitRelease(t *testing.T, released <-chan struct{}) {
	t.Helper()
	select {
	case <-released:
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for a connection's release")
	}
}
