package adaptertest

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
)

// The reply-policy cases: a second message reaches the other instance while the first
// message's reply streams on instance A (core.Options.WhileReplying).

// policyBot streams "working " and then, for a message containing "long", waits: until a
// message is steered to it (it writes what it was told) or its context ends (cancelled).
// Other messages get "short reply" at once.
type policyBot struct {
	started chan string // the stream id of each long reply, once it waits
}

func (b *policyBot) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(req.Message.Content, "long") {
		if err := s.Delta(ctx, "short reply to "+req.Message.Content); err != nil {
			return err
		}
		return s.Close(ctx)
	}
	if err := s.Delta(ctx, "working "); err != nil {
		return err
	}
	b.started <- s.ID()
	select {
	case <-s.SteerSignal():
		for _, m := range s.Steered() {
			if err := s.Delta(ctx, "steered by "+m.Content+" "); err != nil {
				return err
			}
		}
		return s.Close(ctx)
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(waitTimeout):
		return s.Delta(ctx, "nobody steered")
	}
}

func policyFor(sid string) core.ReplyPolicy {
	p, _, _ := strings.Cut(sid, "-")
	return core.ReplyPolicy(p)
}

// coded returns the code, messageId and stream of a coded envelope's metadata.
func coded(m core.Message) (code core.ErrorCode, messageID, stream string) {
	var md struct {
		Code      core.ErrorCode `json:"code"`
		MessageID string         `json:"messageId"`
		Stream    any            `json:"stream"`
	}
	_ = json.Unmarshal(m.Metadata, &md)
	s, _ := md.Stream.(string)
	return md.Code, md.MessageID, s
}

func policyClusterCases() []clusterCase {
	setup := func(t *testing.T, mount Mount, newStore StoreFactory, sid string) (*policyBot, *Client, *Client, string) {
		bot := &policyBot{started: make(chan string, 4)}
		in := twoInstances(t, mount, newStore, core.Options{Handler: bot, WhileReplying: policyFor})
		q := url.Values{"sessionId": {sid}}
		a := DialJoined(t, in[0].url, q, nil)
		b := DialJoined(t, in[1].url, q, nil)
		a.Send(core.Message{ID: "first", Type: core.TypeMessage, Content: "long task"})
		var id string
		select {
		case id = <-bot.started:
		case <-time.After(waitTimeout):
			t.Fatal("the first reply did not start")
		}
		return bot, a, b, id
	}
	return []clusterCase{
		{"SteerFromOtherInstance", func(t *testing.T, mount Mount, newStore StoreFactory) {
			_, _, b, id := setup(t, mount, newStore, "steer-x")
			b.Send(core.Message{ID: "second", Type: core.TypeMessage, Content: "go left"})
			v := newHITLView(t)
			var ack *core.Message
			v.until(b, "the steered reply's end", func() bool {
				for i := range v.others {
					if code, mid, stream := coded(v.others[i]); code == core.CodeSteered && mid == "second" && stream == id {
						ack = &v.others[i]
					}
				}
				return v.final != nil && ack != nil
			})
			if ack == nil || ack.Type != core.TypeSystem {
				t.Fatalf("no STEERED acknowledgement for the second message: %+v", v.others)
			}
			if v.final.ID != id || v.final.Content != "working steered by go left " {
				t.Fatalf("reply %s ended %q", v.final.ID, v.final.Content)
			}
			stored := false
			for _, m := range v.others {
				stored = stored || (m.ID == "second" && m.Type == core.TypeMessage)
			}
			if !stored {
				t.Fatal("the steered message was not delivered to the session as a message")
			}
		}},
		{"InterruptFromOtherInstance", func(t *testing.T, mount Mount, newStore StoreFactory) {
			_, _, b, id := setup(t, mount, newStore, "interrupt-x")
			b.Send(core.Message{ID: "second", Type: core.TypeMessage, Content: "something else"})
			v := newHITLView(t)
			var finals []core.Message
			for len(finals) < 2 {
				v.until(b, "two replies' ends", func() bool { return v.final != nil })
				finals = append(finals, *v.final)
				v.final = nil
			}
			if finals[0].ID != id || !strings.Contains(string(finals[0].Metadata), `"state":"cancelled"`) {
				t.Fatalf("first reply ended %s, want cancelled", finals[0].Metadata)
			}
			if finals[1].Content != "short reply to something else" || !strings.Contains(string(finals[1].Metadata), `"state":"done"`) {
				t.Fatalf("second reply %q %s", finals[1].Content, finals[1].Metadata)
			}
		}},
		{"SteerAndCancelReachProducerWhoseClientsLeft", func(t *testing.T, mount Mount, newStore StoreFactory) {
			for _, action := range []string{"steer", "cancel"} {
				_, a, b, id := setup(t, mount, newStore, "steer-left-"+action)
				_ = a.Conn.Close() // the tab on A reloads onto B: A has no connection of the session
				time.Sleep(50 * time.Millisecond)
				if action == "steer" {
					b.Send(core.Message{ID: "second", Type: core.TypeMessage, Content: "go right"})
				} else {
					b.SendRaw(`{"type":"system","content":"cancel","metadata":{"stream":{"id":"` + id + `","action":"cancel"}}}`)
				}
				v := newHITLView(t)
				v.until(b, "the reply's end", func() bool { return v.final != nil })
				want := `"state":"done"`
				if action == "cancel" {
					want = `"state":"cancelled"`
				}
				if v.final.ID != id || !strings.Contains(string(v.final.Metadata), want) {
					t.Fatalf("%s: reply ended %q %s", action, v.final.Content, v.final.Metadata)
				}
				if action == "steer" && v.final.Content != "working steered by go right " {
					t.Fatalf("steered reply %q", v.final.Content)
				}
			}
		}},
		{"RejectWhileRunning", func(t *testing.T, mount Mount, newStore StoreFactory) {
			_, _, b, id := setup(t, mount, newStore, "reject-x")
			b.Send(core.Message{ID: "second", Type: core.TypeMessage, Content: "hello?"})
			m := b.Read()
			for m.Type == core.TypeTyping || m.ID == "first" {
				m = b.Read()
			}
			if code, mid, _ := coded(m); m.Type != core.TypeError || code != core.CodeReplyRunning || mid != "second" {
				t.Fatalf("got %+v, want an error envelope REPLY_RUNNING about message second", m)
			}
			// The first reply still runs: stop it and see it end.
			b.SendRaw(`{"type":"system","content":"cancel","metadata":{"stream":{"id":"` + id + `","action":"cancel"}}}`)
			v := newHITLView(t)
			v.until(b, "the cancelled reply's end", func() bool { return v.final != nil })
			if v.final.ID != id || !strings.Contains(string(v.final.Metadata), `"state":"cancelled"`) {
				t.Fatalf("first reply ended %s", v.final.Metadata)
			}
		}},
	}
}
