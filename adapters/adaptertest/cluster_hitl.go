package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/storage"
)

// The human-in-the-loop cases: approvals and questions asked by a handler on one instance
// and answered from connections on either instance (PROTOCOL.md, "Human in the loop").

var _ storage.PendingStore = (*killableStore)(nil)

func (k *killableStore) pending() (storage.PendingStore, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	ps, ok := k.inner.(storage.PendingStore)
	if !ok {
		return nil, core.ErrPendingUnsupported
	}
	return ps, nil
}

func (k *killableStore) PendingAdd(ctx context.Context, sid string, r core.PendingRequest) error {
	ps, err := k.pending()
	if err != nil {
		return err
	}
	return ps.PendingAdd(ctx, sid, r)
}

func (k *killableStore) PendingGet(ctx context.Context, sid, id string) (core.PendingRequest, error) {
	ps, err := k.pending()
	if err != nil {
		return core.PendingRequest{}, err
	}
	return ps.PendingGet(ctx, sid, id)
}

func (k *killableStore) PendingList(ctx context.Context, sid string) ([]core.PendingRequest, error) {
	ps, err := k.pending()
	if err != nil {
		return nil, err
	}
	return ps.PendingList(ctx, sid)
}

func (k *killableStore) PendingAnswer(ctx context.Context, sid, id string, a storage.PendingAnswer, now int64) (core.PendingRequest, error) {
	ps, err := k.pending()
	if err != nil {
		return core.PendingRequest{}, err
	}
	return ps.PendingAnswer(ctx, sid, id, a, now)
}

func (k *killableStore) PendingDelete(ctx context.Context, sid, id string) error {
	ps, err := k.pending()
	if err != nil {
		return err
	}
	return ps.PendingDelete(ctx, sid, id)
}

// sizeSchema is the schema of hitlBot's question.
const sizeSchema = `{"type":"object","properties":{"size":{"type":"string","enum":["S","M","L"]},"count":{"type":"integer","minimum":1,"maximum":9}},"required":["size"]}`

// hitlBot asks before running its "deploy" tool (a question instead when the message says
// "ask"), then writes what it was told and ends the reply.
type hitlBot struct {
	timeout   time.Duration
	mu        sync.Mutex
	approvals []core.Approval
	answers   []core.QuestionAnswer
	errs      []error
	done      chan struct{} // one value per finished ServeChat
}

func newHITLBot(timeout time.Duration) *hitlBot {
	return &hitlBot{timeout: timeout, done: make(chan struct{}, 16)}
}

func (b *hitlBot) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) (err error) {
	defer func() {
		b.mu.Lock()
		if err != nil {
			b.errs = append(b.errs, err)
		}
		b.mu.Unlock()
		b.done <- struct{}{}
	}()
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	if err := s.Delta(ctx, "Let me check. "); err != nil {
		return err
	}
	if strings.Contains(req.Message.Content, "ask") {
		a, err := s.Ask(ctx, core.Question{Message: "Which size?", Schema: json.RawMessage(sizeSchema)}, core.AskOptions{Timeout: b.timeout})
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.answers = append(b.answers, a)
		b.mu.Unlock()
		if err := s.Delta(ctx, "You said "+a.Action+" "+string(a.Content)+"."); err != nil {
			return err
		}
		return s.Close(ctx)
	}
	tc, err := s.ToolCall(ctx, core.ToolCallInfo{ID: "call-deploy", Name: "deploy"}, json.RawMessage(`{"env":"prod"}`))
	if err != nil {
		return err
	}
	a, err := tc.RequestApproval(ctx, core.ApprovalOptions{Timeout: b.timeout})
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.approvals = append(b.approvals, a)
	b.mu.Unlock()
	if a.Approved {
		if err := tc.Output(ctx, json.RawMessage(`{"deployed":true}`)); err != nil {
			return err
		}
		if err := s.Delta(ctx, "Deployed."); err != nil {
			return err
		}
	} else if err := s.Delta(ctx, "Not deployed."); err != nil {
		return err
	}
	return s.Close(ctx)
}

