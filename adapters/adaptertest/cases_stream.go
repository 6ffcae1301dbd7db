package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
)

// words returns n deterministic words, each followed by a space.
func words(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("w%d ", i)
	}
	return out
}

// streamer streams the given deltas for every message, with a tool call in the middle.
func streamer(deltas []string) core.Handler {
	return core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		for i, d := range deltas {
			if i == len(deltas)/2 {
				if err := s.Send(ctx, core.Message{Type: core.TypeToolCall, Content: `{"name":"roll_die","arguments":{"sides":6}}`}); err != nil {
					return err
				}
			}
			if err := s.Delta(ctx, d); err != nil {
				return err
			}
		}
		return s.Close(ctx)
	})
}

// gated streams one delta per value received from gate, until gate closes; each delta is
// acknowledged on acked once it has been delivered to the hub.
type gated struct {
	gate      chan string
	acked     chan struct{}
	cancelled chan error
}

func newGated() *gated {
	return &gated{gate: make(chan string), acked: make(chan struct{}), cancelled: make(chan error, 1)}
}

// feed makes the handler send each delta and waits until each is through.
func (g *gated) feed(ds ...string) {
	for _, d := range ds {
		g.gate <- d
		<-g.acked
	}
}

func (g *gated) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	for {
		select {
		case d, ok := <-g.gate:
			if !ok {
				return s.Close(ctx)
			}
			if err := s.Delta(ctx, d); err != nil {
				return err
			}
			g.acked <- struct{}{}
		case <-s.Context().Done():
			g.cancelled <- context.Cause(s.Context())
			return s.Close(context.Background())
		}
	}
}

