package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
)

// recordedParts records what the model loop writes, one line per call.
type recordedParts struct{ log []string }

var _ replyParts = (*recordedParts)(nil)

func (r *recordedParts) add(format string, args ...any) error {
	r.log = append(r.log, fmt.Sprintf(format, args...))
	return nil
}

func (r *recordedParts) StartStep(context.Context) error  { return r.add("start-step") }
func (r *recordedParts) FinishStep(context.Context) error { return r.add("finish-step") }
func (r *recordedParts) Finish(_ context.Context, reason string, u Usage) error {
	return r.add("finish %s %d+%d", reason, u.InputTokens, u.OutputTokens)
}
func (r *recordedParts) Reasoning(_ context.Context, d string) error {
	return r.add("reasoning %s", d)
}
func (r *recordedParts) Text(_ context.Context, d string) error { return r.add("text %s", d) }
func (r *recordedParts) ToolInputStart(_ context.Context, id, name string) error {
	return r.add("tool-input-start %s %s", id, name)
}
func (r *recordedParts) ToolInputDelta(_ context.Context, id, d string) error {
	return r.add("tool-input-delta %s %s", id, d)
}
func (r *recordedParts) ToolInputAvailable(_ context.Context, id, name string, in json.RawMessage) error {
	return r.add("tool-input-available %s %s %s", id, name, in)
}
func (r *recordedParts) ToolOutput(_ context.Context, id string, out json.RawMessage) error {
	return r.add("tool-output-available %s %s", id, out)
}
func (r *recordedParts) ToolError(_ context.Context, id, text string) error {
	return r.add("tool-output-error %s %s", id, text)
}

// The provider's stream maps onto parts in order: reasoning, the tool call's input as it
// streams in, its output, then the next step's text.
func TestStreamMapsOntoParts(t *testing.T) {
	tests := []struct {
		name, message string
		want          []string
	}{
		{"OpenAI-style fragments, reasoning_content", "compute 6*7", []string{
			"start-step",
			"reasoning The user wants arithmetic.",
			"reasoning  I will use the calculator.",
			"tool-input-start call_1 calculate",
			`tool-input-delta call_1 {"expre`,
			`tool-input-delta call_1 ssion":`,
			`tool-input-delta call_1 "6*7"}`,
			`tool-input-available call_1 calculate {"expression":"6*7"}`,
			`tool-output-available call_1 {"result":42}`,
			"finish-step",
			"start-step",
			"text The a", "text nswer", "text  is 4", "text 2.",
			"finish-step",
			"finish stop 62+34",
		}},
		{"Ollama-style whole call, reasoning", "whole: compute 2+2", []string{
			"start-step",
			"reasoning Adding.",
			"tool-input-start call_whole calculate",
			`tool-input-delta call_whole {"expression":"2+2"}`,
			`tool-input-available call_whole calculate {"expression":"2+2"}`,
			`tool-output-available call_whole {"result":4}`,
			"finish-step",
			"start-step",
			"text The a", "text nswer", "text  is 4", "text .",
			"finish-step",
			"finish stop 62+34",
		}},
		{"parallel calls with interleaved fragments, text first", "parallel sums", []string{
			"start-step",
			"text Two sums.",
			"tool-input-start call_a calculate",
			"tool-input-start call_b calculate",
			`tool-input-delta call_b {"expression":`,
			`tool-input-delta call_a {"expression":"1+1"}`,
			`tool-input-delta call_b "2*3"}`,
			`tool-input-available call_a calculate {"expression":"1+1"}`,
			`tool-output-available call_a {"result":2}`,
			`tool-input-available call_b calculate {"expression":"2*3"}`,
			`tool-output-available call_b {"result":6}`,
			"finish-step",
			"start-step",
			"text The a", "text nswer", "text  is 6", "text .",
			"finish-step",
			"finish stop 62+34",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			llm := newStubLLM(t)
			transport := &http.Transport{}
			defer transport.CloseIdleConnections()
			m := newModel(config{BaseURL: llm.baseURL(), Model: "stub-model", HTTPClient: &http.Client{Transport: transport}})
			rec := &recordedParts{}
			req := &core.Request{Message: core.Message{Content: tt.message}}
			if err := m.run(context.Background(), rec, m.conversation(context.Background(), req)); err != nil {
				t.Fatal(err)
			}
			if strings.Join(rec.log, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("parts:\n%s\nwant:\n%s", strings.Join(rec.log, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
