package demotest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// Final is what a streamed reply's stored final message carries in its metadata.
type Final struct {
	Stream struct {
		ID           string `json:"id"`
		State        string `json:"state"`
		FinishReason string `json:"finishReason"`
		ReplyTo      string `json:"replyTo"`
	} `json:"stream"`
	Code            string          `json:"code"`
	Parts           []parts.Part    `json:"parts"`
	MessageMetadata json.RawMessage `json:"messageMetadata"`
}

// FinalOf decodes the metadata of a streamed reply's final message.
func FinalOf(t testing.TB, m core.Message) Final {
	t.Helper()
	var f Final
	if err := json.Unmarshal(m.Metadata, &f); err != nil {
		t.Fatalf("final message metadata %s: %v", m.Metadata, err)
	}
	return f
}

// Summary renders parts one line each, for comparing with a want list:
//
//	step-start
//	reasoning <text>
//	text <text>
//	tool-<name> <call id> <state> <input> <output or error text>
//	source-url <id> <url> <title>
//	<type> (others)
func Summary(ps []parts.Part) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		switch {
		case p.Type == parts.PartText || p.Type == parts.PartReasoning:
			out = append(out, p.Type+" "+p.Text)
		case p.IsTool():
			result := string(p.Output)
			if p.State == parts.ToolOutputError {
				result = p.ErrorText
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %s", p.Type, p.ToolCallID, p.State, p.Input, result))
		case p.Type == parts.PartSourceURL:
			out = append(out, fmt.Sprintf("%s %s %s %s", p.Type, p.SourceID, p.URL, p.Title))
		default:
			out = append(out, p.Type)
		}
	}
	return out
}