func (b *hitlBot) waitDone(t *testing.T) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(waitTimeout):
		t.Fatal("the handler did not finish")
	}
}

// hitlView follows one session's frames: the stream's parts, the final message, and the
// other envelopes (acknowledgements, errors).
type hitlView struct {
	t      *testing.T
	parts  *parts.Builder
	final  *core.Message
	stored []parts.Part
	others []core.Message
	resume bool // the last stream frame was a resume frame
}

func newHITLView(t *testing.T) *hitlView { return &hitlView{t: t, parts: &parts.Builder{}} }

func (v *hitlView) apply(m core.Message) {
	var md struct {
		Stream *partsFrame  `json:"stream"`
		Parts  []parts.Part `json:"parts"`
		Code   string       `json:"code"`
		Answer string       `json:"answer"`
	}
	_ = json.Unmarshal(m.Metadata, &md)
	switch {
	case md.Stream != nil && m.Type == core.TypeTyping:
		if md.Stream.Resume {
			v.parts = &parts.Builder{}
		}
		v.resume = md.Stream.Resume
		for i := range md.Stream.Chunks {
			v.parts.Apply(&md.Stream.Chunks[i])
		}
	case md.Stream != nil && m.Type == core.TypeMessage && md.Stream.State != "":
		mm := m
		v.final, v.stored = &mm, md.Parts
	default:
		v.others = append(v.others, m)
	}
}

// until reads from c until cond holds.
func (v *hitlView) until(c *Client, what string, cond func() bool) {
	v.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			v.t.Fatalf("gave up waiting for %s", what)
		}
		v.apply(c.Read())
	}
}

// tool returns the "deploy" tool part so far (nil before it exists).
func (v *hitlView) tool() *parts.Part {
	for _, p := range v.parts.Parts() {
		if p.Type == "tool-deploy" {
			return &p
		}
	}
	return nil
}

// question returns the question part's state so far (nil before it exists).
func (v *hitlView) question() *parts.QuestionState {
	for _, p := range v.parts.Parts() {
		if p.Type == parts.PartDataPrefix+parts.QuestionPart {
			var q parts.QuestionState
			if err := json.Unmarshal(p.Data, &q); err != nil {
				v.t.Fatalf("question part %s: %v", p.Data, err)
			}
			return &q
		}
	}
	return nil
}

func (v *hitlView) approvalAsked() bool {
	p := v.tool()
	return p != nil && p.State == parts.ToolApprovalRequested && p.Approval != nil
}

func (v *hitlView) questionAsked() bool {
	q := v.question()
	return q != nil && q.State == parts.QuestionPending
}

// reply returns the code of the acknowledgement or error envelope about request id, reading
// from c until one arrives.
func (v *hitlView) reply(c *Client, id string) core.ErrorCode {
	v.t.Helper()
	seen := len(v.others)
	var code core.ErrorCode
	v.until(c, "the answer's acknowledgement", func() bool {
		for _, m := range v.others[seen:] {
			var md struct {
				Code   core.ErrorCode `json:"code"`
				Answer string         `json:"answer"`
			}
			if json.Unmarshal(m.Metadata, &md) == nil && md.Code != "" && (md.Answer == id || (id == "" && m.Type == core.TypeError)) {
				code = md.Code
				return true
			}
		}
		return false
	})
	return code
}

// answerFrame is a client's answer frame.
func answerFrame(answer string) string {
	return `{"type":"system","content":"answer","metadata":{"answer":` + answer + `}}`
}

