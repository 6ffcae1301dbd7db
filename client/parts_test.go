package client_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// partsReply streams reasoning, a tool call whose input streams in, a source and text; it
// waits on gate (when not nil) after the reasoning.
func partsReply(gate chan struct{}) core.Handler {
	return core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		r, _ := s.StartReasoning(ctx)
		_ = r.Delta(ctx, "Thinking ")
		_ = r.Delta(ctx, "hard.")
		if gate != nil {
			select {
			case <-gate:
			case <-s.Context().Done():
				return nil
			}
		}
		_ = r.End(ctx)
		call, _ := s.StartToolCall(ctx, core.ToolCallInfo{ID: "c1", Name: "weather"})
		_ = call.InputDelta(ctx, `{"city":`)
		_ = call.InputDelta(ctx, `"Paris"}`)
		_ = call.Input(ctx, json.RawMessage(`{"city":"Paris"}`))
		_ = call.Output(ctx, json.RawMessage(`{"sky":"sunny"}`))
		_ = s.SourceURL(ctx, core.SourceURL{ID: "s1", URL: "https://example.com"})
		_ = s.Delta(ctx, "Sunny")
		_ = s.Delta(ctx, " today.")
		s.SetFinishReason(core.FinishStop)
		return s.Close(ctx)
	})
}

// TestStreamParts: the client assembles the parts of a streamed reply, frame by frame and
// after a reconnect (a resume frame replaces them), and ends with the stored parts.
func TestStreamParts(t *testing.T) {
	gate := make(chan struct{})
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	s := startServer(t, core.Options{Handler: partsReply(gate), Store: store})
	e := dial(t, s.url(), client.Options{SessionID: "parts"})
	sent, err := e.c.SendText(context.Background(), "weather?")
	if err != nil {
		t.Fatal(err)
	}
	mid := e.until("the reasoning", func(ev client.Event) bool {
		return ev.Kind == client.EventStream && len(ev.Stream.Parts) == 1 && ev.Stream.Parts[0].Text == "Thinking hard."
	})
	if mid.Stream.Text != "" || mid.Stream.Parts[0].Type != parts.PartReasoning || mid.Stream.ReplyTo != sent.ID {
		t.Fatalf("mid-stream %+v: reasoning must not be text; replyTo %q, want %q", mid.Stream, mid.Stream.ReplyTo, sent.ID)
	}

	// A second client joining now gets the parts so far in one resume frame.
	late := dial(t, s.url(), client.Options{SessionID: "parts"})
	resumed := late.until("the resume frame", func(ev client.Event) bool { return ev.Kind == client.EventStream && ev.Stream.Replaced })
	if len(resumed.Stream.Parts) != 1 || resumed.Stream.Parts[0].Text != "Thinking hard." || len(resumed.Stream.Chunks) != 2 {
		t.Fatalf("resume frame: parts %+v from chunks %+v, want the reasoning compacted into start + one delta", resumed.Stream.Parts, resumed.Stream.Chunks)
	}
	close(gate)
	for _, c := range []*events{e, late} {
		var last client.Event
		for {
			ev := c.until("stream events", func(ev client.Event) bool { return ev.Kind == client.EventStream || ev.Kind == client.EventStreamEnd })
			if ev.Kind == client.EventStreamEnd {
				if got, want := partsString(t, last.Stream.Parts), partsString(t, ev.Stream.Parts); got != want {
					t.Fatalf("assembled parts\n%s\nstored\n%s", got, want)
				}
				if ev.Stream.Text != "Sunny today." || ev.Stream.FinishReason != core.FinishStop {
					t.Fatalf("end %+v", ev.Stream)
				}
				break
			}
			last = ev
		}
	}
}

func partsString(t *testing.T, ps []parts.Part) string {
	t.Helper()
	var b strings.Builder
	for _, p := range ps {
		if p.State == parts.PartStreaming {
			p.State = parts.PartDone
		}
		j, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}
