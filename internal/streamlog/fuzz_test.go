package streamlog_test

import (
	"encoding/json"
	"testing"

	"github.com/chatwire/chatwire/internal/streamlog"
	"github.com/chatwire/chatwire/parts"
)

// FuzzChunkLog: any content (a store may hold anything) is read without panicking; chunks
// read back re-encode as valid JSON; compaction is idempotent and keeps the parts.
func FuzzChunkLog(f *testing.F) {
	f.Add(`{"type":"chatwire-stream","replyTo":"a"}` + "\n" + `{"type":"text-start","id":"t1"}` + "\n" + `["t1","hi"]` + "\n")
	f.Add(`["","call",""]` + "\n" + `{"type":"tool-input-start","toolCallId":"call","toolName":"x"}` + "\n" + `["","call","{\"a\":"]` + "\n")
	f.Add(`["t1","\u2028\"\\"]` + "\n[\"r1\",\"x\"]\n{\"type\":\"data-x\",\"id\":\"1\",\"data\":1}\n")
	f.Add("plain text")
	f.Add(`["t1"` + "\n" + `{"type":` + "\n" + `[]` + "\n")
	f.Fuzz(func(t *testing.T, log string) {
		streamlog.Read(log, func(c *parts.Chunk) {
			if b := parts.AppendChunk(nil, c); !json.Valid(b) && validRaw(c) {
				t.Fatalf("chunk re-encodes as invalid JSON: %s", b)
			}
		})
		once, ok := streamlog.Compact(log)
		if !ok {
			return
		}
		twice, ok := streamlog.Compact(once)
		if !ok {
			t.Fatalf("a compacted log is not a log: %q", once)
		}
		orig := streamlog.Fold(log)
		first := streamlog.Fold(once)
		o, _ := json.Marshal(orig.Parts())
		a, _ := json.Marshal(first.Parts())
		b, _ := json.Marshal(streamlog.Fold(twice).Parts())
		if string(o) != string(a) || string(a) != string(b) {
			t.Fatalf("compaction changed the parts:\n%s\n%s\n%s", o, a, b)
		}
		if string(orig.MessageMetadata()) != string(first.MessageMetadata()) || orig.Text() != first.Text() {
			t.Fatalf("compaction changed the metadata or text")
		}
	})
}

// validRaw reports whether the chunk's raw JSON fields are valid (they come from a decoded
// JSON value, so they are, unless empty).
func validRaw(c *parts.Chunk) bool {
	for _, r := range []json.RawMessage{c.Input, c.Output, c.Data, c.MessageMetadata} {
		if len(r) > 0 && !json.Valid(r) {
			return false
		}
	}
	return true
}
