package adaptertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

const typeList = ". Expected one of: message, typing, error, tool_call, tool_result, system"

func framingCases() []testCase {
	return []testCase{
		{"HeartbeatTextPing", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, HeartbeatInterval: 30 * time.Millisecond})
			c := Dial(t, ep, nil, nil)
			b, err := c.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != `{"type":"ping"}` {
				t.Fatalf("first frame = %q, want the heartbeat", b)
			}
		}},
		{"ClientHeartbeatFramesAccepted", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo})
			c := Dial(t, ep, nil, nil)
			c.SendRaw(`{"type":"pong"}`)
			c.SendRaw(`{"type":"ping"}`)
			c.SendRaw(` { "type" : "pong" } `)
			c.Send(msg("after"))
			if m := c.Read(); m.Type != core.TypeMessage || m.Content != "Echo: after" {
				t.Fatalf("got %+v, want the echo (no error envelope for heartbeats)", m)
			}
		}},
		{"DeadPeerClosed", func(t *testing.T, mount Mount) {
			gone := make(chan core.DisconnectEvent, 1)
			h, ep := serve(t, mount, core.Options{
				Handler: echo, HeartbeatInterval: 40 * time.Millisecond, PongTimeout: 40 * time.Millisecond,
				OnDisconnect: func(e core.DisconnectEvent) { gone <- e },
			})
			c := Dial(t, ep, nil, nil)
			_ = c // never reads, so never answers pings
			eventually(t, "connection registered", func() bool { return h.ConnCount() == 1 })
			select {
			case <-gone:
			case <-time.After(waitTimeout):
				t.Fatal("dead peer not closed")
			}
			eventually(t, "connection freed", func() bool { return h.ConnCount() == 0 })
		}},
		{"OversizedFrameRejectedConnectionStays", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, MaxMessageSize: 100})
			c := Dial(t, ep, nil, nil)
			c.SendRaw(`{"type":"message","content":"` + strings.Repeat("x", 200) + `"}`)
			m := c.Read()
			assertError(t, m, core.CodeMessageTooLarge, "Message exceeds maximum size of 100 bytes")
			c.Send(msg("small"))
			if m := c.Read(); m.Content != "Echo: small" {
				t.Fatalf("after oversized frame got %+v", m)
			}
		}},
		{"FrameAtLimitAccepted", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, MaxMessageSize: 100})
			c := Dial(t, ep, nil, nil)
			prefix, suffix := `{"type":"message","content":"`, `"}`
			c.SendRaw(prefix + strings.Repeat("y", 100-len(prefix)-len(suffix)) + suffix)
			if m := c.Read(); m.Type != core.TypeMessage {
				t.Fatalf("a frame of exactly MaxMessageSize bytes was refused: %+v", m)
			}
		}},
		{"HardCapCloses1009", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, MaxMessageSize: 100, HardMaxMessageSize: 1000})
			c := Dial(t, ep, nil, nil)
			_ = c.Conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("z", 5000)))
			if code := c.ExpectClose(); code != core.CloseMessageTooBig {
				t.Fatalf("close code %d, want 1009", code)
			}
		}},
		{"DecodeFailures", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			_, ep := serve(t, mount, core.Options{Handler: rec})
			c := Dial(t, ep, nil, nil)
			tests := []struct{ frame, text string }{
				{`not json`, "Failed to parse message as JSON"},
				{`{"type":"message","content":"x"`, "Failed to parse message as JSON"},
				{`"a string"`, "Message must be a JSON object"},
				{`42`, "Message must be a JSON object"},
				{`null`, "Message must be a JSON object"},
				{`[1,2]`, "Message must be a JSON object"},
				{`{"content":"x"}`, "Invalid message type: undefined" + typeList},
				{`{"type":7,"content":"x"}`, "Invalid message type: 7" + typeList},
				{`{"type":"chat","content":"x"}`, "Invalid message type: chat" + typeList},
				{`{"type":"message"}`, "Message must have a string 'content' field"},
				{`{"type":"message","content":5}`, "Message must have a string 'content' field"},
				{`{"type":"message","content":null}`, "Message must have a string 'content' field"},
			}
			for _, tt := range tests {
				c.SendRaw(tt.frame)
				assertError(t, c.Read(), core.CodeInvalidMessage, tt.text)
			}
			c.Send(msg("still open"))
			if m := c.Read(); m.Content != "Echo: still open" {
				t.Fatalf("got %+v", m)
			}
			if n := len(rec.requests()); n != 1 {
				t.Fatalf("handler called %d times, want 1 (only for the valid frame)", n)
			}
		}},
		{"BinaryFrameReadAsUTF8", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo})
			c := Dial(t, ep, nil, nil)
			_ = c.Conn.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"message","content":"héllo"}`))
			if m := c.Read(); m.Content != "Echo: héllo" {
				t.Fatalf("got %+v", m)
			}
		}},
		{"ServerFramesAreEnvelopes", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, HeartbeatInterval: 20 * time.Millisecond})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("x"))
			for i := 0; i < 5; i++ {
				b, err := c.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				if string(b) == `{"type":"ping"}` {
					continue
				}
				for _, key := range []string{`"id":`, `"type":`, `"role":`, `"content":`, `"timestamp":`} {
					if !strings.Contains(string(b), key) {
						t.Fatalf("frame %s lacks %s", b, key)
					}
				}
			}
		}},
	}
}

// assertError checks an error envelope: type error, role system, fresh id, timestamp,
// exact content and metadata code.
func assertError(t *testing.T, m core.Message, code core.ErrorCode, text string) {
	t.Helper()
	if m.Type != core.TypeError || m.Role != core.RoleSystem {
		t.Fatalf("got %s/%s %q, want an error envelope %q", m.Type, m.Role, m.Content, text)
	}
	if m.Content != text {
		t.Fatalf("error content %q, want %q", m.Content, text)
	}
	if got := metaCode(m); got != code {
		t.Fatalf("error code %q, want %q (metadata %s)", got, code, m.Metadata)
	}
	if m.ID == "" || m.Timestamp == 0 {
		t.Fatalf("error envelope lacks id or timestamp: %+v", m)
	}
}
