// Package streamlog is the chunk log a running stream keeps in the store: how core writes
// a stream's chunks as lines, reads them back, folds them into parts and compacts them.
// Stores see the log as an opaque string (storage.StreamState.Content) and compact it with
// storage.CompactStreamLog.
package streamlog

import (
	"encoding/json"
	"strings"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/parts"
)

// A stream's deltas travel through the store (StreamStore.StreamAppend) as a chunk log: one
// line per chunk, each ended by "\n". JSON never holds a raw newline, so logs concatenate:
// the log of a run of deltas is their logs joined, and a running stream's snapshot content
// (StreamState.Content) is the log of everything written so far, which parts.Builder folds
// and Compact turns into the chunks of a resume frame.
//
// A line is a chunk's JSON (parts.AppendChunk), except for the deltas, which are most of a log
// and are kept short: a text or reasoning delta of a part whose id the stream chose ("t1",
// "r2": the first letter says which) is ["<id>","<delta>"], a tool input delta is
// ["","<tool call id>","<delta>"].

// Append appends the log lines of chunks to dst.
func Append(dst []byte, chunks []parts.Chunk) []byte {
	for i := range chunks {
		c := &chunks[i]
		switch {
		case c.Type == parts.ChunkTextDelta && strings.HasPrefix(c.ID, "t"),
			c.Type == parts.ChunkReasoningDelta && strings.HasPrefix(c.ID, "r"):
			dst = append(dst, '[')
			dst = envelope.AppendString(dst, c.ID)
			dst = append(dst, ',')
			dst = envelope.AppendString(dst, c.Delta)
			dst = append(dst, ']')
		case c.Type == parts.ChunkToolInputDelta:
			dst = append(dst, `["",`...)
			dst = envelope.AppendString(dst, c.ToolCallID)
			dst = append(dst, ',')
			dst = envelope.AppendString(dst, c.InputTextDelta)
			dst = append(dst, ']')
		default:
			dst = parts.AppendChunk(dst, c)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// Read calls fn with every chunk of log, in order; fn must copy the chunk to keep
// it. Lines that do not decode as a chunk are skipped.
func Read(log string, fn func(*parts.Chunk)) {
	var c parts.Chunk // one for every line: fn must not keep it
	for log != "" {
		i := strings.IndexByte(log, '\n')
		if i < 0 {
			i = len(log)
		}
		line := log[:i]
		log = log[min(i+1, len(log)):]
		if line == "" {
			continue
		}
		c = parts.Chunk{}
		switch {
		case line[0] == '[':
			if !readDeltaLine(line, &c) {
				continue
			}
		case line[0] != '{' || strings.HasPrefix(line, headPrefix) || c.UnmarshalJSON([]byte(line)) != nil:
			continue
		}
		fn(&c)
	}
}

// readDeltaLine decodes a short delta line into c.
func readDeltaLine(line string, c *parts.Chunk) bool {
	var f [3]string
	n := 0
	rest := line[1:]
	for n < 3 {
		v, r, ok := cutJSONString(rest)
		if !ok {
			return false
		}
		f[n] = v
		n++
		if r == "]" {
			break
		}
		if !strings.HasPrefix(r, ",") {
			return false
		}
		rest = r[1:]
	}
	switch {
	case n == 2 && strings.HasPrefix(f[0], "t"):
		*c = parts.Chunk{Type: parts.ChunkTextDelta, ID: f[0], Delta: f[1]}
	case n == 2 && strings.HasPrefix(f[0], "r"):
		*c = parts.Chunk{Type: parts.ChunkReasoningDelta, ID: f[0], Delta: f[1]}
	case n == 3 && f[0] == "":
		*c = parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: f[1], InputTextDelta: f[2]}
	default:
		return false
	}
	return true
}

// cutJSONString reads the JSON string at the start of s (as appendJSONString writes them)
// and returns its value and what follows it.
func cutJSONString(s string) (string, string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[1:i], s[i+1:], true
			}
			var v string
			if json.Unmarshal([]byte(s[:i+1]), &v) != nil {
				return "", "", false
			}
			return v, s[i+1:], true
		}
	}
	return "", "", false
}

// Fold returns the parts a complete log builds.
func Fold(log string) *parts.Builder {
	b := &parts.Builder{}
	Read(log, func(c *parts.Chunk) { b.Apply(c) })
	return b
}

// headType is the type of a stream's first log line, which carries what every frame
// of the stream repeats (replyTo). It is not a chunk: Read skips it.
const headType = "chatwire-stream"

const headPrefix = `{"type":"` + headType + `"`

// AppendHead appends the head line of a stream answering the message replyTo.
func AppendHead(dst []byte, replyTo string) []byte {
	dst = append(dst, headPrefix...)
	dst = append(dst, `,"replyTo":`...)
	dst = envelope.AppendString(dst, replyTo)
	return append(dst, "}\n"...)
}

// ReplyTo returns the replyTo of a log that starts with a head line, else "".
func ReplyTo(log string) string {
	if !strings.HasPrefix(log, headPrefix) {
		return ""
	}
	line := log
	if i := strings.IndexByte(log, '\n'); i >= 0 {
		line = log[:i]
	}
	var head struct {
		ReplyTo string `json:"replyTo"`
	}
	if json.Unmarshal([]byte(line), &head) != nil {
		return ""
	}
	return head.ReplyTo
}

// Compact compacts a complete log: the same head line, then the fewest chunks that build
// the same parts (storage.CompactStreamLog). ok is false when log is not a chunk log.
func Compact(log string) (string, bool) {
	head := ""
	if strings.HasPrefix(log, headPrefix) {
		i := strings.IndexByte(log, '\n')
		if i < 0 {
			return log, true
		}
		head, log = log[:i+1], log[i+1:]
	}
	var b parts.Builder
	ok := true
	forEachLine(log, func(line string) {
		var c parts.Chunk
		switch {
		case line[0] == '[' && readDeltaLine(line, &c):
		case line[0] == '{' && c.UnmarshalJSON([]byte(line)) == nil:
		default:
			ok = false
			return
		}
		b.Apply(&c)
	})
	if !ok {
		return "", false
	}
	out := make([]byte, 0, len(head)+len(log)/2)
	out = append(out, head...)
	out = Append(out, b.Compact(nil))
	return string(out), true
}

// forEachLine calls fn with every non-empty line of log.
func forEachLine(log string, fn func(line string)) {
	for log != "" {
		i := strings.IndexByte(log, '\n')
		if i < 0 {
			i = len(log)
		}
		if line := log[:i]; line != "" {
			fn(line)
		}
		log = log[min(i+1, len(log)):]
	}
}
