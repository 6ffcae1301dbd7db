package core

import (
	"encoding/json"
	"strings"
)

// A stream's deltas travel through the store (StreamStore.StreamAppend) as a chunk log: each
// chunk's JSON (AppendChunk) followed by "\n". JSON never holds a raw newline, so logs
// concatenate: the log of a run of deltas is their logs joined, and a running stream's
// snapshot content (StreamState.Content) is the log of everything written so far, which
// PartsBuilder folds and Compact turns into the chunks of a resume frame.

// appendChunkLog appends the log lines of chunks to dst.
func appendChunkLog(dst []byte, chunks []Chunk) []byte {
	for i := range chunks {
		dst = AppendChunk(dst, &chunks[i])
		dst = append(dst, '\n')
	}
	return dst
}

// readChunkLog calls fn with every chunk of log, in order. Lines that do not decode as a
// chunk are skipped.
func readChunkLog(log string, fn func(*Chunk)) {
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
		var c Chunk
		if line[0] != '{' || c.UnmarshalJSON([]byte(line)) != nil {
			continue
		}
		fn(&c)
	}
}

// foldChunkLog returns the parts a complete log builds.
func foldChunkLog(log string) *PartsBuilder {
	b := &PartsBuilder{}
	readChunkLog(log, func(c *Chunk) { b.Apply(c) })
	return b
}

// finalStreamMessage is the message a stream leaves in the history: content is its text
// parts joined, metadata holds the stream's end state, its parts and its message metadata.
// Text and reasoning parts still streaming are marked done (the message is complete).
func finalStreamMessage(id string, seq uint64, state, code string, reason FinishReason, parts *PartsBuilder) Message {
	meta := finalStreamMetadata(id, seq, state, code)
	if reason != "" {
		// insert ,"finishReason":"..." at the end of the "stream" object: its first '}'.
		i := strings.IndexByte(string(meta), '}')
		out := make([]byte, 0, len(meta)+32)
		out = append(out, meta[:i]...)
		out = append(out, `,"finishReason":`...)
		out = appendJSONString(out, string(reason))
		meta = append(out, meta[i:]...)
	}
	if n := parts.Len(); n > 0 || len(parts.MessageMetadata()) > 0 {
		meta = meta[:len(meta)-1]
		if n > 0 {
			meta = append(meta, `,"parts":[`...)
			for i, p := range parts.Parts() {
				if p.State == PartStreaming {
					p.State = PartDone
				}
				if i > 0 {
					meta = append(meta, ',')
				}
				meta = appendPart(meta, &p)
			}
			meta = append(meta, ']')
		}
		if md := parts.MessageMetadata(); len(md) > 0 {
			meta = append(meta, `,"messageMetadata":`...)
			meta = append(meta, md...)
		}
		meta = append(meta, '}')
	}
	return Message{ID: id, Type: TypeMessage, Role: RoleAssistant, Content: parts.Text(), Metadata: json.RawMessage(meta), Timestamp: NowMillis()}
}
