package parts_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/parts"
)

// TestChunkJSON pins the JSON of every chunk type: exactly the fields `ai` 5.0's strict
// schemas accept, optional ones only when set.
func TestChunkJSON(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		c    parts.Chunk
		want string
	}{
		{parts.Chunk{Type: parts.ChunkTextStart, ID: "t1", Delta: "ignored"}, `{"type":"text-start","id":"t1"}`},
		{parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "a\"b\n<&>\u2028"}, `{"type":"text-delta","id":"t1","delta":"a\"b\n<&>\u2028"}`},
		{parts.Chunk{Type: parts.ChunkTextEnd, ID: "t1"}, `{"type":"text-end","id":"t1"}`},
		{parts.Chunk{Type: parts.ChunkReasoningStart, ID: "r1"}, `{"type":"reasoning-start","id":"r1"}`},
		{parts.Chunk{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "x"}, `{"type":"reasoning-delta","id":"r1","delta":"x"}`},
		{parts.Chunk{Type: parts.ChunkReasoningEnd, ID: "r1"}, `{"type":"reasoning-end","id":"r1"}`},
		{parts.Chunk{Type: parts.ChunkToolInputStart, ToolCallID: "c", ToolName: "w"}, `{"type":"tool-input-start","toolCallId":"c","toolName":"w"}`},
		{parts.Chunk{Type: parts.ChunkToolInputStart, ToolCallID: "c", ToolName: "w", ProviderExecuted: true, Dynamic: true}, `{"type":"tool-input-start","toolCallId":"c","toolName":"w","providerExecuted":true,"dynamic":true}`},
		{parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: "c", InputTextDelta: `{"a":`}, `{"type":"tool-input-delta","toolCallId":"c","inputTextDelta":"{\"a\":"}`},
		{parts.Chunk{Type: parts.ChunkToolInputAvailable, ToolCallID: "c", ToolName: "w", Input: raw(`{"a":1}`)}, `{"type":"tool-input-available","toolCallId":"c","toolName":"w","input":{"a":1}}`},
		{parts.Chunk{Type: parts.ChunkToolInputAvailable, ToolCallID: "c", ToolName: "w"}, `{"type":"tool-input-available","toolCallId":"c","toolName":"w","input":null}`},
		{parts.Chunk{Type: parts.ChunkToolOutputAvailable, ToolCallID: "c", ToolName: "dropped", Output: raw(`[1]`), Dynamic: true}, `{"type":"tool-output-available","toolCallId":"c","output":[1],"dynamic":true}`},
		{parts.Chunk{Type: parts.ChunkToolOutputError, ToolCallID: "c", ErrorText: "down"}, `{"type":"tool-output-error","toolCallId":"c","errorText":"down"}`},
		{parts.Chunk{Type: parts.ChunkToolOutputDenied, ToolCallID: "c"}, `{"type":"tool-output-denied","toolCallId":"c"}`},
		{parts.Chunk{Type: parts.ChunkSourceURL, SourceID: "s", URL: "https://x"}, `{"type":"source-url","sourceId":"s","url":"https://x"}`},
		{parts.Chunk{Type: parts.ChunkSourceURL, SourceID: "s", URL: "https://x", Title: "X"}, `{"type":"source-url","sourceId":"s","url":"https://x","title":"X"}`},
		{parts.Chunk{Type: parts.ChunkSourceDocument, SourceID: "s", MediaType: "application/pdf"}, `{"type":"source-document","sourceId":"s","mediaType":"application/pdf","title":""}`},
		{parts.Chunk{Type: parts.ChunkSourceDocument, SourceID: "s", MediaType: "text/plain", Title: "T", Filename: "f.txt"}, `{"type":"source-document","sourceId":"s","mediaType":"text/plain","title":"T","filename":"f.txt"}`},
		{parts.Chunk{Type: parts.ChunkFile, URL: "data:,", MediaType: "text/plain"}, `{"type":"file","url":"data:,","mediaType":"text/plain"}`},
		{parts.Chunk{Type: "data-progress", Data: raw(`{"p":1}`)}, `{"type":"data-progress","data":{"p":1}}`},
		{parts.Chunk{Type: "data-progress", ID: "d", Data: raw(`1`), Transient: true}, `{"type":"data-progress","id":"d","data":1,"transient":true}`},
		{parts.Chunk{Type: parts.ChunkStartStep}, `{"type":"start-step"}`},
		{parts.Chunk{Type: parts.ChunkFinishStep}, `{"type":"finish-step"}`},
		{parts.Chunk{Type: parts.ChunkMessageMetadata, MessageMetadata: raw(`{"m":1}`)}, `{"type":"message-metadata","messageMetadata":{"m":1}}`},
		{parts.Chunk{Type: parts.ChunkStart}, `{"type":"start"}`},
		{parts.Chunk{Type: parts.ChunkStart, MessageID: "m"}, `{"type":"start","messageId":"m"}`},
		{parts.Chunk{Type: parts.ChunkFinish}, `{"type":"finish"}`},
		{parts.Chunk{Type: parts.ChunkError, ErrorText: "e"}, `{"type":"error","errorText":"e"}`},
		{parts.Chunk{Type: parts.ChunkAbort}, `{"type":"abort"}`},
		{parts.Chunk{Type: parts.ChunkTextDelta, ID: "t", Delta: "bad \xff utf-8"}, `{"type":"text-delta","id":"t","delta":"bad \ufffd utf-8"}`}, // as encoding/json escapes it
	}
	for _, tt := range tests {
		got := parts.AppendChunk(nil, &tt.c) // json.Marshal would add HTML escapes
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.c.Type, got, tt.want)
			continue
		}
		if !json.Valid(got) {
			t.Errorf("%s: invalid JSON %s", tt.c.Type, got)
		}
		var back parts.Chunk
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: decode: %v", tt.c.Type, err)
		}
		// The decoded text holds U+FFFD itself, which is written as it is, not escaped.
		if again := parts.AppendChunk(nil, &back); string(again) != strings.ReplaceAll(tt.want, `\ufffd`, "\ufffd") {
			t.Errorf("%s: round trip gives %s", tt.c.Type, again)
		}
	}
	var c parts.Chunk
	if err := json.Unmarshal([]byte(`{"id":"x"}`), &c); err == nil {
		t.Fatal("a chunk without a type decoded")
	}
}

