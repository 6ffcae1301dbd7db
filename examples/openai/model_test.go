package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
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

// toolEnvelopes returns the contents of the tool_call and tool_result envelopes in order.
func toolEnvelopes(t *testing.T, events []client.Event) (kinds []core.Type, contents []map[string]any) {
	for _, ev := range events {
		if ev.Kind != client.EventMessage || (ev.Message.Type != core.TypeToolCall && ev.Message.Type != core.TypeToolResult) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.Message.Content), &m); err != nil {
			t.Fatalf("tool envelope content %q: %v", ev.Message.Content, err)
		}
		kinds = append(kinds, ev.Message.Type)
		contents = append(contents, m)
	}
	return kinds, contents
}

func TestToolCallThenAnswer(t *testing.T) {
	e := startExample(t)
	session := core.NewID()
	events, end := e.ask(session, "please compute (17+5)*3^2", nil)

	if end.Stream.State != core.StreamStateDone || end.Message.Content != "The answer is 198." {
		t.Fatalf("reply ended %q with %q, want done with %q", end.Stream.State, end.Message.Content, "The answer is 198.")
	}
	if strings.Contains(end.Message.Content, "calculator") {
		t.Fatal("reasoning leaked into the reply's content")
	}
	kinds, contents := toolEnvelopes(t, events)
	if len(kinds) != 2 || kinds[0] != core.TypeToolCall || kinds[1] != core.TypeToolResult {
		t.Fatalf("tool envelopes %v, want a tool_call then a tool_result", kinds)
	}
	call, result := contents[0], contents[1]
	if call["id"] != "call_1" || call["name"] != "calculate" || call["arguments"].(map[string]any)["expression"] != "(17+5)*3^2" {
		t.Fatalf("tool_call %v", call)
	}
	if result["id"] != "call_1" || result["result"].(map[string]any)["result"] != 198.0 {
		t.Fatalf("tool_result %v", result)
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
