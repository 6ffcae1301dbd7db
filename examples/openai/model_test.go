package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo/demotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitTimeout = 10 * time.Second

// example runs the example's server (newServer, as main does) against a stub model.
type example struct {
	t     *testing.T
	llm   *stubLLM
	store *core.MemoryStore
	srv   *httptest.Server
}

func startExample(t *testing.T) *example {
	t.Helper()
	e := &example{t: t, llm: newStubLLM(t), store: core.NewMemoryStore(core.MemoryStoreOptions{})}
	transport := &http.Transport{}
	handler, hub := newServer(config{
		BaseURL: e.llm.baseURL(), Model: "stub-model", APIKey: "test-key", Store: e.store,
		HTTPClient: &http.Client{Transport: transport},
	})
	e.srv = httptest.NewServer(handler)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		e.srv.Close()
		transport.CloseIdleConnections()
	})
	return e
}

// ask sends text on session (a new one when "") and returns every event up to the end of
// the reply. onEvent, when set, sees each event as it arrives.
func (e *example) ask(session, text string, onEvent func(*client.Client, client.Event)) (events []client.Event, end client.Event) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if session == "" {
		session = core.NewID()
	}
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/chat", client.Options{SessionID: session})
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.SendText(ctx, text); err != nil {
		e.t.Fatal(err)
	}
	for {
		select {
		case ev := <-c.Events():
			events = append(events, ev)
			if onEvent != nil {
				onEvent(c, ev)
			}
			if ev.Kind == client.EventStreamEnd {
				return events, ev
			}
		case <-ctx.Done():
			for i, ev := range events {
				e.t.Logf("event %d: %v %+v", i, ev.Kind, ev)
			}
			e.t.Fatalf("no end of the reply to %q", text)
		}
	}
}

// assistantMessages returns the session's stored assistant messages.
func (e *example) assistantMessages(session string) []core.Message {
	e.t.Helper()
	page, err := e.store.Read(context.Background(), session, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []core.Message
	for _, r := range page.Records {
		if r.Message.Role == core.RoleAssistant && r.Message.Type == core.TypeMessage {
			out = append(out, r.Message)
		}
	}
	return out
}

// partsOf returns the summary of the parts stored with a reply (see demotest.Summary).
func partsOf(t *testing.T, end client.Event) []string {
	t.Helper()
	return demotest.Summary(demotest.FinalOf(t, end.Message).Parts)
}

func samePartsOrFail(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("parts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestToolCallThenAnswer(t *testing.T) {
	e := startExample(t)
	session := core.NewID()
	_, end := e.ask(session, "please compute (17+5)*3^2", nil)

	if end.Stream.State != core.StreamStateDone || end.Message.Content != "The answer is 198." {
		t.Fatalf("reply ended %q with %q, want done with %q", end.Stream.State, end.Message.Content, "The answer is 198.")
	}
	if strings.Contains(end.Message.Content, "calculator") {
		t.Fatal("reasoning leaked into the reply's content")
	}
	final := demotest.FinalOf(t, end.Message)
	samePartsOrFail(t, demotest.Summary(final.Parts), []string{
		"step-start",
		"reasoning The user wants arithmetic. I will use the calculator.",
		`tool-calculate call_1 output-available {"expression":"(17+5)*3^2"} {"result":198}`,
		"step-start",
		"text The answer is 198.",
	})
	if final.Stream.FinishReason != "stop" || string(final.MessageMetadata) != `{"usage":{"inputTokens":62,"outputTokens":34}}` {
		t.Fatalf("finish reason %q, message metadata %s", final.Stream.FinishReason, final.MessageMetadata)
	}

	// Two model calls: the first offered the tool; the second carried the assembled call
	// and the tool's output back.
	reqs := e.llm.calls()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(reqs))
	}
	first, second := reqs[0], reqs[1]
	if first.Auth != "Bearer test-key" || first.Model != "stub-model" || !first.Stream || !first.StreamOptions.IncludeUsage {
		t.Fatalf("first request: auth %q model %q stream %v usage %v", first.Auth, first.Model, first.Stream, first.StreamOptions.IncludeUsage)
	}
	if len(first.Tools) != 1 || first.Tools[0].Function.Name != "calculate" || first.Tools[0].Type != "function" {
		t.Fatalf("first request tools %+v", first.Tools)
	}
	if first.Messages[0].Role != "system" || first.Messages[len(first.Messages)-1].Role != "user" {
		t.Fatalf("first request messages %+v", first.Messages)
	}
	n := len(second.Messages)
	asst, tool := second.Messages[n-2], second.Messages[n-1]
	if asst.Role != "assistant" || len(asst.ToolCalls) != 1 || asst.ToolCalls[0].ID != "call_1" ||
		asst.ToolCalls[0].Function.Name != "calculate" || asst.ToolCalls[0].Function.Arguments != `{"expression":"(17+5)*3^2"}` {
		t.Fatalf("assistant turn sent back: %+v", asst)
	}
	if tool.Role != "tool" || tool.ToolCallID != "call_1" || string(tool.Content) != `"{\"result\":198}"` {
		t.Fatalf("tool turn sent back: %+v (content %s)", tool, tool.Content)
	}

	// The store holds one assistant message for the reply, with the text only.
	if stored := e.assistantMessages(session); len(stored) != 1 || stored[0].Content != "The answer is 198." {
		t.Fatalf("stored assistant messages %+v", stored)
	}
}