func hitlClusterCases() []clusterCase {
	return []clusterCase{
		{"ApprovalAnsweredAfterReconnectToOtherInstance", func(t *testing.T, mount Mount, newStore StoreFactory) {
			bot := newHITLBot(0)
			in := twoInstances(t, mount, newStore, core.Options{Handler: bot})
			q := url.Values{"sessionId": {"hitl-move"}}
			a := DialJoined(t, in[0].url, q, nil)
			a.Send(core.Message{ID: "ask-deploy", Type: core.TypeMessage, Content: "deploy please"})
			va := newHITLView(t)
			va.until(a, "the approval request on A", va.approvalAsked)
			approvalID := va.tool().Approval.ID
			_ = a.Conn.Close() // the user reloads; the page comes back through instance B

			b := Dial(t, in[1].url, url.Values{"sessionId": {"hitl-move"}, "history": {"all"}}, nil)
			vb := newHITLView(t)
			vb.until(b, "the pending request on B", vb.approvalAsked)
			if !vb.resume || vb.tool().Approval.ID != approvalID {
				t.Fatalf("B's first view of the request: resume %v, part %+v; want a resume frame with approval %s", vb.resume, vb.tool(), approvalID)
			}
			b.SendRaw(answerFrame(`{"id":"` + approvalID + `","approved":true,"reason":"looks fine"}`))
			if code := vb.reply(b, approvalID); code != core.CodeAnswerAccepted {
				t.Fatalf("answer from B: %s, want %s", code, core.CodeAnswerAccepted)
			}
			vb.until(b, "the end of the reply", func() bool { return vb.final != nil })
			bot.waitDone(t)
			if vb.final.Content != "Let me check. Deployed." {
				t.Fatalf("final content %q", vb.final.Content)
			}
			var tool *parts.Part
			for i := range vb.stored {
				if vb.stored[i].Type == "tool-deploy" {
					tool = &vb.stored[i]
				}
			}
			if tool == nil || tool.State != parts.ToolOutputAvailable || tool.Approval == nil || tool.Approval.Approved == nil ||
				!*tool.Approval.Approved || tool.Approval.Reason != "looks fine" || tool.Approval.AnsweredAt == 0 || string(tool.Output) != `{"deployed":true}` {
				t.Fatalf("stored tool part %+v (approval %+v)", tool, tool.Approval)
			}
			if got := partsJSON(t, vb.parts.Parts()); got != partsJSON(t, vb.stored) {
				t.Fatalf("assembled parts %s\nstored %s", got, partsJSON(t, vb.stored))
			}
		}},
		{"ApprovalTwoTabsOneWins", func(t *testing.T, mount Mount, newStore StoreFactory) {
			bot := newHITLBot(0)
			in := twoInstances(t, mount, newStore, core.Options{Handler: bot})
			q := url.Values{"sessionId": {"hitl-race"}}
			a := DialJoined(t, in[0].url, q, nil)
			b := DialJoined(t, in[1].url, q, nil)
			a.Send(core.Message{ID: "m1", Type: core.TypeMessage, Content: "deploy"})
			va, vb := newHITLView(t), newHITLView(t)
			va.until(a, "the request on A", va.approvalAsked)
			vb.until(b, "the request on B", vb.approvalAsked)
			id := va.tool().Approval.ID
			var wg sync.WaitGroup
			codes := make([]core.ErrorCode, 2)
			for i, c := range []*Client{a, b} {
				v := []*hitlView{va, vb}[i]
				c.SendRaw(answerFrame(fmt.Sprintf(`{"id":%q,"approved":%v}`, id, i == 0)))
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = v.reply(c, id)
				}()
			}
			wg.Wait()
			won := -1
			for i, code := range codes {
				switch {
				case code == core.CodeAnswerAccepted && won < 0:
					won = i
				case code != core.CodeAlreadyAnswered:
					t.Fatalf("answers: %v; want one %s and one %s", codes, core.CodeAnswerAccepted, core.CodeAlreadyAnswered)
				}
			}
			if won < 0 {
				t.Fatalf("answers: %v; none won", codes)
			}
			bot.waitDone(t)
			va.until(a, "the end on A", func() bool { return va.final != nil })
			bot.mu.Lock()
			got := bot.approvals
			bot.mu.Unlock()
			if len(got) != 1 || got[0].Approved != (won == 0) {
				t.Fatalf("handler got %+v; want the answer of tab %d", got, won)
			}
			want := parts.ToolOutputDenied
			if won == 0 {
				want = parts.ToolOutputAvailable
			}
			if p := va.tool(); p.State != want {
				t.Fatalf("tool ended %s, want %s", p.State, want)
			}
		}},
		{"ApprovalTimeoutDenies", func(t *testing.T, mount Mount, newStore StoreFactory) {
			bot := newHITLBot(300 * time.Millisecond)
			in := twoInstances(t, mount, newStore, core.Options{Handler: bot})
			q := url.Values{"sessionId": {"hitl-timeout"}}
			b := DialJoined(t, in[1].url, q, nil)
			a := DialJoined(t, in[0].url, q, nil)
			a.Send(core.Message{ID: "m1", Type: core.TypeMessage, Content: "deploy"})
			vb := newHITLView(t)
			vb.until(b, "the request", vb.approvalAsked)
			vb.until(b, "the end", func() bool { return vb.final != nil })
			bot.waitDone(t)
			var tool *parts.Part
			for i := range vb.stored {
				if vb.stored[i].Type == "tool-deploy" {
					tool = &vb.stored[i]
				}
			}
			if tool == nil || tool.State != parts.ToolOutputDenied || tool.Approval == nil || tool.Approval.Approved == nil ||
				*tool.Approval.Approved || tool.Approval.AnsweredBy != core.TimeoutAnswerer || vb.final.Content != "Let me check. Not deployed." {
				t.Fatalf("after the timeout: %q, tool %+v", vb.final.Content, tool)
			}
			// An answer after the timeout lost to it.
			b.SendRaw(answerFrame(`{"id":"` + tool.Approval.ID + `","approved":true}`))
			if code := vb.reply(b, tool.Approval.ID); code != core.CodeAlreadyAnswered {
				t.Fatalf("late answer: %s, want %s", code, core.CodeAlreadyAnswered)
			}
		}},
		{"ApprovalProducerLostWhileWaiting", func(t *testing.T, mount Mount, newStore StoreFactory) {
			const lease = 300 * time.Millisecond
			bot := newHITLBot(0)
			in := twoInstances(t, mount, newStore, core.Options{Handler: bot, StreamLease: lease})
			q := url.Values{"sessionId": {"hitl-lost"}}
			a := DialJoined(t, in[0].url, q, nil)
			b := DialJoined(t, in[1].url, q, nil)
			a.Send(core.Message{ID: "m1", Type: core.TypeMessage, Content: "deploy"})
			vb := newHITLView(t)
			vb.until(b, "the request", vb.approvalAsked)
			id := vb.tool().Approval.ID
			in[0].store.kill() // A can no longer reach the store: it stops renewing its lease
			lost := time.Now()
			vb.until(b, "the stream's end", func() bool { return vb.final != nil })
			if d := time.Since(lost); d > 2*lease+time.Second {
				t.Errorf("watchers saw the end %v after the producer was lost; bound is about StreamLease (%v)", d, lease)
			}
			if metaCode(*vb.final) != core.CodeStreamLost {
				t.Fatalf("final %s, want STREAM_LOST", vb.final.Metadata)
			}
			b.SendRaw(answerFrame(`{"id":"` + id + `","approved":true}`))
			if code := vb.reply(b, id); code != core.CodeRequestNotFound {
				t.Fatalf("answer to the lost reply's request: %s, want %s", code, core.CodeRequestNotFound)
			}
			_ = a.Conn.Close()
			// A cut off from the store still waits (it would learn of the loss once the store
			// is back); its shutdown deadline ends the waiting handler.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_ = in[0].hub.Shutdown(ctx)
			bot.waitDone(t)
		}},
		{"QuestionAnsweredOnOtherInstanceAndBadAnswers", func(t *testing.T, mount Mount, newStore StoreFactory) {
			bot := newHITLBot(0)
			in := twoInstances(t, mount, newStore, core.Options{Handler: bot})
			q := url.Values{"sessionId": {"hitl-ask"}}
			a := DialJoined(t, in[0].url, q, nil)
			b := DialJoined(t, in[1].url, q, nil)
			other := DialJoined(t, in[1].url, url.Values{"sessionId": {"hitl-other"}}, nil)
			a.Send(core.Message{ID: "m1", Type: core.TypeMessage, Content: "please ask me"})
			vb := newHITLView(t)
			vb.until(b, "the question", vb.questionAsked)
			qs := vb.question()
			if qs.Message != "Which size?" || !jsonEq(qs.Schema, json.RawMessage(sizeSchema)) {
				t.Fatalf("question part %+v", qs)
			}
			vo := newHITLView(t)
			for _, c := range []struct {
				name   string
				client *Client
				view   *hitlView
				answer string
				want   core.ErrorCode
			}{
				{"unknown id", b, vb, `{"id":"no-such-request","action":"accept","content":{"size":"S"}}`, core.CodeRequestNotFound},
				{"other session", other, vo, `{"id":"` + qs.ID + `","action":"accept","content":{"size":"S"}}`, core.CodeRequestNotFound},
				{"missing required field", b, vb, `{"id":"` + qs.ID + `","action":"accept","content":{"count":2}}`, core.CodeInvalidAnswer},
				{"value not in enum", b, vb, `{"id":"` + qs.ID + `","action":"accept","content":{"size":"XL"}}`, core.CodeInvalidAnswer},
				{"integer out of range", b, vb, `{"id":"` + qs.ID + `","action":"accept","content":{"size":"S","count":10}}`, core.CodeInvalidAnswer},
				{"unknown field", b, vb, `{"id":"` + qs.ID + `","action":"accept","content":{"size":"S","colour":"red"}}`, core.CodeInvalidAnswer},
				{"content not an object", b, vb, `{"id":"` + qs.ID + `","action":"accept","content":"S"}`, core.CodeInvalidAnswer},
				{"unknown action", b, vb, `{"id":"` + qs.ID + `","action":"maybe"}`, core.CodeInvalidAnswer},
				{"approval answer to a question", b, vb, `{"id":"` + qs.ID + `","approved":true}`, core.CodeInvalidAnswer},
				{"answer not an object", b, vb, `"yes"`, core.CodeInvalidAnswer},
				{"answer without id", b, vb, `{"action":"decline"}`, core.CodeInvalidAnswer},
			} {
				c.client.SendRaw(answerFrame(c.answer))
				id := qs.ID
				if c.want == core.CodeRequestNotFound && c.client == b {
					id = "no-such-request"
				}
				if strings.HasPrefix(c.name, "answer ") {
					id = ""
				}
				if code := c.view.reply(c.client, id); code != c.want {
					t.Fatalf("%s: %s, want %s", c.name, code, c.want)
				}
			}
			bot.mu.Lock()
			n := len(bot.answers)
			bot.mu.Unlock()
			if n != 0 || vb.question().State != parts.QuestionPending {
				t.Fatalf("a bad answer was taken: handler has %d answers, part %+v", n, vb.question())
			}
			b.SendRaw(answerFrame(`{"id":"` + qs.ID + `","action":"accept","content":{"size":"M","count":2}}`))
			if code := vb.reply(b, qs.ID); code != core.CodeAnswerAccepted {
				t.Fatalf("good answer: %s", code)
			}
			vb.until(b, "the end", func() bool { return vb.final != nil })
			bot.waitDone(t)
			if vb.final.Content != `Let me check. You said accept {"size":"M","count":2}.` {
				t.Fatalf("final content %q", vb.final.Content)
			}
			if st := vb.question(); st.State != core.AnswerAccept || !jsonEq(st.Content, json.RawMessage(`{"size":"M","count":2}`)) || st.AnsweredAt == 0 {
				t.Fatalf("answered question part %+v", st)
			}
			a.SendRaw(answerFrame(`{"id":"` + qs.ID + `","action":"decline"}`))
			va := newHITLView(t)
			if code := va.reply(a, qs.ID); code != core.CodeAlreadyAnswered {
				t.Fatalf("second answer: %s", code)
			}
		}},
	}
}

func jsonEq(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
