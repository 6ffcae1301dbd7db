package core

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/internal/streamlog"
	"github.com/chatwire/chatwire/parts"
)

func logOf(chunks ...parts.Chunk) string { return string(streamlog.Append(nil, chunks)) }

// TestCoalesceChunkLog: the deltas of each part in a run merge into one chunk at the place
// of the part's first delta; other chunks keep their order; a part's end keeps later deltas
// apart.
func TestCoalesceChunkLog(t *testing.T) {
	log := logOf(
		parts.Chunk{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "a"},
		parts.Chunk{Type: parts.ChunkTextStart, ID: "t1"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "H"},
		parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: "c", InputTextDelta: "{"},
		parts.Chunk{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "b"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "i"},
		parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: "c", InputTextDelta: "}"},
		parts.Chunk{Type: parts.ChunkToolInputAvailable, ToolCallID: "c", ToolName: "x", Input: json.RawMessage(`{}`)},
		parts.Chunk{Type: parts.ChunkReasoningEnd, ID: "r1"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "!"},
	)
	chunks, text := coalesceChunkLog(appendStreamHeadString("ask") + log)
	if text != "Hi!" {
		t.Fatalf("content %q, want only the text parts' text", text)
	}
	var got []string
	for i := range chunks {
		got = append(got, string(parts.AppendChunk(nil, &chunks[i])))
	}
	want := []string{
		`{"type":"reasoning-delta","id":"r1","delta":"ab"}`,
		`{"type":"text-start","id":"t1"}`,
		`{"type":"text-delta","id":"t1","delta":"Hi!"}`,
		`{"type":"tool-input-delta","toolCallId":"c","inputTextDelta":"{}"}`,
		`{"type":"tool-input-available","toolCallId":"c","toolName":"x","input":{}}`,
		`{"type":"reasoning-end","id":"r1"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("coalesced\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func appendStreamHeadString(replyTo string) string { return string(streamlog.AppendHead(nil, replyTo)) }

// TestDeltaFrames checks the envelopes a connection gets: a delta frame's content is only
// text, its chunks the merged ones; a resume frame's content is the whole text and its
// chunks the compacted parts; replyTo travels in the head line.
func TestDeltaFrames(t *testing.T) {
	head := appendStreamHeadString("ask")
	log := head + logOf(
		parts.Chunk{Type: parts.ChunkReasoningStart, ID: "r1"},
		parts.Chunk{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "secret"},
		parts.Chunk{Type: parts.ChunkTextStart, ID: "t1"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "He"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "llo"},
		parts.Chunk{Type: "data-n", Data: json.RawMessage(`1`), Transient: true},
	)
	if got := streamlog.ReplyTo(log); got != "ask" {
		t.Fatalf("replyTo %q", got)
	}
	m := deltaMessage(&deltaPart{stream: "s", seq: 7, text: []byte(log), replyTo: "ask"})
	if m.Type != TypeTyping || m.Content != "Hello" || m.ID != "s:7" {
		t.Fatalf("delta frame %+v", m)
	}
	wantMeta := `{"stream":{"id":"s","seq":7,"state":"delta","replyTo":"ask","chunks":[` +
		`{"type":"reasoning-start","id":"r1"},{"type":"reasoning-delta","id":"r1","delta":"secret"},` +
		`{"type":"text-start","id":"t1"},{"type":"text-delta","id":"t1","delta":"Hello"},` +
		`{"type":"data-n","data":1,"transient":true}]}}`
	if string(m.Metadata) != wantMeta {
		t.Fatalf("delta metadata\n%s\nwant\n%s", m.Metadata, wantMeta)
	}
	r := deltaMessage(&deltaPart{stream: "s", seq: 9, text: []byte(log), resume: true})
	wantResume := `{"stream":{"id":"s","seq":9,"state":"delta","replyTo":"ask","resume":true,"chunks":[` +
		`{"type":"reasoning-start","id":"r1"},{"type":"reasoning-delta","id":"r1","delta":"secret"},` +
		`{"type":"text-start","id":"t1"},{"type":"text-delta","id":"t1","delta":"Hello"}]}}`
	if r.Content != "Hello" || r.ID != "s:9:resume" || string(r.Metadata) != wantResume {
		t.Fatalf("resume frame %q %s\nwant %s", r.Content, r.Metadata, wantResume)
	}
	if !json.Valid(r.Metadata) || !json.Valid(m.Metadata) {
		t.Fatal("invalid metadata JSON")
	}
	first := deltaMessage(&deltaPart{stream: "s", seq: 1, text: []byte(head), replyTo: "ask"})
	if first.Content != "" || string(first.Metadata) != `{"stream":{"id":"s","seq":1,"state":"delta","replyTo":"ask"}}` {
		t.Fatalf("first frame %q %s", first.Content, first.Metadata)
	}
}

// TestFinalStreamMessage checks the stored message: content is the text parts joined,
// metadata the state, finish reason, parts (text closed) and message metadata.
func TestFinalStreamMessage(t *testing.T) {
	b := streamlog.Fold(logOf(
		parts.Chunk{Type: parts.ChunkTextStart, ID: "t1"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: "a"},
		parts.Chunk{Type: parts.ChunkTextEnd, ID: "t1"},
		parts.Chunk{Type: parts.ChunkReasoningStart, ID: "r1"},
		parts.Chunk{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "hidden"},
		parts.Chunk{Type: parts.ChunkTextStart, ID: "t2"},
		parts.Chunk{Type: parts.ChunkTextDelta, ID: "t2", Delta: "b"},
		parts.Chunk{Type: parts.ChunkMessageMetadata, MessageMetadata: json.RawMessage(`{"k":1}`)},
	))
	m := finalStreamMessage("s", 8, StreamStateError, CodeStreamLost, "ask", FinishLength, b)
	if m.Content != "ab" || m.ID != "s" || m.Type != TypeMessage || m.Role != RoleAssistant {
		t.Fatalf("final %+v", m)
	}
	want := `{"stream":{"id":"s","seq":8,"state":"error","replyTo":"ask","finishReason":"length"},"code":"STREAM_LOST",` +
		`"parts":[{"type":"text","text":"a","state":"done"},{"type":"reasoning","text":"hidden","state":"done"},{"type":"text","text":"b","state":"done"}],` +
		`"messageMetadata":{"k":1}}`
	if string(m.Metadata) != want {
		t.Fatalf("final metadata\n%s\nwant\n%s", m.Metadata, want)
	}
	empty := finalStreamMessage("s", 1, StreamStateDone, "", "", "", &parts.Builder{})
	if string(empty.Metadata) != `{"stream":{"id":"s","seq":1,"state":"done"}}` {
		t.Fatalf("empty stream metadata %s", empty.Metadata)
	}
}

// TestChunkLogRoundTrip: every chunk read back from the log equals the chunk written, short
// delta lines included, whatever the text holds.
func TestChunkLogRoundTrip(t *testing.T) {
	texts := []string{"", "plain", `quote " and \ backslash`, "line\nbreak\ttab\r", "\u2028\u2029 <&>", "émoji 🎉", "nul \x00 ctl \x1f", `\u0041 literal`, `"]`, `["x","y"]`}
	var chunks []parts.Chunk
	for _, s := range texts {
		chunks = append(chunks,
			parts.Chunk{Type: parts.ChunkTextDelta, ID: "t1", Delta: s},
			parts.Chunk{Type: parts.ChunkReasoningDelta, ID: "r2", Delta: s},
			parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: "call \"" + s, InputTextDelta: s},
			parts.Chunk{Type: parts.ChunkTextDelta, ID: "x-not-ours", Delta: s},
		)
	}
	log := streamlog.Append(nil, chunks)
	var got []parts.Chunk
	streamlog.Read(string(log), func(c *parts.Chunk) { got = append(got, *c) })
	if len(got) != len(chunks) {
		t.Fatalf("read %d chunks, wrote %d", len(got), len(chunks))
	}
	for i := range chunks {
		if a, b := string(parts.AppendChunk(nil, &chunks[i])), string(parts.AppendChunk(nil, &got[i])); a != b {
			t.Fatalf("chunk %d: wrote %s, read %s", i, a, b)
		}
	}
	short := string(streamlog.Append(nil, []parts.Chunk{{Type: parts.ChunkTextDelta, ID: "t1", Delta: "hi"}}))
	if short != "[\"t1\",\"hi\"]\n" {
		t.Fatalf("text delta log line %q", short)
	}
	bad := "[\"t1\"]\n[1,2]\n[\"q1\",\"x\"]\n{\"type\":\n[\"t1\",\"ok\"]\n"
	var n int
	streamlog.Read(bad, func(c *parts.Chunk) { n++ })
	if n != 1 {
		t.Fatalf("read %d chunks from a log with 4 bad lines and 1 good", n)
	}
}
