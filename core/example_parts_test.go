package core_test

import (
	"context"
	"encoding/json"
	"fmt"

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

// A PartsBuilder folds chunks into parts, the way a client assembles a reply, and Compact
// turns the parts back into the fewest chunks, as a resume frame carries them.
func ExamplePartsBuilder() {
	var b core.PartsBuilder
	for _, c := range []core.Chunk{
		{Type: core.ChunkReasoningStart, ID: "r1"},
		{Type: core.ChunkReasoningDelta, ID: "r1", Delta: "Think"},
		{Type: core.ChunkReasoningDelta, ID: "r1", Delta: "ing."},
		{Type: core.ChunkTextStart, ID: "t1"},
		{Type: core.ChunkTextDelta, ID: "t1", Delta: "Hello"},
		{Type: core.ChunkTextDelta, ID: "t1", Delta: ", world"},
	} {
		b.Apply(&c)
	}
	fmt.Println(b.Text())
	for _, c := range b.Compact(nil) {
		fmt.Println(string(core.AppendChunk(nil, &c)))
	}
	// Output:
	// Hello, world
	// {"type":"reasoning-start","id":"r1"}
	// {"type":"reasoning-delta","id":"r1","delta":"Thinking."}
	// {"type":"text-start","id":"t1"}
	// {"type":"text-delta","id":"t1","delta":"Hello, world"}
}