func TestWholeToolCallInOneChunk(t *testing.T) {
	e := startExample(t)
	_, end := e.ask("", "whole: compute 2^10", nil)
	samePartsOrFail(t, partsOf(t, end), []string{
		"step-start",
		"reasoning Adding.",
		`tool-calculate call_whole output-available {"expression":"2^10"} {"result":1024}`,
		"step-start",
		"text The answer is 1024.",
	})
	if end.Stream.State != core.StreamStateDone || end.Message.Content != "The answer is 1024." {
		t.Fatalf("reply %q %q", end.Stream.State, end.Message.Content)
	}
}

func TestToolErrorGoesBackToTheModel(t *testing.T) {
	e := startExample(t)
	_, end := e.ask("", "compute 1/0", nil)
	samePartsOrFail(t, partsOf(t, end), []string{
		"step-start",
		"reasoning The user wants arithmetic. I will use the calculator.",
		`tool-calculate call_1 output-error {"expression":"1/0"} invalid expression: division by zero`,
		"step-start",
		"text The tool said: invalid expression: division by zero",
	})
	reqs := e.llm.calls()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if last.Role != "tool" || !strings.Contains(string(last.Content), "division by zero") {
		t.Fatalf("tool turn %+v %s", last, last.Content)
	}
	if end.Stream.State != core.StreamStateDone || end.Message.Content != "The tool said: invalid expression: division by zero" {
		t.Fatalf("reply %q %q", end.Stream.State, end.Message.Content)
	}
}

// A provider error ends the reply as a stream error with a code; no client ever sees the
// provider's text.
func TestProviderErrorsReachTheClientAsCodes(t *testing.T) {
	tests := []struct {
		name, text, content string
		code                core.ErrorCode
	}{
		{"http 500", "fail now", "", CodeModelError},
		{"http 429", "busy now", "", CodeModelBusy},
		{"error event mid-stream", "midstream please", "Partial answer", CodeModelError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startExample(t)
			session := core.NewID()
			events, end := e.ask(session, tt.text, nil)
			if end.Stream.State != core.StreamStateError || end.Message.Content != tt.content {
				t.Fatalf("reply ended %q with %q, want error with %q", end.Stream.State, end.Message.Content, tt.content)
			}
			if code := demotest.FinalOf(t, end.Message).Code; code != string(tt.code) {
				t.Fatalf("final metadata %s, want code %s", end.Message.Metadata, tt.code)
			}
			for _, ev := range events {
				b, _ := json.Marshal(ev.Message)
				if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "org-internal") {
					t.Fatalf("provider detail reached the client: %s", b)
				}
			}
			stored := e.assistantMessages(session)
			if len(stored) != 1 || strings.Contains(string(stored[0].Metadata), "SECRET") {
				t.Fatalf("stored %+v", stored)
			}
		})
	}
}

