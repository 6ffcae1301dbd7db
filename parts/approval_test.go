package parts_test

import (
	"encoding/json"
	"testing"

	"github.com/chatwire/chatwire/parts"
)

// TestApprovalChunks checks the approval chunks' JSON, how they fold into a tool part and
// how Compact gives them back.
func TestApprovalChunks(t *testing.T) {
	chunks := []parts.Chunk{
		{Type: parts.ChunkToolInputAvailable, ToolCallID: "c1", ToolName: "deploy", Input: json.RawMessage(`{"env":"prod"}`)},
		{Type: parts.ChunkToolApprovalRequest, ApprovalID: "a1", ToolCallID: "c1"},
		{Type: parts.ChunkToolApprovalResponse, ApprovalID: "other", ToolCallID: "c1", Approved: true}, // another approval: ignored
		{Type: parts.ChunkToolApprovalResponse, ApprovalID: "a1", ToolCallID: "c1", Approved: false, Reason: "no", AnsweredBy: "alice", AnsweredAt: 1700000000000},
		{Type: parts.ChunkToolOutputDenied, ToolCallID: "c1"},
	}
	wantJSON := []string{
		`{"type":"tool-input-available","toolCallId":"c1","toolName":"deploy","input":{"env":"prod"}}`,
		`{"type":"tool-approval-request","approvalId":"a1","toolCallId":"c1"}`,
		`{"type":"tool-approval-response","approvalId":"other","toolCallId":"c1","approved":true}`,
		`{"type":"tool-approval-response","approvalId":"a1","toolCallId":"c1","approved":false,"reason":"no","answeredBy":"alice","answeredAt":1700000000000}`,
		`{"type":"tool-output-denied","toolCallId":"c1"}`,
	}
	var b parts.Builder
	states := []string{parts.ToolInputAvailable, parts.ToolApprovalRequested, parts.ToolApprovalRequested, parts.ToolApprovalResponded, parts.ToolOutputDenied}
	for i := range chunks {
		got, _ := json.Marshal(chunks[i])
		if string(got) != wantJSON[i] {
			t.Fatalf("chunk %d JSON %s, want %s", i, got, wantJSON[i])
		}
		var back parts.Chunk
		if err := json.Unmarshal(got, &back); err != nil || back.ApprovalID != chunks[i].ApprovalID || back.Approved != chunks[i].Approved || back.AnsweredAt != chunks[i].AnsweredAt {
			t.Fatalf("chunk %d round trip %+v, %v", i, back, err)
		}
		b.Apply(&chunks[i])
		if p := b.Parts()[0]; p.State != states[i] {
			t.Fatalf("after chunk %d: state %s, want %s", i, p.State, states[i])
		}
	}
	p := b.Parts()[0]
	want := `{"type":"tool-deploy","toolCallId":"c1","state":"output-denied","input":{"env":"prod"},"approval":{"id":"a1","approved":false,"reason":"no","answeredBy":"alice","answeredAt":1700000000000}}`
	if got, _ := json.Marshal(p); string(got) != want {
		t.Fatalf("part %s\nwant %s", got, want)
	}
	// Compact rebuilds the same part (request, answer, outcome in that order).
	var again parts.Builder
	for _, c := range b.Compact(nil) {
		again.Apply(&c)
	}
	if got, _ := json.Marshal(again.Parts()[0]); string(got) != want {
		t.Fatalf("compacted part %s\nwant %s", got, want)
	}
}
