package core

import (
	"encoding/json"
	"strconv"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/parts"
)

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
