package adaptertest

import (
	"net/url"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

// welcomeCases hold the welcome frame (PROTOCOL.md, "The welcome frame"): the first frame of
// every connection names its session, so a client that did not name one can resume it.
func welcomeCases() []testCase {
	return []testCase{
		{"WelcomeNamesTheSession", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			// Dial fails unless the first frame is the welcome; Welcome holds what it said.
			named := Dial(t, ep, url.Values{"sessionId": {"room-7"}}, nil)
			if named.Welcome.SessionID != "room-7" {
				t.Fatalf("welcome names session %q, want the requested room-7", named.Welcome.SessionID)
			}
			a := Dial(t, ep, nil, nil)
			b := Dial(t, ep, nil, nil)
			if !core.ValidSessionID(a.Welcome.SessionID) || a.Welcome.SessionID == b.Welcome.SessionID {
				t.Fatalf("fresh sessions %q and %q: want two valid, distinct ids", a.Welcome.SessionID, b.Welcome.SessionID)
			}
			if a.Welcome.ConnectionID == b.Welcome.ConnectionID {
				t.Fatal("two connections share a connection id")
			}
		}},
		{"WelcomeLetsAClientResumeASessionItDidNotName", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			a := Dial(t, ep, nil, nil)
			a.Send(core.Message{ID: "first", Type: core.TypeMessage, Content: "one"})
			got := a.ReadN(2) // the echo of "first", then the reply
			if got[0].ID != "first" {
				t.Fatalf("got %+v", got)
			}
			_ = a.Conn.Close()
			// Reconnect to the session the welcome named, after the first message: the reply
			// is replayed, and the new welcome comes before it.
			b := Dial(t, ep, url.Values{"sessionId": {a.Welcome.SessionID}, "lastMessageId": {"first"}}, nil)
			if b.Welcome.SessionID != a.Welcome.SessionID {
				t.Fatalf("resumed into %q, want %q", b.Welcome.SessionID, a.Welcome.SessionID)
			}
			if m := b.Read(); m.ID != got[1].ID || m.Content != "Echo: one" {
				t.Fatalf("replay after the welcome: got %+v, want the stored reply", m)
			}
		}},
		{"WelcomeIsNeverStored", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"w"}}
			a := Dial(t, ep, q, nil)
			a.Send(core.Message{ID: "m1", Type: core.TypeMessage, Content: "x"})
			a.ReadN(2)
			all := DialJoined(t, ep, url.Values{"sessionId": {"w"}, "history": {"all"}}, nil)
			for i, want := range []string{"m1", ""} {
				m := all.Read()
				if _, ok := envelope.WelcomeOf(&m); ok {
					t.Fatalf("history entry %d is a welcome frame: %+v", i, m)
				}
				if want != "" && m.ID != want {
					t.Fatalf("history entry %d = %+v, want %s", i, m, want)
				}
			}
		}},
		{"WelcomeAnnouncesTheCatchUp", func(t *testing.T, mount Mount) {
			// The welcome says how many stored messages the replay holds and which streams
			// run, so a client knows when the catch-up is over (and that nothing runs).
			g := newGated()
			_, ep := serve(t, mount, core.Options{Handler: g, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"catch-up"}}
			idle := Dial(t, ep, url.Values{"sessionId": {"catch-up"}, "history": {"all"}}, nil)
			if idle.Welcome.Replayed != 0 || idle.Welcome.Streams == nil || len(idle.Welcome.Streams) != 0 {
				t.Fatalf("empty session: welcome %+v, want replayed 0 and streams []", idle.Welcome)
			}
			a := DialJoined(t, ep, q, nil)
			a.Send(msg("start"))
			a.Read() // the stored user message
			g.feed("so far")
			asm := newAssembler(t)
			var id string
			for id == "" {
				id = asm.apply(a.Read())
			}
			b := Dial(t, ep, url.Values{"sessionId": {"catch-up"}, "history": {"all"}}, nil)
			if b.Welcome.Replayed != 1 || len(b.Welcome.Streams) != 1 || b.Welcome.Streams[0] != id {
				t.Fatalf("welcome %+v, want replayed 1 and streams [%s]", b.Welcome, id)
			}
			if m := b.Read(); m.Content != "start" {
				t.Fatalf("replay after the welcome: %+v", m)
			}
			if m := b.Read(); m.Type != core.TypeTyping {
				t.Fatalf("after the replay: %+v, want the running stream's resume frame", m)
			}
			close(g.gate)
		}},
		{"WelcomeInStatelessMode", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo})
			c := Dial(t, ep, url.Values{"sessionId": {"tab-1"}}, nil)
			if c.Welcome.SessionID != "tab-1" {
				t.Fatalf("welcome names %q, want tab-1", c.Welcome.SessionID)
			}
			c.Send(msg("hi"))
			if m := c.Read(); m.Content != "Echo: hi" {
				t.Fatalf("got %+v", m)
			}
		}},
	}
}
