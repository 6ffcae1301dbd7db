package demo_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/parts"
)

// fakeHub serves the fake model (short words, no delay to speak of) at /chat.
func fakeHub(t *testing.T) string {
	t.Helper()
	hub := core.NewHub(core.Options{Handler: demo.FakeModel{WordDelay: time.Millisecond, Words: 5}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
	srv := httptest.NewServer(demo.Routes(hub, demo.RouteOptions{}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + demo.ChatPath
}

// replyView folds the stream frames of one session into parts.
type replyView struct {
	parts *parts.Builder
	final *core.Message
}

func (v *replyView) read(t *testing.T, c *adaptertest.Client, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		m := c.Read()
		var md struct {
			Stream *struct {
				Resume bool          `json:"resume"`
				State  string        `json:"state"`
				Chunks []parts.Chunk `json:"chunks"`
			} `json:"stream"`
		}
		if json.Unmarshal(m.Metadata, &md) != nil || md.Stream == nil {
			continue
		}
		if m.Type == core.TypeMessage && md.Stream.State != "" {
			v.final = &m
			continue
		}
		if md.Stream.Resume || v.parts == nil {
			v.parts = &parts.Builder{}
		}
		for i := range md.Stream.Chunks {
			v.parts.Apply(&md.Stream.Chunks[i])
		}
	}
}

func (v *replyView) part(typ string) *parts.Part {
	if v.parts == nil {
		return nil
	}
	for _, p := range v.parts.Parts() {
		if p.Type == typ {
			return &p
		}
	}
	return nil
}

func TestFakeModelAsksApproval(t *testing.T) {
	for _, approved := range []bool{true, false} {
		c := adaptertest.Dial(t, fakeHub(t), url.Values{"sessionId": {"fake-approve"}}, nil)
		c.Send(core.Message{ID: "q", Type: core.TypeMessage, Content: "Roll, if you approve."})
		v := &replyView{}
		v.read(t, c, func() bool { p := v.part("tool-roll_die"); return p != nil && p.State == parts.ToolApprovalRequested })
		id := v.part("tool-roll_die").Approval.ID
		b, _ := json.Marshal(map[string]any{"id": id, "approved": approved})
		c.SendRaw(`{"type":"system","content":"answer","metadata":{"answer":` + string(b) + `}}`)
		v.read(t, c, func() bool { return v.final != nil })
		text := demo.Text("Roll, if you approve.", demo.DieRoll("Roll, if you approve."), 5)
		want, state := strings.Join(text, ""), parts.ToolOutputAvailable
		if !approved {
			want, state = strings.Join(demo.Text("Roll, if you approve.", 0, 5), ""), parts.ToolOutputDenied
		}
		if v.final.Content != want || v.part("tool-roll_die").State != state {
			t.Fatalf("approved=%v: %q, tool %s; want %q, %s", approved, v.final.Content, v.part("tool-roll_die").State, want, state)
		}
	}
}

func TestFakeModelAsksAQuestion(t *testing.T) {
	c := adaptertest.Dial(t, fakeHub(t), url.Values{"sessionId": {"fake-ask"}}, nil)
	c.Send(core.Message{ID: "q", Type: core.TypeMessage, Content: "Please ask me first"})
	v := &replyView{}
	question := "data-" + parts.QuestionPart
	v.read(t, c, func() bool { return v.part(question) != nil })
	var st parts.QuestionState
	if err := json.Unmarshal(v.part(question).Data, &st); err != nil || st.State != parts.QuestionPending || string(st.Schema) != demo.SidesSchema {
		t.Fatalf("question part %s (%v)", v.part(question).Data, err)
	}
	c.SendRaw(`{"type":"system","content":"answer","metadata":{"answer":{"id":"` + st.ID + `","action":"accept","content":{"sides":20}}}}`)
	v.read(t, c, func() bool { return v.final != nil })
	if p := v.part("tool-roll_die"); p == nil || string(p.Input) != `{"sides":20}` || p.State != parts.ToolOutputAvailable {
		t.Fatalf("tool part after the answer: %+v", p)
	}
}
