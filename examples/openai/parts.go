package main

import (
	"context"
	"encoding/json"
)

// replyParts receives the parts of one streamed reply, in the order the model produces
// them. The model loop (steps.go) writes to it; partsWriter maps it onto chatwire.
//
// Text and reasoning arrive as deltas: a delta of another kind (or a tool call, or a new
// step) ends the open text or reasoning part. Tool calls are identified by the provider's
// call id.
type replyParts interface {
	// StartStep marks the beginning of one model call (step).
	StartStep(ctx context.Context) error
	// Reasoning appends to the current reasoning part (a new one when none is open).
	Reasoning(ctx context.Context, delta string) error
	// Text appends to the current text part (a new one when none is open).
	Text(ctx context.Context, delta string) error
	// ToolInputStart opens a tool call whose input is about to stream in.
	ToolInputStart(ctx context.Context, callID, name string) error
	// ToolInputDelta appends a fragment of the call's JSON input.
	ToolInputDelta(ctx context.Context, callID, delta string) error
	// ToolInputAvailable reports the call's whole input; the tool runs next.
	ToolInputAvailable(ctx context.Context, callID, name string, input json.RawMessage) error
	// ToolOutput reports the tool's result.
	ToolOutput(ctx context.Context, callID string, output json.RawMessage) error
	// ToolError reports that the tool (or its input) failed; text is shown to the user.
	ToolError(ctx context.Context, callID, text string) error
	// FinishStep ends the step that StartStep began.
	FinishStep(ctx context.Context) error
	// Finish reports why the model stopped (the AI SDK's finish reasons: stop, length,
	// content-filter, tool-calls, other) and the tokens all steps used.
	Finish(ctx context.Context, reason string, usage Usage) error
}

// Usage counts the tokens of a reply, over all its steps.
type Usage struct {
	InputTokens  int64 `json:"inputTokens"`
	OutputTokens int64 `json:"outputTokens"`
}

// finishReason maps a chat-completions finish_reason onto the AI SDK's names.
func finishReason(r string) string {
	switch r {
	case "stop":
		return "stop"
	case "length":
		return "length"
	case "content_filter":
		return "content-filter"
	case "tool_calls", "function_call":
		return "tool-calls"
	}
	return "other"
}
