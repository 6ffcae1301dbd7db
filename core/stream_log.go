package core

import (
	"encoding/json"
	"strconv"
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

// appendChunkLog appends the log lines of chunks to dst.
func appendChunkLog(dst []byte, chunks []parts.Chunk) []byte {
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

// readChunkLog calls fn with every chunk of log, in order; fn must copy the chunk to keep
// it. Lines that do not decode as a chunk are skipped.
func readChunkLog(log string, fn func(*parts.Chunk)) {
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
		case line[0] != '{' || strings.HasPrefix(line, streamHeadPrefix) || c.UnmarshalJSON([]byte(line)) != nil:
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

// foldChunkLog returns the parts a complete log builds.
func foldChunkLog(log string) *parts.Builder {
	b := &parts.Builder{}
	readChunkLog(log, func(c *parts.Chunk) { b.Apply(c) })
	return b
}

// streamHeadType is the type of a stream's first log line, which carries what every frame
// of the stream repeats (replyTo). It is not a chunk: readChunkLog skips it.
const streamHeadType = "chatwire-stream"

const streamHeadPrefix = `{"type":"` + streamHeadType + `"`

// appendStreamHead appends the head line of a stream answering the message replyTo.
func appendStreamHead(dst []byte, replyTo string) []byte {
	dst = append(dst, streamHeadPrefix...)
	dst = append(dst, `,"replyTo":`...)
	dst = envelope.AppendString(dst, replyTo)
	return append(dst, "}\n"...)
}

// streamReplyTo returns the replyTo of a log that starts with a head line, else "".
func streamReplyTo(log string) string {
	if !strings.HasPrefix(log, streamHeadPrefix) {
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

// appendStreamObject appends the stream state object of a frame's metadata:
// {"stream":{"id":...,"seq":N,"state":...,"replyTo":...,"finishReason":...}} (seq, state,
// replyTo and finishReason omitted when empty).
func appendStreamObject(dst []byte, id string, seq uint64, state StreamStatus, replyTo string, reason FinishReason) []byte {
	dst = append(dst, `{"stream":{"id":`...)
	dst = envelope.AppendString(dst, id)
	if seq > 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, seq, 10)
	}
	if state != "" {
		dst = append(dst, `,"state":"`...)
		dst = append(dst, state...)
		dst = append(dst, '"')
	}
	if replyTo != "" {
		dst = append(dst, `,"replyTo":`...)
		dst = envelope.AppendString(dst, replyTo)
	}
	if reason != "" {
		dst = append(dst, `,"finishReason":`...)
		dst = envelope.AppendString(dst, string(reason))
	}
	return append(dst, "}}"...)
}

// finalStreamMessage is the message a stream leaves in the history: content is its text
// parts joined, metadata holds the stream's end state, its parts and its message metadata.
// Text and reasoning parts still streaming are marked done (the message is complete).
func finalStreamMessage(id string, seq uint64, state StreamStatus, code ErrorCode, replyTo string, reason FinishReason, pb *parts.Builder) Message {
	meta := appendStreamObject(make([]byte, 0, 256), id, seq, state, replyTo, reason)
	if code != "" {
		meta = meta[:len(meta)-1]
		meta = append(meta, `,"code":`...)
		meta = envelope.AppendString(meta, string(code))
		meta = append(meta, '}')
	}
	if n := pb.Len(); n > 0 || len(pb.MessageMetadata()) > 0 {
		meta = meta[:len(meta)-1]
		if n > 0 {
			meta = append(meta, `,"parts":[`...)
			for i, p := range pb.Parts() {
				if p.State == parts.PartStreaming {
					p.State = parts.PartDone
				}
				if i > 0 {
					meta = append(meta, ',')
				}
				meta = parts.AppendPart(meta, &p)
			}
			meta = append(meta, ']')
		}
		if md := pb.MessageMetadata(); len(md) > 0 {
			meta = append(meta, `,"messageMetadata":`...)
			meta = append(meta, md...)
		}
		meta = append(meta, '}')
	}
	return Message{ID: id, Type: TypeMessage, Role: RoleAssistant, Content: pb.Text(), Metadata: json.RawMessage(meta), Timestamp: envelope.NowMillis()}
}

// compactChunkLog is CompactStreamLog.
func compactChunkLog(log string) (string, bool) {
	head := ""
	if strings.HasPrefix(log, streamHeadPrefix) {
		i := strings.IndexByte(log, '\n')
		if i < 0 {
			return log, true
		}
		head, log = log[:i+1], log[i+1:]
	}
	var b parts.Builder
	ok := true
	forEachLogLine(log, func(line string) {
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
	out = appendChunkLog(out, b.Compact(nil))
	return string(out), true
}

// forEachLogLine calls fn with every non-empty line of log.
func forEachLogLine(log string, fn func(line string)) {
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
