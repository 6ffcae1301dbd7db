package adaptertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

func handlerCases() []testCase {
	return []testCase{
		{"MessageNormalised", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			_, ep := serve(t, mount, core.Options{Handler: rec})
			c := Dial(t, ep, nil, nil)
			before := envelope.NowMillis()
			c.SendRaw(`{"id":"client-1","type":"message","role":"assistant","content":"a","timestamp":5,"metadata":{"k":[1,2]}}`)
			c.SendRaw(`{"id":7,"type":"message","role":"system","content":"b","metadata":[1]}`)
			c.SendRaw(`{"type":"message","content":"c","metadata":"s","extra":{"x":1}}`)
			c.ReadN(3)
			reqs := rec.requests()
			if len(reqs) != 3 {
				t.Fatalf("handler saw %d messages", len(reqs))
			}
			a, b, cc := reqs[0].Message, reqs[1].Message, reqs[2].Message
			if a.ID != "client-1" {
				t.Errorf("client id not kept: %q", a.ID)
			}
			if b.ID == "" || cc.ID == "" || b.ID == cc.ID {
				t.Errorf("ids not assigned: %q %q", b.ID, cc.ID)
			}
			for _, m := range []core.Message{a, b, cc} {
				if m.Role != core.RoleUser {
					t.Errorf("role %q reached the handler, want user", m.Role)
				}
				if m.Timestamp < before {
					t.Errorf("timestamp %d is not server time (>= %d)", m.Timestamp, before)
				}
			}
			if string(a.Metadata) != `{"k":[1,2]}` {
				t.Errorf("object metadata = %s", a.Metadata)
			}
			if b.Metadata != nil || cc.Metadata != nil {
				t.Errorf("non-object metadata kept: %s %s", b.Metadata, cc.Metadata)
			}
			if reqs[0].SessionID == "" || reqs[0].ConnID == "" {
				t.Errorf("request lacks session or connection id: %+v", reqs[0])
			}
		}},
		{"RepliesInOrder", func(t *testing.T, mount Mount) {
			h := core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
				return []core.Message{
					{Type: core.TypeTyping, Content: ""},
					{Type: core.TypeToolCall, Content: `{"name":"roll"}`},
					{Type: core.TypeToolResult, Content: "4"},
					{Content: "one"}, {Content: "two"},
				}, nil
			})
			_, ep := serve(t, mount, core.Options{Handler: h})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("go"))
			got := c.ReadN(5)
			want := []core.Type{core.TypeTyping, core.TypeToolCall, core.TypeToolResult, core.TypeMessage, core.TypeMessage}
			for i, m := range got {
				if m.Type != want[i] || m.Role != core.RoleAssistant || m.ID == "" || m.Timestamp == 0 {
					t.Fatalf("reply %d = %+v", i, m)
				}
			}
			if got[3].Content != "one" || got[4].Content != "two" {
				t.Fatalf("replies out of order: %q %q", got[3].Content, got[4].Content)
			}
		}},
		{"HandlerErrors", func(t *testing.T, mount Mount) {
			h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				switch req.Message.Content {
				case "typed":
					return core.NewError("QUOTA", "You are out of credits")
				case "wrapped":
					return errors.Join(errors.New("db password=hunter2"), core.NewError("BUSY", "Try later"))
				case "plain":
					return errors.New("secret internal detail")
				case "panic":
					panic("boom")
				}
				return w.Send(ctx, core.Message{Content: "ok"})
			})
			_, ep := serve(t, mount, core.Options{Handler: h})
			c := Dial(t, ep, nil, nil)
			tests := []struct {
				in   string
				code core.ErrorCode
				text string
			}{
				{"typed", "QUOTA", "You are out of credits"},
				{"wrapped", "BUSY", "Try later"},
				{"plain", core.CodeInternal, "Internal error processing message"},
				{"panic", core.CodeInternal, "Internal error processing message"},
			}
			for _, tt := range tests {
				c.Send(msg(tt.in))
				assertError(t, c.Read(), tt.code, tt.text)
			}
			c.Send(msg("fine"))
			if m := c.Read(); m.Content != "ok" {
				t.Fatalf("connection broken after handler failures: %+v", m)
			}
		}},
		{"FrameHooks", func(t *testing.T, mount Mount) {
			var mu sync.Mutex
			var in []core.FramePhase
			var out []core.FramePhase
			h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				if req.Message.Content == "fail" {
					return errors.New("x")
				}
				return w.Send(ctx, core.Message{Content: "r"})
			})
			_, ep := serve(t, mount, core.Options{
				Handler:           h,
				HeartbeatInterval: 10 * time.Millisecond,
				OnFrameIn: func(f core.FrameIn) {
					mu.Lock()
					in = append(in, f.Phase)
					mu.Unlock()
					if f.Phase == core.FrameDecoded && f.Message.Content == "panic-hook" {
						panic("hook panic")
					}
				},
				OnFrameOut: func(f core.FrameOut) {
					mu.Lock()
					out = append(out, f.Phase)
					mu.Unlock()
					if f.Bytes == 0 || f.Message == nil {
						t.Errorf("FrameOut without bytes or message: %+v", f)
					}
				},
			})
			count := func(n int) func() bool {
				return func() bool { mu.Lock(); defer mu.Unlock(); return len(in) == n }
			}
			c := Dial(t, ep, nil, nil)
			c.Send(msg("ok"))
			c.Read()
			eventually(t, "hooks of the first frame", count(3))
			c.SendRaw("garbage")
			c.Read()
			eventually(t, "hooks of the second frame", count(5))
			c.Send(msg("fail"))
			c.Read()
			eventually(t, "hooks of the third frame", count(8))
			c.Send(msg("panic-hook"))
			if m := c.Read(); m.Content != "r" {
				t.Fatalf("a panicking hook disturbed the transport: %+v", m)
			}
			eventually(t, "hooks of the fourth frame", count(11))
			time.Sleep(30 * time.Millisecond) // heartbeats flow meanwhile: they must not reach the hooks
			mu.Lock()
			defer mu.Unlock()
			want := []core.FramePhase{
				core.FrameReceived, core.FrameDecoded, core.FrameHandled,
				core.FrameReceived, core.FrameRejected,
				core.FrameReceived, core.FrameDecoded, core.FrameRejected,
				core.FrameReceived, core.FrameDecoded, core.FrameHandled,
			}
			if !equalPhases(in, want) {
				t.Fatalf("FrameIn phases = %v, want %v", in, want)
			}
			if len(out) != 5 {
				t.Fatalf("FrameOut phases = %v, want 5 sent frames (the welcome and four answers)", out)
			}
			for _, p := range out {
				if p != core.FrameSent {
					t.Fatalf("FrameOut phases = %v", out)
				}
			}
		}},
		{"HandlerContextCancelledOnDisconnect", func(t *testing.T, mount Mount) {
			started := make(chan struct{})
			cancelled := make(chan struct{})
			h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				close(started)
				<-ctx.Done()
				close(cancelled)
				return ctx.Err()
			})
			_, ep := serve(t, mount, core.Options{Handler: h})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("wait"))
			<-started
			_ = c.Conn.Close()
			select {
			case <-cancelled:
			case <-time.After(waitTimeout):
				t.Fatal("handler context not cancelled when the connection ended")
			}
		}},
	}
}

func equalPhases(a, b []core.FramePhase) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
