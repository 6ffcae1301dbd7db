package middleware_test

import (
	"context"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/middleware"
	"github.com/gorilla/websocket"
)

// send writes m on c.
func send(t testing.TB, c *websocket.Conn, m core.Message) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(waitTimeout))
	if err := c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestRateLimitFlood: one client sends 1,000 messages in a second against a limit of 100 a
// minute; what passes the limit is stored and handled, the rest is answered with
// RATE_LIMITED, and a second client's round trips go on meanwhile.
func TestRateLimitFlood(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			rec := &recorder{}
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			mw := middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerMinute(100), MaxRejections: -1})
			hub := newHub(t, mw.Apply(core.Options{Handler: rec, Store: store, MaxStoredMessages: 5000}))
			ep := ad.mount(t, hub)

			flood, _, _, _ := dialStatus(t, ep, url.Values{"sessionId": {"flood"}}, nil)
			calm, _, _, _ := dialStatus(t, ep, url.Values{"sessionId": {"calm"}}, nil)
			if flood == nil || calm == nil {
				t.Fatal("dial refused")
			}
			const total = 1000
			type tally struct{ accepted, limited, echoes int }
			result := make(chan tally, 1)
			go func() { // reads the flooder's outcomes; ends when all are in or the read fails
				var n tally
				defer func() { result <- n }()
				for n.accepted+n.limited < total || n.echoes < n.accepted {
					_ = flood.SetReadDeadline(time.Now().Add(waitTimeout))
					_, b, err := flood.ReadMessage()
					if err != nil {
						return
					}
					var m core.Message
					if envelope.Decode(b, &m) != nil {
						continue
					}
					switch {
					case m.Type == core.TypeError && core.ErrorCode(metaCode(m)) == core.CodeRateLimited:
						n.limited++
					case m.Role == core.RoleUser:
						n.accepted++
					case m.Role == core.RoleAssistant:
						n.echoes++
					}
				}
			}()
			flooding := make(chan struct{})
			defer func() { // on early failure too: stop both goroutines before the test ends
				_ = flood.Close()
				<-flooding
			}()
			floodStart := time.Now()
			var floodTime time.Duration
			go func() { // 1,000 frames/s
				defer func() { floodTime = time.Since(floodStart); close(flooding) }()
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for i := range total {
					<-tick.C
					if err := flood.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: "spam"})); err != nil {
						t.Errorf("flood write %d: %v", i, err)
						return
					}
				}
			}()
			// The calm client sends 20 messages a second, well within its own limit.
			pace := time.NewTicker(50 * time.Millisecond)
			defer pace.Stop()
			var latencies []time.Duration
			for {
				select {
				case <-flooding:
				case <-pace.C:
					start := time.Now()
					send(t, calm, chat("hello"))
					if m := readReply(t, calm); m.Role != core.RoleUser {
						t.Fatalf("calm client got %+v, want its own stored message", m)
					}
					if m := readReply(t, calm); m.Content != "Echo: hello" {
						t.Fatalf("calm client got %+v, want the echo", m)
					}
					latencies = append(latencies, time.Since(start))
					continue
				}
				break
			}
			result2 := waitChan(t, "the flooder's outcomes", result)
			n := result2
			// The burst of 100, plus one token per 600ms while the flood lasted (~1s).
			most := 100 + int(floodTime/(600*time.Millisecond)) + 1
			if n.accepted+n.limited != total || n.accepted < 100 || n.accepted > most {
				t.Fatalf("flooder: %d accepted, %d rate limited of %d in %v; want 100..%d accepted", n.accepted, n.limited, total, floodTime, most)
			}
			handled := 0
			for _, r := range rec.requests() {
				if r.SessionID == "flood" {
					handled++
				}
			}
			page, err := store.Read(context.Background(), "flood", 0)
			if err != nil {
				t.Fatal(err)
			}
			if handled != n.accepted || len(page.Records) != 2*n.accepted {
				t.Fatalf("handled %d and stored %d records for %d accepted messages: rejected ones got through", handled, len(page.Records), n.accepted)
			}
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			if len(latencies) < 10 {
				t.Fatalf("calm client completed only %d round trips during the flood", len(latencies))
			}
			p50, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
			t.Logf("calm client during the flood: %d round trips, p50 %v, max %v", len(latencies), p50, worst)
			if worst > time.Second {
				t.Fatalf("calm client's slowest round trip took %v during the flood", worst)
			}
		})
	}
}

