package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

func admitCases() []testCase {
	return []testCase{
		{"AdmitRefusals", func(t *testing.T, mount Mount) {
			h := newHub(t, core.Options{Handler: echo, Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
				switch r.Query.Get("who") {
				case "anonymous":
					return core.Admission{}, &core.HandshakeError{Status: http.StatusUnauthorized, Body: "Unauthorized"}
				case "stranger":
					return core.Admission{}, errors.New("not in the room")
				}
				return core.Admission{}, nil
			}})
			ep := mount(t, h, Config{})
			for who, want := range map[string]int{"anonymous": 401, "stranger": 403, "friend": 101} {
				c, resp, _ := DialRaw(ep, url.Values{"who": {who}}, nil)
				if c != nil {
					_ = c.Close()
				}
				if resp == nil || resp.StatusCode != want {
					t.Errorf("%s: got %v, want %d", who, resp, want)
				}
			}
		}},
		{"AdmitPrincipalSubprotocolRelease", func(t *testing.T, mount Mount) {
			var released atomic.Int32
			rec := &recorder{}
			h := newHub(t, core.Options{Handler: rec, Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
				if r.Header.Get("Sec-WebSocket-Protocol") == "" {
					return core.Admission{}, errors.New("no token")
				}
				return core.Admission{Principal: "alice", Subprotocol: "chatwire", Release: func() { released.Add(1) }}, nil
			}})
			ep := mount(t, h, Config{})
			d := websocket.Dialer{Subprotocols: []string{"chatwire", "token.s3cr3t"}}
			ws, resp, err := d.Dial(ep, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "chatwire" {
				t.Fatalf("selected subprotocol %q, want chatwire (never the token)", got)
			}
			c := &Client{t: t, Conn: ws, Welcome: ExpectWelcome(t, ws)}
			c.Send(msg("hi"))
			c.Read()
			if p := rec.requests()[0].Principal; p != "alice" {
				t.Fatalf("principal %v reached the handler, want alice", p)
			}
			if released.Load() != 0 {
				t.Fatal("released while connected")
			}
			_ = ws.Close()
			eventually(t, "release after close", func() bool { return released.Load() == 1 })
		}},
		{"CredentialsExpire1008", func(t *testing.T, mount Mount) {
			h := newHub(t, core.Options{Handler: echo, Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
				return core.Admission{Expires: time.Now().Add(100 * time.Millisecond)}, nil
			}})
			ep := mount(t, h, Config{})
			c := Dial(t, ep, nil, nil)
			if code := c.ExpectClose(); code != core.ClosePolicyViolation {
				t.Fatalf("close code %d, want 1008 when credentials expire", code)
			}
		}},
		{"GuardsRejectOrClose", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			_, ep := serve(t, mount, core.Options{Handler: rec, Store: store, Guards: []core.Guard{
				func(ctx context.Context, r *core.Request) error {
					switch r.Message.Content {
					case "too fast":
						return core.NewError(core.CodeRateLimited, "Rate limit exceeded")
					case "flood":
						return fmt.Errorf("limit: %w", core.ErrPolicyViolation)
					case "panic":
						panic("guard bug")
					}
					return nil
				},
			}})
			c := Dial(t, ep, url.Values{"sessionId": {"guarded"}}, nil)
			c.Send(msg("too fast"))
			assertError(t, c.Read(), core.CodeRateLimited, "Rate limit exceeded")
			c.Send(msg("panic"))
			assertError(t, c.Read(), core.CodeInternal, "Internal error processing message")
			c.Send(msg("ok"))
			if got := c.ReadN(2); got[0].Content != "ok" {
				t.Fatalf("got %+v", got)
			}
			page, err := store.Read(context.Background(), "guarded", 0)
			if err != nil || len(page.Records) != 2 {
				t.Fatalf("stored %d records (%v), want 2: a rejected frame is not stored", len(page.Records), err)
			}
			c.Send(msg("flood"))
			if code := c.ExpectClose(); code != core.ClosePolicyViolation {
				t.Fatalf("close code %d, want 1008", code)
			}
			if n := len(rec.requests()); n != 1 {
				t.Fatalf("handler saw %d messages, want 1", n)
			}
		}},
	}
}
