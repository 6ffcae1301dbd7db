package middleware_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/middleware"
	"github.com/gorilla/websocket"
)

// testVerifier knows a few fixed tokens.
func testVerifier(ctx context.Context, token string) (any, time.Time, error) {
	switch token {
	case "alice-token":
		return "alice", time.Time{}, nil
	case "bob-token":
		return "bob", time.Now().Add(time.Hour), nil
	case "banned-token":
		return nil, time.Time{}, middleware.ErrForbidden
	case "stale-token":
		return "carol", time.Now().Add(-time.Minute), nil
	case "brief-token":
		return "dave", time.Now().Add(150 * time.Millisecond), nil
	case "idp-down":
		return nil, time.Time{}, &core.HandshakeError{Status: http.StatusServiceUnavailable, Body: "Try again"}
	}
	return nil, time.Time{}, errors.New("unknown token")
}

// dialStatus performs a handshake and returns the connection (nil when refused), the
// response's status, body (refusals) and selected subprotocol.
func dialStatus(t testing.TB, endpoint string, query url.Values, header http.Header, protocols ...string) (*websocket.Conn, int, string, string) {
	t.Helper()
	u := endpoint
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	d := websocket.Dialer{HandshakeTimeout: waitTimeout, Subprotocols: protocols}
	c, resp, err := d.Dial(u, header)
	if resp == nil {
		t.Fatalf("dial %s: no response: %v", u, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_ = resp.Body.Close()
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
		adaptertest.ExpectWelcome(t, c)
	}
	return c, resp.StatusCode, strings.TrimSpace(string(body)), resp.Header.Get("Sec-WebSocket-Protocol")
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestAuthOnUpgrade(t *testing.T) {
	auth := middleware.Auth(middleware.AuthOptions{
		Verify: testVerifier,
		Sources: []middleware.Source{
			middleware.FromBearer(), middleware.FromCookie("session"),
			middleware.FromSubprotocol("chatwire.token."), middleware.FromQuery("token"),
		},
	})
	cases := []struct {
		name      string
		header    http.Header
		query     url.Values
		protocols []string
		status    int
		principal string // when admitted
		proto     string // selected subprotocol
	}{
		{name: "cross-site origin", header: http.Header{"Origin": {"https://evil.example"}, "Authorization": {"Bearer alice-token"}}, status: 403},
		{name: "no credential", status: 401},
		{name: "unknown token", header: bearer("forged"), status: 401},
		{name: "wrong scheme", header: http.Header{"Authorization": {"Basic YWxpY2U6eA=="}}, status: 401},
		{name: "forbidden principal", header: bearer("banned-token"), status: 403},
		{name: "expired token", header: bearer("stale-token"), status: 401},
		{name: "verifier's own refusal", header: bearer("idp-down"), status: 503},
		{name: "bearer", header: bearer("alice-token"), status: 101, principal: "alice"},
		{name: "bearer lower-case scheme", header: http.Header{"Authorization": {"bearer bob-token"}}, status: 101, principal: "bob"},
		{name: "cookie", header: http.Header{"Cookie": {"theme=dark; session=alice-token"}}, status: 101, principal: "alice"},
		{name: "query", query: url.Values{"token": {"bob-token"}}, status: 101, principal: "bob"},
		{name: "subprotocol", protocols: []string{"chatwire", "chatwire.token.alice-token"}, status: 101, principal: "alice", proto: "chatwire"},
		{name: "subprotocol token alone", protocols: []string{"chatwire.token.alice-token"}, status: 400},
		{name: "bearer wins over query", header: bearer("alice-token"), query: url.Values{"token": {"forged"}}, status: 101, principal: "alice"},
	}
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			rec := &recorder{}
			ep := ad.mount(t, newHub(t, core.Options{Handler: rec, Admit: auth}))
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c, status, body, proto := dialStatus(t, ep, tc.query, tc.header, tc.protocols...)
					if status != tc.status {
						t.Fatalf("status %d (%q), want %d", status, body, tc.status)
					}
					if c == nil {
						return
					}
					if proto != tc.proto {
						t.Fatalf("selected subprotocol %q, want %q", proto, tc.proto)
					}
					before := len(rec.requests())
					if err := c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: "hi"})); err != nil {
						t.Fatal(err)
					}
					readReply(t, c)
					reqs := rec.requests()
					if len(reqs) != before+1 || reqs[before].Principal != tc.principal {
						t.Fatalf("handler saw principal %v, want %q", reqs[len(reqs)-1].Principal, tc.principal)
					}
				})
			}
		})
	}
}