// A client's cancel stops the model call (the provider sees its request cancelled) and the
// reply is stored as cancelled with the text so far.
func TestCancelStopsTheModelCall(t *testing.T) {
	e := startExample(t)
	_, end := e.ask("", "slow answer", func(c *client.Client, ev client.Event) {
		if ev.Kind == client.EventStream && ev.Stream.Text == "Thinking about it" {
			if err := c.CancelStream(context.Background(), ev.Stream.ID); err != nil {
				t.Error(err)
			}
		}
	})
	if end.Stream.State != core.StreamStateCancelled || end.Message.Content != "Thinking about it" {
		t.Fatalf("reply ended %q with %q", end.Stream.State, end.Message.Content)
	}
	select {
	case <-e.llm.cancelled:
	case <-time.After(waitTimeout):
		t.Fatal("the model request was not cancelled")
	}
}

// The model sees the session's earlier turns, read from the store: the user's messages and,
// from the stored parts, each reply's tool calls, their results and its text.
func TestConversationComesFromTheStore(t *testing.T) {
	e := startExample(t)
	session := core.NewID()
	e.ask(session, "compute 6*7", nil)
	e.ask(session, "and compute 6*8", nil)
	reqs := e.llm.calls()
	if len(reqs) != 4 {
		t.Fatalf("%d model calls, want 4", len(reqs))
	}
	var got []string
	for _, m := range reqs[2].Messages {
		var text string
		_ = json.Unmarshal(m.Content, &text)
		line := m.Role + ":" + text
		for _, c := range m.ToolCalls {
			line += " call " + c.ID + " " + c.Function.Name + " " + c.Function.Arguments
		}
		if m.ToolCallID != "" {
			line += " for " + m.ToolCallID
		}
		got = append(got, line)
	}
	want := []string{
		"system:" + DefaultSystemPrompt,
		"user:compute 6*7",
		`assistant: call call_1 calculate {"expression":"6*7"}`,
		`tool:{"result":42} for call_1`,
		"assistant:The answer is 42.",
		"user:and compute 6*8",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("third call's messages\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// History is trimmed by whole turns, so a tool result never loses its call.
func TestHistoryLimitKeepsTurnsWhole(t *testing.T) {
	e := startExample(t)
	session := core.NewID()
	e.ask(session, "compute 1+1", nil) // user + 3 messages of reply
	e.ask(session, "compute 2+2", nil)
	m := newModel(config{Store: e.store})
	m.HistoryLimit = 5 // the second exchange (4+1) fits, the first does not
	msgs := m.conversation(context.Background(), &core.Request{SessionID: session, Message: core.Message{Content: "next"}})
	b, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1+4+1 || strings.Contains(string(b), "1+1") || !strings.Contains(string(b), "2+2") {
		t.Fatalf("%d messages: %s", len(msgs), b)
	}
}

// The last step offers no tools; a model that calls one anyway ends the reply with an error
// instead of looping.
func TestStepLimit(t *testing.T) {
	llm := newStubLLM(t)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	m := newModel(config{BaseURL: llm.baseURL(), Model: "stub-model", HTTPClient: &http.Client{Transport: transport}})
	m.MaxSteps = 1
	rec := &recordedParts{}
	err := m.run(context.Background(), rec, m.conversation(context.Background(), &core.Request{Message: core.Message{Content: "compute 1+1"}}))
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != CodeModelError {
		t.Fatalf("run: %v, want a %s error", err, CodeModelError)
	}
	if reqs := llm.calls(); len(reqs) != 1 || len(reqs[0].Tools) != 0 {
		t.Fatalf("%d calls, tools offered %+v; want one call offering none", len(reqs), reqs)
	}
}

// Over the AI SDK endpoint (what useChat talks to), the reply streams as UI message chunks
// in the order the model produced them; a provider error arrives as an error chunk that
// carries a code, not the provider's text.
func TestOverSSE(t *testing.T) {
	e := startExample(t)
	_, chunks := demotest.SSEChat(t, e.srv.URL, core.NewID(), "compute 6*7")
	want := []string{
		"start", "start-step",
		"reasoning-start", "reasoning-delta", "reasoning-end",
		"tool-input-start", "tool-input-delta", "tool-input-available", "tool-output-available",
		"finish-step", "start-step",
		"text-start", "text-delta", "text-end",
		"finish-step", "message-metadata", "finish",
	}
	if got := demotest.ChunkTypes(chunks); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("chunk types\n%v\nwant\n%v", got, want)
	}
	if got := demotest.SSEText(chunks); got != "The answer is 42." {
		t.Fatalf("text %q", got)
	}
	// The input's fragments arrive as deltas (merged when the reader is behind).
	var input strings.Builder
	for _, c := range chunks {
		if c.Type() == "tool-input-delta" {
			d, _ := c["inputTextDelta"].(string)
			input.WriteString(d)
		}
	}
	if input.String() != `{"expression":"6*7"}` {
		t.Fatalf("tool input deltas %q", input.String())
	}

	_, chunks = demotest.SSEChat(t, e.srv.URL, core.NewID(), "fail now")
	b, _ := json.Marshal(chunks)
	if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "org-internal") {
		t.Fatalf("provider detail reached the client: %s", b)
	}
	var sawError bool
	for _, c := range chunks {
		if text, _ := c["errorText"].(string); c.Type() == "error" && strings.Contains(text, string(CodeModelError)) {
			sawError = true
		}
	}
	if !sawError {
		t.Fatalf("no error chunk with code %s in %s", CodeModelError, b)
	}
}

// Parallel tool calls become two tool parts, in the order the model started them.
func TestParallelToolCalls(t *testing.T) {
	e := startExample(t)
	_, end := e.ask("", "parallel sums", nil)
	samePartsOrFail(t, partsOf(t, end), []string{
		"step-start",
		"text Two sums.",
		`tool-calculate call_a output-available {"expression":"1+1"} {"result":2}`,
		`tool-calculate call_b output-available {"expression":"2*3"} {"result":6}`,
		"step-start",
		"text The answer is 6.",
	})
	if end.Message.Content != "Two sums.The answer is 6." {
		t.Fatalf("content %q: want the text parts joined", end.Message.Content)
	}
}

// A model call that outlives StepTimeout ends the reply with a coded error.
func TestStepTimeout(t *testing.T) {
	llm := newStubLLM(t)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	m := newModel(config{BaseURL: llm.baseURL(), Model: "stub-model", HTTPClient: &http.Client{Transport: transport}})
	m.StepTimeout = 100 * time.Millisecond
	rec := &recordedParts{}
	err := m.run(context.Background(), rec, m.conversation(context.Background(), &core.Request{Message: core.Message{Content: "slow"}}))
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != CodeModelError {
		t.Fatalf("run: %v, want a %s error", err, CodeModelError)
	}
	select {
	case <-llm.cancelled:
	case <-time.After(waitTimeout):
		t.Fatal("the model request was not cancelled")
	}
}

// A tool call without an id gets one, and the result goes back to the model under it.
func TestToolCallWithoutID(t *testing.T) {
	e := startExample(t)
	_, end := e.ask("", "noid", nil)
	parts := demotest.FinalOf(t, end.Message).Parts
	var id string
	for _, p := range parts {
		if p.IsTool() {
			id = p.ToolCallID
		}
	}
	if !strings.HasPrefix(id, "call_") || end.Message.Content != "The answer is 9." {
		t.Fatalf("tool call id %q, content %q", id, end.Message.Content)
	}
	reqs := e.llm.calls()
	last := reqs[len(reqs)-1].Messages
	if a, tool := last[len(last)-2], last[len(last)-1]; len(a.ToolCalls) != 1 || a.ToolCalls[0].ID != id || tool.ToolCallID != id {
		t.Fatalf("sent back %+v / %+v, want both under %s", a, tool, id)
	}
}
