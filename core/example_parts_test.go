package core_test

import (
	"context"
	"encoding/json"

	"github.com/chatwire/chatwire/core"
)

// A handler streams a reply as parts: reasoning, a tool call whose input streams in, a
// source, then text. Clients see each part as it grows; the stored message keeps them all.
func ExampleStream_parts() {
	_ = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		r, err := s.StartReasoning(ctx)
		if err != nil {
			return err
		}
		_ = r.Delta(ctx, "The user wants the weather.")
		_ = r.End(ctx)
		call, err := s.StartToolCall(ctx, core.ToolCallInfo{Name: "weather"})
		if err != nil {
			return err
		}
		_ = call.InputDelta(ctx, `{"city":"Paris"}`)
		_ = call.Input(ctx, json.RawMessage(`{"city":"Paris"}`))
		_ = call.Output(ctx, json.RawMessage(`{"sky":"sunny"}`))
		_ = s.SourceURL(ctx, core.SourceURL{URL: "https://example.com/paris"})
		_ = s.Delta(ctx, "It is sunny in Paris.")
		s.SetFinishReason(core.FinishStop)
		return s.Close(ctx)
	})
}
