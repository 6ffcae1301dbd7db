package adaptertest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// refusalFrame is what a client that asked for refusal frames (refusal=close) sees: the
// error envelope that replaces the welcome, then the close frame.
type refusalFrame struct {
	envelope envelope.Message
	meta     struct {
		Code          core.ErrorCode
		Status, Close int
	}
	closeCode int
	reason    string
	protocol  string // the subprotocol the upgrade selected
}

// dialRefused dials with refusal=close and reads the refusal. It fails the test unless the
// upgrade succeeds and the first frame is an error envelope followed by a close frame.
func dialRefused(t *testing.T, endpoint string, query url.Values, header http.Header, protocols ...string) refusalFrame {
	t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("refusal", "close")
	d := websocket.Dialer{HandshakeTimeout: waitTimeout, Subprotocols: protocols}
	ws, resp, err := d.Dial(endpoint+"?"+q.Encode(), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("a client that asked for refusal frames was not upgraded: %v (status %d)", err, status)
	}
	defer ws.Close()
	var r refusalFrame
	r.protocol = resp.Header.Get("Sec-WebSocket-Protocol")
	_ = ws.SetReadDeadline(time.Now().Add(waitTimeout))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read the refusal envelope: %v", err)
	}
	if err := envelope.Decode(b, &r.envelope); err != nil || r.envelope.Type != envelope.TypeError || r.envelope.Role != envelope.RoleSystem {
		t.Fatalf("first frame %q is not an error envelope (%v)", b, err)
	}
	if err := json.Unmarshal(r.envelope.Metadata, &r.meta); err != nil {
		t.Fatalf("refusal metadata %s: %v", r.envelope.Metadata, err)
	}
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("after the refusal envelope: %v, want a close frame", err)
	}
	r.closeCode, r.reason = ce.Code, ce.Text
	return r
}

