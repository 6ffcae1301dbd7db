package main

import (
	"context"
	"encoding/json"

	"github.com/chatwire/chatwire/core"
)

// streamParts writes a reply's parts onto a chatwire stream: text as deltas (the stored
// message's content), each tool call as a tool_call envelope once its input is complete and
// a tool_result envelope with its output. Reasoning and the input fragments have no place in
// a seed client's envelopes and are not sent.
type streamParts struct {
	s     *core.Stream
	names map[string]string // call id -> tool name
}

var _ replyParts = (*streamParts)(nil)

func newStreamParts(s *core.Stream) *streamParts {
	return &streamParts{s: s, names: make(map[string]string)}
}

func (p *streamParts) StartStep(context.Context) error              { return nil }
func (p *streamParts) FinishStep(context.Context) error             { return nil }
func (p *streamParts) Finish(context.Context, string, Usage) error  { return nil }
func (p *streamParts) Reasoning(context.Context, string) error      { return nil }
func (p *streamParts) Text(ctx context.Context, delta string) error { return p.s.Delta(ctx, delta) }

func (p *streamParts) ToolInputStart(_ context.Context, callID, name string) error {
	p.names[callID] = name
	return nil
}

func (p *streamParts) ToolInputDelta(context.Context, string, string) error { return nil }

func (p *streamParts) ToolInputAvailable(ctx context.Context, callID, name string, input json.RawMessage) error {
	p.names[callID] = name
	return p.send(ctx, core.TypeToolCall, map[string]any{"id": callID, "name": name, "arguments": input})
}

func (p *streamParts) ToolOutput(ctx context.Context, callID string, output json.RawMessage) error {
	return p.send(ctx, core.TypeToolResult, map[string]any{"id": callID, "name": p.names[callID], "result": output})
}

func (p *streamParts) ToolError(ctx context.Context, callID, text string) error {
	return p.send(ctx, core.TypeToolResult, map[string]any{"id": callID, "name": p.names[callID], "error": text})
}

func (p *streamParts) send(ctx context.Context, typ core.Type, content map[string]any) error {
	b, err := json.Marshal(content)
	if err != nil {
		return err
	}
	return p.s.Send(ctx, core.Message{Type: typ, Content: string(b)})
}