// readReply reads the next envelope that is not a heartbeat.
func readReply(t testing.TB, c *websocket.Conn) core.Message {
	t.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m core.Message
		if err := envelope.Decode(b, &m); errors.Is(err, envelope.ErrHeartbeat) {
			continue
		} else if err != nil {
			t.Fatalf("undecodable frame %q: %v", b, err)
		}
		return m
	}
}

// closeCode reads until the connection closes and returns its close code.
func closeCode(t testing.TB, c *websocket.Conn) core.CloseCode {
	t.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return core.CloseCode(ce.Code)
			}
			t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

func TestCredentialsExpireWhileConnected(t *testing.T) {
	auth := middleware.Auth(middleware.AuthOptions{Verify: testVerifier})
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			ep := ad.mount(t, newHub(t, core.Options{Handler: echoBot, Admit: auth}))
			c, status, body, _ := dialStatus(t, ep, nil, bearer("brief-token"))
			if c == nil {
				t.Fatalf("refused with %d %q", status, body)
			}
			start := time.Now()
			if code := closeCode(t, c); code != core.ClosePolicyViolation {
				t.Fatalf("close code %d, want 1008 when the credential expires", code)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("closed after %v, long after the credential expired", d)
			}
		})
	}
}

// owners binds each session to the first principal that asks for it.
type owners struct {
	mu sync.Mutex
	m  map[string]any
}

func (o *owners) authorize(_ context.Context, principal any, sessionID string) error {
	if sessionID == "" {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[string]any)
	}
	if owner, ok := o.m[sessionID]; ok && owner != principal {
		return middleware.ErrSessionDenied
	}
	o.m[sessionID] = principal
	return nil
}

func TestSessionAuthorization(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			own := &owners{}
			admit := middleware.Admit(
				middleware.Auth(middleware.AuthOptions{Verify: testVerifier}),
				middleware.AuthorizeSession(own.authorize),
			)
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			ep := ad.mount(t, newHub(t, core.Options{Handler: echoBot, Store: store, Admit: admit}))

			room := url.Values{"sessionId": {"room-a"}}
			alice, status, body, _ := dialStatus(t, ep, room, bearer("alice-token"))
			if alice == nil {
				t.Fatalf("alice refused: %d %q", status, body)
			}
			if err := alice.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &core.Message{ID: "m1", Type: core.TypeMessage, Content: "secret plan"})); err != nil {
				t.Fatal(err)
			}
			first := readReply(t, alice) // the stored message, then the echo
			readReply(t, alice)

			for _, q := range []url.Values{room, {"sessionId": {"room-a"}, "lastMessageId": {first.ID}}} {
				c, status, body, _ := dialStatus(t, ep, q, bearer("bob-token"))
				if c != nil || status != http.StatusNotFound || body != string(core.CodeSessionNotFound) {
					t.Fatalf("bob joined alice's session %v: status %d body %q, want 404 %s", q, status, body, core.CodeSessionNotFound)
				}
			}
			// Bob may still create sessions of his own, and Alice may resume hers.
			if c, status, _, _ := dialStatus(t, ep, url.Values{"sessionId": {"room-b"}}, bearer("bob-token")); c == nil {
				t.Fatalf("bob refused his own session: %d", status)
			}
			_ = alice.Close()
			again, status, _, _ := dialStatus(t, ep, url.Values{"sessionId": {"room-a"}, "lastMessageId": {first.ID}}, bearer("alice-token"))
			if again == nil {
				t.Fatalf("alice refused her own session: %d", status)
			}
			if m := readReply(t, again); m.Content != "Echo: secret plan" {
				t.Fatalf("alice's replay starts with %+v, want the echo", m)
			}
		})
	}
}