func TestRateLimitClosesPersistentFlooder(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			mw := middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerMinute(5), MaxRejections: 10})
			ep := ad.mount(t, newHub(t, mw.Apply(core.Options{Handler: echoBot})))
			c, _, _, _ := dialStatus(t, ep, nil, nil)
			echoes, limited := 0, 0
			for i := 0; ; i++ {
				if i == 30 {
					t.Fatal("still open after 30 messages")
				}
				send(t, c, chat("x"))
				_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
				_, b, err := c.ReadMessage()
				if err != nil {
					if code := closeErrCode(err); core.CloseCode(code) != core.ClosePolicyViolation {
						t.Fatalf("connection ended with %v, want close 1008", err)
					}
					break
				}
				var m core.Message
				if err := envelope.Decode(b, &m); err != nil {
					t.Fatal(err)
				}
				switch {
				case m.Type == core.TypeError && core.ErrorCode(metaCode(m)) == core.CodeRateLimited:
					limited++
				case m.Type == core.TypeError:
					t.Fatalf("unexpected error envelope %+v", m)
				default:
					echoes++
				}
			}
			if echoes != 5 || limited != 9 {
				t.Fatalf("%d echoes and %d RATE_LIMITED before the close, want 5 and 9 (the 10th rejection closes)", echoes, limited)
			}
		})
	}
}

func TestRateLimitPerPrincipal(t *testing.T) {
	mw := middleware.Chain(
		middleware.Hooks{Admit: middleware.Auth(middleware.AuthOptions{Verify: testVerifier})},
		middleware.RateLimit(middleware.RateLimitOptions{PerPrincipal: middleware.PerMinute(3)}),
	)
	ep := mountHTTP(t, newHub(t, mw.Apply(core.Options{Handler: echoBot})))
	var conns []*websocket.Conn
	for range 2 {
		c, status, _, _ := dialStatus(t, ep, nil, bearer("alice-token"))
		if c == nil {
			t.Fatalf("refused: %d", status)
		}
		conns = append(conns, c)
	}
	bob, _, _, _ := dialStatus(t, ep, nil, bearer("bob-token"))
	var got []string
	for _, c := range []*websocket.Conn{conns[0], conns[0], conns[1], conns[1], bob} {
		send(t, c, chat("hi"))
		m := readReply(t, c)
		got = append(got, metaCode(m))
	}
	want := []string{"", "", "", string(core.CodeRateLimited), ""}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("outcomes %q, want %q: alice's two connections share one bucket of 3, bob has his own", got, want)
		}
	}
}

func closeErrCode(err error) int {
	if ce, ok := err.(*websocket.CloseError); ok {
		return ce.Code
	}
	return 0
}

// limiterFunc adapts a function to middleware.Limiter.
type limiterFunc func(ctx context.Context, key string, rate middleware.Rate) (bool, error)

func (f limiterFunc) Allow(ctx context.Context, key string, rate middleware.Rate) (bool, error) {
	return f(ctx, key, rate)
}

func TestRateLimitLimiterFailure(t *testing.T) {
	broken := limiterFunc(func(context.Context, string, middleware.Rate) (bool, error) {
		return false, context.DeadlineExceeded
	})
	for _, tc := range []struct {
		name       string
		failClosed bool
		wantCode   core.ErrorCode
	}{
		{"fail open", false, ""},
		{"fail closed", true, core.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw := middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerSecond(1), Limiter: broken, FailClosed: tc.failClosed})
			ep := mountHTTP(t, newHub(t, mw.Apply(core.Options{Handler: echoBot})))
			c, _, _, _ := dialStatus(t, ep, nil, nil)
			send(t, c, chat("hi"))
			if code := metaCode(readReply(t, c)); core.ErrorCode(code) != tc.wantCode {
				t.Fatalf("code %q, want %q", code, tc.wantCode)
			}
		})
	}
}
