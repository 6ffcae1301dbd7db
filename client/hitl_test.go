package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/parts"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// askingBot asks for approval of a tool call, then a question, then writes what it got.
func askingBot() core.Handler {
	return core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		call, err := s.ToolCall(ctx, core.ToolCallInfo{ID: "c1", Name: "delete_file"}, json.RawMessage(`{"path":"/tmp/x"}`))
		if err != nil {
			return err
		}
		a, err := call.RequestApproval(ctx, core.ApprovalOptions{})
		if err != nil {
			return err
		}
		if a.Approved {
			if err := call.Output(ctx, json.RawMessage(`"deleted"`)); err != nil {
				return err
			}
		}
		q, err := s.Ask(ctx, core.Question{Message: "Your name?", Schema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string","minLength":1}},"required":["name"]}`)}, core.AskOptions{})
		if err != nil {
			return err
		}
		if err := s.Delta(ctx, "approved="+map[bool]string{true: "yes", false: "no"}[a.Approved]+" reason="+a.Reason+" "+q.Action+" "+string(q.Content)); err != nil {
			return err
		}
		return s.Close(ctx)
	})
}

func TestClientAnswersApprovalAndQuestion(t *testing.T) {
	// The principal (here a fixed name from Authenticate) is recorded as who answered.
	s := &server{t: t, opts: core.Options{Handler: askingBot(), Store: core.NewMemoryStore(core.MemoryStoreOptions{})}, addr: "127.0.0.1:0",
		wsOpts: wshttp.Options{Authenticate: func(*http.Request) (any, error) { return "alice", nil }}}
	s.start()
	t.Cleanup(func() { s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) }) })
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := client.Dial(ctx, s.url(), client.Options{SessionID: "hitl"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.SendText(ctx, "clean up"); err != nil {
		t.Fatal(err)
	}
	yes := true
	approved, asked, acks := false, false, 0
	var badAnswer *client.ServerError
	ended := false
	for !ended || acks < 2 || badAnswer == nil {
		var ev client.Event
		select {
		case ev = <-c.Events():
		case <-time.After(waitTimeout):
			t.Fatal("timed out")
		}
		switch ev.Kind {
		case client.EventStream:
			if p := ev.Stream.PendingApprovals(); len(p) == 1 && !approved {
				approved = true
				if err := c.Answer(ctx, core.Answer{ID: p[0].Approval.ID, Approved: &yes, Reason: "fine"}); err != nil {
					t.Fatal(err)
				}
			}
			if qs := ev.Stream.Questions(); len(qs) == 1 && qs[0].State == parts.QuestionPending && !asked {
				asked = true
				// An empty name breaks minLength: refused, the question keeps waiting.
				if err := c.Answer(ctx, core.Answer{ID: qs[0].ID, Action: core.AnswerAccept, Content: json.RawMessage(`{"name":""}`)}); err != nil {
					t.Fatal(err)
				}
				if err := c.Answer(ctx, core.Answer{ID: qs[0].ID, Action: core.AnswerAccept, Content: json.RawMessage(`{"name":"Ada"}`)}); err != nil {
					t.Fatal(err)
				}
			}
		case client.EventError:
			badAnswer = ev.Err.(*client.ServerError)
		case client.EventMessage:
			var md struct {
				Code string `json:"code"`
			}
			if json.Unmarshal(ev.Message.Metadata, &md) == nil && md.Code == string(core.CodeAnswerAccepted) {
				acks++
			}
		case client.EventStreamEnd:
			if ev.Stream.Text != `approved=yes reason=fine accept {"name":"Ada"}` {
				t.Fatalf("reply %q", ev.Stream.Text)
			}
			for _, p := range ev.Stream.Parts {
				if p.IsTool() && (p.State != parts.ToolOutputAvailable || p.Approval == nil || p.Approval.Approved == nil || !*p.Approval.Approved || p.Approval.AnsweredBy != "alice" || p.Approval.AnsweredAt == 0) {
					t.Fatalf("stored tool part %+v", p)
				}
			}
			ended = true
		}
	}
	// The acknowledgements may arrive after the reply's end: the handler runs on as soon as
	// the answer is recorded.
	if badAnswer.Code != string(core.CodeInvalidAnswer) || acks != 2 {
		t.Fatalf("bad answer error %v, %d acknowledgements; want INVALID_ANSWER and 2", badAnswer, acks)
	}
}

// TestPendingTimeoutAndUnsupported: a question nobody answers ends with the timeout's cancel
// (answeredBy "timeout"); a hub without a store cannot wait for a person (the reply ends with
// an error, the handler gets core.ErrPendingUnsupported).
func TestPendingTimeoutAndUnsupported(t *testing.T) {
	got := make(chan error, 2)
	bot := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		a, err := s.Ask(ctx, core.Question{Message: "Anyone?"}, core.AskOptions{Timeout: 100 * time.Millisecond})
		got <- err
		if err != nil {
			return err
		}
		if err := s.Delta(ctx, a.Action+" "+a.By+" "+map[bool]string{true: "timeout"}[a.Timeout]); err != nil {
			return err
		}
		return s.Close(ctx)
	})
	for _, stateful := range []bool{true, false} {
		opts := core.Options{Handler: bot}
		if stateful {
			opts.Store = core.NewMemoryStore(core.MemoryStoreOptions{})
		}
		s := startServer(t, opts)
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		c, err := client.Dial(ctx, s.url(), client.Options{SessionID: "timeout"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SendText(ctx, "hello"); err != nil {
			t.Fatal(err)
		}
		var end *client.Stream
		for end == nil {
			select {
			case ev := <-c.Events():
				if ev.Kind == client.EventStreamEnd {
					st := ev.Stream
					end = &st
				}
			case <-ctx.Done():
				t.Fatal("timed out")
			}
		}
		herr := <-got
		switch {
		case stateful && (herr != nil || end.State != core.StreamStateDone || end.Text != "cancel timeout timeout"):
			t.Fatalf("with a store: handler %v, reply %s %q", herr, end.State, end.Text)
		case stateful:
			if qs := end.Questions(); len(qs) != 1 || qs[0].State != core.AnswerCancel || qs[0].AnsweredBy != core.TimeoutAnswerer {
				t.Fatalf("question part after the timeout: %+v", qs)
			}
		case !errors.Is(herr, core.ErrPendingUnsupported) || end.State != core.StreamStateError:
			t.Fatalf("without a store: handler %v, reply %s", herr, end.State)
		}
		_ = c.Close()
		cancel()
	}
}