func refusalFrameCases() []testCase {
	return []testCase{
		{"RefusalFrames", func(t *testing.T, mount Mount) {
			var connects atomic.Int32
			h := newHub(t, core.Options{Handler: echo, Store: core.NewMemoryStore(core.MemoryStoreOptions{}),
				OnConnect: func(core.ConnEvent) { connects.Add(1) },
				Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
					switch r.Query.Get("admit") {
					case "no":
						return core.Admission{}, errors.New("not in the room")
					case "full":
						return core.Admission{}, &core.HandshakeError{Status: http.StatusTooManyRequests, Body: "Too many connections"}
					case "other":
						return core.Admission{}, &core.HandshakeError{Status: http.StatusNotFound, Body: "SESSION_NOT_FOUND", Code: core.CodeSessionNotFound}
					case "custom":
						return core.Admission{}, &core.HandshakeError{Status: http.StatusPaymentRequired, Body: "Upgrade your plan", Code: "PLAN_LIMIT"}
					}
					return core.Admission{}, nil
				}})
			plain := mount(t, h, Config{})
			authFails := mount(t, h, Config{Authenticate: func() (any, error) { return nil, errors.New("bad token") }})
			tests := []struct {
				name     string
				endpoint string
				query    url.Values
				status   int
				code     core.ErrorCode
				body     string
			}{
				{"Unauthenticated", authFails, nil, 401, core.CodeUnauthenticated, "Unauthorized"},
				{"Forbidden", plain, url.Values{"admit": {"no"}}, 403, core.CodeForbidden, "Forbidden"},
				{"SessionNotFound", plain, url.Values{"admit": {"other"}}, 404, core.CodeSessionNotFound, "SESSION_NOT_FOUND"},
				{"TooManyConnections", plain, url.Values{"admit": {"full"}}, 429, core.CodeTooManyConnections, "Too many connections"},
				{"OwnCode", plain, url.Values{"admit": {"custom"}}, 402, "PLAN_LIMIT", "Upgrade your plan"},
				{"InvalidRequest", plain, url.Values{"sessionId": {"no spaces"}}, 400, core.CodeInvalidRequest, "Invalid sessionId"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := dialRefused(t, tt.endpoint, tt.query, nil)
					if r.envelope.Content != tt.body || r.meta.Code != tt.code || r.meta.Status != tt.status || r.meta.Close != 4000+tt.status || r.envelope.ID == "" || r.envelope.Timestamp == 0 {
						t.Fatalf("refusal envelope %+v (metadata %s), want %q with code %s, status %d, close %d", r.envelope, r.envelope.Metadata, tt.body, tt.code, tt.status, 4000+tt.status)
					}
					if r.closeCode != 4000+tt.status || r.reason != string(tt.code) {
						t.Fatalf("closed with %d %q, want %d %q", r.closeCode, r.reason, 4000+tt.status, tt.code)
					}
				})
			}
			if n := connects.Load(); n != 0 {
				t.Fatalf("%d refused connections reached OnConnect", n)
			}
			// Without refusal=close the same refusals stay HTTP statuses.
			if got := upgradeRequest(t, plain, "admit=no", "", nil); got.status != http.StatusForbidden || got.body != "Forbidden\n" {
				t.Fatalf("without refusal=close: %+v, want the HTTP 403", got)
			}
			// A token offered as a subprotocol is never selected; the fixed name is, so that a
			// browser accepts the upgrade and reads the refusal.
			r := dialRefused(t, authFails, nil, nil, "chatwire", "chatwire.token.s3cr3t")
			if r.protocol != "chatwire" || r.closeCode != 4401 {
				t.Fatalf("selected %q and closed %d, want chatwire and 4401", r.protocol, r.closeCode)
			}
			// The upgrade, host and origin checks are never upgraded, whatever the client asks.
			origins := mount(t, h, Config{AllowedOrigins: []string{"https://app.example.com"}})
			if got := upgradeRequest(t, origins, "refusal=close", "", http.Header{"Origin": {"https://evil.example"}}); got.status != http.StatusForbidden {
				t.Fatalf("a disallowed origin asking for refusal frames got %d, want the HTTP 403", got.status)
			}
			if got := upgradeRequest(t, plain, "refusal=maybe", "", nil); got.status != http.StatusBadRequest || got.body != "Invalid refusal\n" {
				t.Fatalf("refusal=maybe: %+v, want 400 Invalid refusal", got)
			}
			// An admitted client that asked for refusal frames gets the welcome as usual.
			c := Dial(t, plain, url.Values{"refusal": {"close"}}, nil)
			c.Send(msg("hi"))
			if m := c.Read(); m.Content != "hi" {
				t.Fatalf("admitted client got %+v", m)
			}
		}},
		{"RefusalWhileShuttingDownStaysHTTP", func(t *testing.T, mount Mount) {
			h, ep := serve(t, mount, core.Options{Handler: echo})
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			if err := h.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := upgradeRequest(t, ep, "refusal=close", "", nil); got.status != http.StatusServiceUnavailable || got.body != "Server shutting down\n" {
				t.Fatalf("after Shutdown with refusal=close: %+v, want the HTTP 503", got)
			}
		}},
		{"RefusalFrameWhileStoreIsDown", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, Store: downStore{core.NewMemoryStore(core.MemoryStoreOptions{})}})
			r := dialRefused(t, ep, url.Values{"sessionId": {"s"}}, nil)
			if r.closeCode != 4503 || r.meta.Code != core.CodeSessionUnavailable || r.envelope.Content != "Session unavailable" {
				t.Fatalf("store down: closed %d, %+v %s", r.closeCode, r.envelope, r.envelope.Metadata)
			}
		}},
	}
}

// downStore is a store whose backend cannot be reached: joining a session fails.
type downStore struct{ *core.MemoryStore }

func (downStore) Lookup(context.Context, string, string) (uint64, bool, error) {
	return 0, false, core.ErrStoreUnavailable
}

func (downStore) Read(context.Context, string, uint64) (storage.Page, error) {
	return storage.Page{}, core.ErrStoreUnavailable
}

func (downStore) StreamSnapshot(context.Context, string) ([]storage.StreamState, error) {
	return nil, core.ErrStoreUnavailable
}

func (downStore) Join(context.Context, string, storage.JoinRequest) (storage.Joined, error) {
	return storage.Joined{}, core.ErrStoreUnavailable
}