func streamCases() []testCase {
	return []testCase{
		{"StreamStateless", func(t *testing.T, mount Mount) {
			ws := words(50)
			_, ep := serve(t, mount, core.Options{Handler: streamer(ws)})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("go"))
			a := newAssembler(t)
			s, others := a.readStream(c)
			if s.final != core.StreamStateDone || s.text != strings.Join(ws, "") {
				t.Fatalf("stream ended %q with %q", s.final, s.text)
			}
			if len(others) != 1 || others[0].Type != core.TypeToolCall {
				t.Fatalf("tool call not delivered in the stream: %+v", others)
			}
		}},
		{"Stream10000DeltasReassembleExactly", func(t *testing.T, mount Mount) {
			ws := words(10000)
			_, ep := serve(t, mount, core.Options{Handler: streamer(ws), Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			c := Dial(t, ep, url.Values{"sessionId": {"big"}}, nil)
			c.Send(msg("go"))
			a := newAssembler(t)
			s, _ := a.readStream(c)
			if s.final != core.StreamStateDone || s.text != strings.Join(ws, "") {
				t.Fatalf("stream ended %q with %d bytes, want %d", s.final, len(s.text), len(strings.Join(ws, "")))
			}
			// History holds one assistant message for the stream, not one per delta.
			r := Dial(t, ep, url.Values{"sessionId": {"big"}, "lastMessageId": {"unknown"}}, nil)
			hist := r.ReadN(4) // user message, tool call, final message, gap notice
			if hist[0].Content != "go" || hist[1].Type != core.TypeToolCall || hist[2].ID != s.stored.ID || hist[2].Content != s.text || metaCode(hist[3]) != core.CodeReplayGap {
				t.Fatalf("history after a stream: %+v", hist)
			}
		}},
		{"StreamResumeAfterReconnect", func(t *testing.T, mount Mount) {
			g := newGated()
			_, ep := serve(t, mount, core.Options{Handler: g, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"resume"}}
			a := Dial(t, ep, q, nil)
			a.Send(core.Message{ID: "ask", Type: core.TypeMessage, Content: "tell me"})
			if m := a.Read(); m.ID != "ask" {
				t.Fatalf("got %+v, want the stored user message", m)
			}
			ws := words(40)
			asm := newAssembler(t)
			g.feed(ws[:15]...)
			for asm.streams[firstID(asm)] == nil || asm.streams[firstID(asm)].text != strings.Join(ws[:15], "") {
				asm.apply(a.Read())
			}
			_ = a.Conn.Close() // drop mid-stream; the stream goes on
			g.feed(ws[15:30]...)
			q.Set("lastMessageId", "ask")
			b := Dial(t, ep, q, nil)
			resumed := newAssembler(t)
			m := b.Read()
			resumed.apply(m)
			if sm, _ := streamOf(m); !sm.Resume || m.Content != strings.Join(ws[:30], "") {
				t.Fatalf("first frame after reconnect = %q (meta %s), want one compacted frame with the text so far", m.Content, m.Metadata)
			}
			g.feed(ws[30:]...)
			close(g.gate)
			s, _ := resumed.readStream(b)
			if s.text != strings.Join(ws, "") || s.final != core.StreamStateDone {
				t.Fatalf("resumed stream = %q (%s)", s.text, s.final)
			}
			if s.frames > 1+len(ws[30:]) {
				t.Fatalf("resumed client got %d stream frames, want 1 compacted + at most %d live (fewer when coalesced)", s.frames, len(ws[30:]))
			}
		}},
		{"StreamCancel", func(t *testing.T, mount Mount) {
			g := newGated()
			_, ep := serve(t, mount, core.Options{Handler: g, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"cancel"}}
			a := DialJoined(t, ep, q, nil)
			other := DialJoined(t, ep, q, nil)
			a.Send(msg("start"))
			g.feed("partial ", "answer")
			asm := newAssembler(t)
			a.Read() // the stored user message
			var id string
			for id == "" || asm.streams[id].text != "partial answer" {
				id = asm.apply(a.Read())
			}
			a.SendRaw(`{"type":"system","content":"cancel","metadata":{"stream":{"id":"` + id + `","action":"cancel"}}}`)
			select {
			case cause := <-g.cancelled:
				if !errors.Is(cause, core.ErrStreamCancelled) {
					t.Fatalf("handler context cause = %v", cause)
				}
			case <-time.After(waitTimeout):
				t.Fatal("cancel did not reach the handler")
			}
			s, _ := asm.readStream(a)
			if s.final != core.StreamStateCancelled || s.text != "partial answer" {
				t.Fatalf("cancelled stream ended %q with %q", s.final, s.text)
			}
			oa := newAssembler(t)
			if so, _ := oa.readStream(other); so.final != core.StreamStateCancelled {
				t.Fatalf("second connection saw the end as %q", so.final)
			}
			r := Dial(t, ep, url.Values{"sessionId": {"cancel"}, "lastMessageId": {"nope"}}, nil)
			hist := r.ReadN(2)
			if sm, _ := streamOf(hist[1]); hist[1].ID != id || sm.State != core.StreamStateCancelled || hist[1].Content != "partial answer" {
				t.Fatalf("stored cancelled message = %+v", hist[1])
			}
		}},
		{"StreamSlowClientCoalesced", func(t *testing.T, mount Mount) {
			ws := words(20000)
			_, ep := serve(t, mount, core.Options{Handler: streamer(ws), SendQueueSize: 8})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("go"))
			time.Sleep(200 * time.Millisecond) // the client reads nothing while the deltas pile up
			a := newAssembler(t)
			s, _ := a.readStream(c)
			if s.text != strings.Join(ws, "") || s.final != core.StreamStateDone {
				t.Fatalf("coalesced stream lost text: %d bytes, state %q", len(s.text), s.final)
			}
			if s.frames >= len(ws) {
				t.Fatalf("%d delta frames for %d deltas: nothing was coalesced", s.frames, len(ws))
			}
		}},
		{"TypingDeliveredNotStored", func(t *testing.T, mount Mount) {
			h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				if err := w.Send(ctx, core.Message{Type: core.TypeTyping}); err != nil {
					return err
				}
				return w.Send(ctx, core.Message{Content: "done"})
			})
			_, ep := serve(t, mount, core.Options{Handler: h, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"typing"}}
			a := DialJoined(t, ep, q, nil)
			b := DialJoined(t, ep, q, nil)
			a.Send(msg("hi"))
			for _, c := range []*Client{a, b} {
				got := c.ReadN(3)
				if got[0].Content != "hi" || got[1].Type != core.TypeTyping || got[2].Content != "done" {
					t.Fatalf("got %+v", got)
				}
			}
			q.Set("lastMessageId", "unknown")
			r := Dial(t, ep, q, nil)
			hist := r.ReadN(3)
			if hist[0].Content != "hi" || hist[1].Content != "done" || metaCode(hist[2]) != core.CodeReplayGap {
				t.Fatalf("replayed %+v: typing must not be stored", hist)
			}
		}},
		{"StreamCancelledFrameIsNotAMessage", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			_, ep := serve(t, mount, core.Options{Handler: rec, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			c := Dial(t, ep, url.Values{"sessionId": {"x"}}, nil)
			c.SendRaw(`{"type":"system","content":"cancel","metadata":{"stream":{"id":"no-such-stream","action":"cancel"}}}`)
			c.Send(msg("after"))
			if got := c.ReadN(2); got[0].Content != "after" || got[1].Content != "Echo: after" {
				t.Fatalf("a cancel request was stored or answered: %+v", got)
			}
			if n := len(rec.requests()); n != 1 {
				t.Fatalf("handler saw %d messages, want 1", n)
			}
		}},
	}
}

func firstID(a *assembler) string {
	if len(a.order) == 0 {
		return ""
	}
	return a.order[0]
}
