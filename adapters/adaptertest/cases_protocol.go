package adaptertest

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/chatwire/chatwire/core"
)

// protocolCases hold the points PROTOCOL.md decides deliberately where a reader could guess
// otherwise: how an invalid type is shown, which inbound types reach the handler and how
// they are stored, what a cancel of an unknown stream does, and that an error envelope
// names the message it is about.
func protocolCases() []testCase {
	return []testCase{
		{"InvalidTypeShowsTheRawToken", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo})
			c := Dial(t, ep, nil, nil)
			for _, tt := range []struct{ frame, value string }{
				{`{"type":1.50,"content":"x"}`, "1.50"}, // JavaScript would show 1.5
				{`{"type":1e2,"content":"x"}`, "1e2"},   // JavaScript would show 100
				{`{"type":-0,"content":"x"}`, "-0"},
				{`{"type":true,"content":"x"}`, "true"},
				{`{"type":null,"content":"x"}`, "null"},
				{`{"type":{"a":1},"content":"x"}`, "[object Object]"},
				{`{"type":[],"content":"x"}`, ""},
				{`{"type":[1,"a",null,[2,["b"]],{}],"content":"x"}`, "1,a,,2,b,[object Object]"},
				{`{"type":"Message","content":"x"}`, "Message"},
			} {
				c.SendRaw(tt.frame)
				assertError(t, c.Read(), core.CodeInvalidMessage, "Invalid message type: "+tt.value+typeList)
			}
		}},
		{"EveryTypeReachesTheHandlerAsUser", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			_, ep := serve(t, mount, core.Options{Handler: rec, Store: store})
			c := DialJoined(t, ep, url.Values{"sessionId": {"types"}}, nil)
			stored := []core.Type{core.TypeMessage, core.TypeError, core.TypeToolCall, core.TypeToolResult, core.TypeSystem}
			for _, typ := range stored {
				c.SendRaw(`{"id":"m-` + string(typ) + `","type":"` + string(typ) + `","role":"assistant","content":"from a client"}`)
				if m := c.Read(); m.ID != "m-"+string(typ) || m.Type != typ || m.Role != core.RoleUser {
					t.Fatalf("echo of a client %s = %+v, want it stored with its type and role user", typ, m)
				}
				if typ == core.TypeMessage {
					c.Read() // the recorder answers chat messages only
				}
			}
			c.SendRaw(`{"id":"m-typing","type":"typing","content":""}`)
			eventually(t, "the typing envelope to reach the handler", func() bool { return len(rec.requests()) == len(stored)+1 })
			for i, req := range rec.requests() {
				if req.Message.Role != core.RoleUser {
					t.Fatalf("request %d reached the handler with role %s", i, req.Message.Role)
				}
			}
			page, err := store.Read(context.Background(), "types", 0)
			if err != nil {
				t.Fatal(err)
			}
			var users []core.Type
			for _, r := range page.Records {
				if r.Message.Role == core.RoleUser {
					users = append(users, r.Message.Type)
				}
			}
			if len(users) != len(stored) {
				t.Fatalf("stored user turns %v, want %v (typing is never stored)", users, stored)
			}
			for i := range stored {
				if users[i] != stored[i] {
					t.Fatalf("stored user turns %v, want %v", users, stored)
				}
			}
		}},
		{"CancelOfAnUnknownStreamIsIgnored", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			_, ep := serve(t, mount, core.Options{Handler: rec, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			c := DialJoined(t, ep, url.Values{"sessionId": {"cancel-unknown"}}, nil)
			c.SendRaw(`{"type":"system","content":"cancel","metadata":{"stream":{"id":"no-such-stream","action":"cancel"}}}`)
			c.Sync() // nothing (no error envelope, no stored message) comes before the sync's answer
			if len(c.pending) != 0 {
				t.Fatalf("a cancel of an unknown stream was answered with %+v", c.pending)
			}
			if n := len(rec.requests()); n != 0 {
				t.Fatalf("the cancel reached the handler (%d requests)", n)
			}
		}},
		{"ErrorEnvelopeNamesTheMessage", func(t *testing.T, mount Mount) {
			h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				return core.NewError("NOT_TODAY", "Ask again tomorrow")
			})
			_, ep := serve(t, mount, core.Options{Handler: h})
			c := Dial(t, ep, nil, nil)
			c.Send(core.Message{ID: "ask-1", Type: core.TypeMessage, Content: "?"})
			m := c.Read()
			assertError(t, m, "NOT_TODAY", "Ask again tomorrow")
			var meta struct {
				MessageID string `json:"messageId"`
			}
			if err := json.Unmarshal(m.Metadata, &meta); err != nil || meta.MessageID != "ask-1" {
				t.Fatalf("error metadata %s does not name the message ask-1", m.Metadata)
			}
		}},
	}
}
