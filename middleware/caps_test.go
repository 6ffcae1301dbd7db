package middleware_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// signalRelease wraps admit so that the end of every admitted connection (its Release) is
// reported on the returned channel.
func signalRelease(admit core.AdmitFunc) (core.AdmitFunc, <-chan struct{}) {
	released := make(chan struct{}, 4096)
	return func(ctx context.Context, req *core.AdmitRequest) (core.Admission, error) {
		adm, err := admit(ctx, req)
		if err == nil {
			inner := adm.Release
			adm.Release = func() {
				if inner != nil {
					inner()
				}
				released <- struct{}{}
			}
		}
		return adm, err
	}, released
}

func TestConnectionCaps(t *testing.T) {
	type attempt struct {
		token, session string
		status         int
		body           string // substring of a refusal's body
	}
	cases := []struct {
		name     string
		opts     middleware.CapOptions
		attempts []attempt
	}{
		{"per principal", middleware.CapOptions{PerPrincipal: 2}, []attempt{
			{"alice-token", "", 101, ""},
			{"alice-token", "", 101, ""},
			{"alice-token", "", 429, "this user (limit 2)"},
			{"bob-token", "", 101, ""},
		}},
		{"per session", middleware.CapOptions{PerSession: 2}, []attempt{
			{"alice-token", "s1", 101, ""},
			{"bob-token", "s1", 101, ""},
			{"alice-token", "s1", 429, "this session (limit 2)"},
			{"alice-token", "s2", 101, ""},
			{"alice-token", "", 101, ""}, // a new session is not counted
		}},
		{"per ip", middleware.CapOptions{PerIP: 3}, []attempt{
			{"alice-token", "", 101, ""},
			{"bob-token", "s1", 101, ""},
			{"alice-token", "s2", 101, ""},
			{"bob-token", "s3", 429, "this address (limit 3)"},
		}},
	}
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					counter := middleware.NewMemoryCounter()
					opts := tc.opts
					opts.Counter = counter
					admit, released := signalRelease(middleware.Admit(
						middleware.Auth(middleware.AuthOptions{Verify: testVerifier}),
						middleware.Caps(opts),
					))
					ep := ad.mount(t, newHub(t, core.Options{Handler: echoBot, Store: core.NewMemoryStore(core.MemoryStoreOptions{}), Admit: admit}))
					var open []*websocket.Conn
					for i, a := range tc.attempts {
						q := url.Values{}
						if a.session != "" {
							q.Set("sessionId", a.session)
						}
						c, status, body, _ := dialStatus(t, ep, q, bearer(a.token))
						if status != a.status || !strings.Contains(body, a.body) {
							t.Fatalf("attempt %d: %d %q, want %d containing %q", i, status, body, a.status, a.body)
						}
						if c != nil {
							open = append(open, c)
						}
					}
					for _, c := range open {
						_ = c.Close()
						waitChan(t, "a slot's release", released)
					}
					if n := counter.Total(); n != 0 {
						t.Fatalf("%d slots still held after every connection closed", n)
					}
					// The refused attempt succeeds once a slot is free again.
					last := tc.attempts[len(tc.attempts)-2]
					if c, status, _, _ := dialStatus(t, ep, url.Values{"sessionId": {"s1"}}, bearer(last.token)); c == nil {
						t.Fatalf("refused with %d after the slots were released", status)
					}
				})
			}
		})
	}
}

// TestConnectionCapsChurn: counts return to zero after 1,000 connect/close cycles, some
// closed cleanly, some dropped, some refused.
func TestConnectionCapsChurn(t *testing.T) {
	const cycles = 1000
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			counter := middleware.NewMemoryCounter()
			admit, released := signalRelease(middleware.Admit(
				middleware.Auth(middleware.AuthOptions{Verify: testVerifier}),
				middleware.Caps(middleware.CapOptions{PerPrincipal: 1, PerSession: 1, PerIP: 2, Counter: counter}),
			))
			ep := ad.mount(t, newHub(t, core.Options{Handler: echoBot, Admit: admit}))
			q := url.Values{"sessionId": {"churn"}}
			d := websocket.Dialer{HandshakeTimeout: waitTimeout}
			start := time.Now()
			for i := range cycles {
				c, resp, err := d.Dial(ep+"?"+q.Encode(), bearer("alice-token"))
				if err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
				_ = resp.Body.Close()
				if i%100 == 0 { // the cap holds mid-churn: a second connection is refused
					if _, status, _, _ := dialStatus(t, ep, q, bearer("alice-token")); status != http.StatusTooManyRequests {
						t.Fatalf("cycle %d: second connection got %d, want 429", i, status)
					}
				}
				if i%2 == 0 {
					_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				}
				_ = c.Close()
				waitChan(t, "the slots' release", released)
			}
			t.Logf("%d cycles in %v", cycles, time.Since(start))
			if n := counter.Total(); n != 0 {
				t.Fatalf("%d slots held after %d cycles, want 0", n, cycles)
			}
		})
	}
}