// TestBuilderCompact folds chunks of every kind, then checks that the compacted chunks
// rebuild the same parts, in fewer chunks.
func TestBuilderCompact(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	chunks := []parts.Chunk{
		{Type: parts.ChunkMessageMetadata, MessageMetadata: raw(`{"a":{"x":1},"b":1}`)},
		{Type: parts.ChunkStartStep},
		{Type: parts.ChunkReasoningStart, ID: "r1"},
		{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "think"},
		{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "ing"},
		{Type: parts.ChunkReasoningEnd, ID: "r1"},
		{Type: parts.ChunkToolInputStart, ToolCallID: "c1", ToolName: "weather"},
		{Type: parts.ChunkToolInputDelta, ToolCallID: "c1", InputTextDelta: `{"city":`},
		{Type: parts.ChunkToolInputDelta, ToolCallID: "c1", InputTextDelta: `"Paris"}`},
		{Type: parts.ChunkToolInputAvailable, ToolCallID: "c1", ToolName: "weather", Input: raw(`{"city":"Paris"}`)},
		{Type: parts.ChunkToolOutputAvailable, ToolCallID: "c1", Output: raw(`"sunny"`)},
		{Type: parts.ChunkToolInputAvailable, ToolCallID: "c2", ToolName: "mcp", Dynamic: true, Input: raw(`{}`)},
		{Type: parts.ChunkToolOutputError, ToolCallID: "c2", ErrorText: "down", Dynamic: true},
		{Type: parts.ChunkToolInputAvailable, ToolCallID: "c3", ToolName: "rm", Input: raw(`{}`)},
		{Type: parts.ChunkToolOutputDenied, ToolCallID: "c3"},
		{Type: parts.ChunkToolInputStart, ToolCallID: "c4", ToolName: "slow", ProviderExecuted: true},
		{Type: parts.ChunkToolInputDelta, ToolCallID: "c4", InputTextDelta: `{"q":`},
		{Type: parts.ChunkSourceURL, SourceID: "s1", URL: "https://x", Title: "X"},
		{Type: parts.ChunkSourceDocument, SourceID: "s2", MediaType: "application/pdf", Title: "R"},
		{Type: parts.ChunkFile, URL: "data:,", MediaType: "text/plain"},
		{Type: "data-progress", ID: "p", Data: raw(`1`)},
		{Type: "data-notice", Data: raw(`"gone"`), Transient: true},
		{Type: "data-log", Data: raw(`"kept"`)},
		{Type: parts.ChunkMessageMetadata, MessageMetadata: raw(`{"a":{"y":2}}`)},
		{Type: parts.ChunkTextStart, ID: "t1"},
		{Type: parts.ChunkTextDelta, ID: "t1", Delta: "Hello"},
		{Type: "data-progress", ID: "p", Data: raw(`2`)},
		{Type: parts.ChunkTextDelta, ID: "t1", Delta: ", world"},
		{Type: parts.ChunkTextEnd, ID: "t1"},
		{Type: parts.ChunkFinishStep},
		{Type: parts.ChunkTextStart, ID: "t2"},
		{Type: parts.ChunkTextDelta, ID: "t2", Delta: "!"},
		{Type: parts.ChunkTextDelta, ID: "nope", Delta: "dropped: never started"},
		{Type: parts.ChunkToolOutputAvailable, ToolCallID: "nope", Output: raw(`1`)},
	}
	var b parts.Builder
	for i := range chunks {
		b.Apply(&chunks[i])
	}
	if b.Text() != "Hello, world!" {
		t.Fatalf("text %q", b.Text())
	}
	if got := string(b.MessageMetadata()); got != `{"a":{"x":1,"y":2},"b":1}` {
		t.Fatalf("merged metadata %s", got)
	}
	ps := b.Parts()
	want := `[{"type":"step-start"},` +
		`{"type":"reasoning","text":"thinking","state":"done"},` +
		`{"type":"tool-weather","toolCallId":"c1","state":"output-available","input":{"city":"Paris"},"output":"sunny"},` +
		`{"type":"dynamic-tool","toolName":"mcp","toolCallId":"c2","state":"output-error","input":{},"errorText":"down"},` +
		`{"type":"tool-rm","toolCallId":"c3","state":"output-denied","input":{}},` +
		`{"type":"tool-slow","toolCallId":"c4","state":"input-streaming","providerExecuted":true},` +
		`{"type":"source-url","sourceId":"s1","url":"https://x","title":"X"},` +
		`{"type":"source-document","sourceId":"s2","mediaType":"application/pdf","title":"R"},` +
		`{"type":"file","mediaType":"text/plain","url":"data:,"},` +
		`{"type":"data-progress","id":"p","data":2},` +
		`{"type":"data-log","data":"kept"},` +
		`{"type":"text","text":"Hello, world","state":"done"},` +
		`{"type":"text","text":"!","state":"streaming"}]`
	if got, _ := json.Marshal(ps); string(got) != want {
		t.Fatalf("parts\n got %s\nwant %s", got, want)
	}
	compact := b.Compact(nil)
	if len(compact) >= len(chunks) {
		t.Fatalf("compact: %d chunks for %d", len(compact), len(chunks))
	}
	var again parts.Builder
	for i := range compact {
		again.Apply(&compact[i])
	}
	g1, _ := json.Marshal(b.Parts())
	g2, _ := json.Marshal(again.Parts())
	if string(g1) != string(g2) || string(again.MessageMetadata()) != string(b.MessageMetadata()) {
		t.Fatalf("compacted chunks rebuild\n%s\nnot\n%s", g2, g1)
	}
	var partial parts.Part
	for _, p := range again.Parts() {
		if p.ToolCallID == "c4" {
			partial = p
		}
	}
	if partial.InputText != `{"q":` {
		t.Fatalf("streaming tool input lost in compaction: %+v", partial)
	}
	// Parts decode back from their JSON (as stored in a final message).
	var decoded []parts.Part
	if err := json.Unmarshal([]byte(want), &decoded); err != nil {
		t.Fatal(err)
	}
	rebuilt := parts.NewBuilder(decoded, nil)
	if got, _ := json.Marshal(rebuilt.Parts()); string(got) != want {
		t.Fatalf("decoded parts re-encode as\n%s", got)
	}
}
