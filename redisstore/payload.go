package redisstore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Pub/sub payloads. A record's payload starts with a digit; every other kind starts with a
// letter naming it. "<lp:x>" is x length-prefixed ("<len>:<bytes>"), so any bytes may occur;
// the last part runs to the end of the payload.
//
//	record      <seq>:<ts>:<lp:epoch><lp:id><lp:type><lp:role><lp:meta><content>
//	stream end  f<lp:stream id><record payload of the final message>
//	delta       d<seq>:<started>:<lp:stream id><delta text>
//	cancel      c<stream id>
//	ephemeral   e<record payload with seq 0>
//
// Records and stream ends are published by appendLua, deltas by streamAppendScript, cancel
// and ephemeral messages by publishScript.

// payloadReader consumes a payload from the front.
type payloadReader struct {
	p  string
	ok bool
}

// num returns the text up to the next ':' (which must not be first) and skips the ':'.
func (r *payloadReader) num() string {
	i := strings.IndexByte(r.p, ':')
	if !r.ok || i <= 0 {
		r.ok = false
		return ""
	}
	s := r.p[:i]
	r.p = r.p[i+1:]
	return s
}

// field returns a length-prefixed field.
func (r *payloadReader) field() string {
	s := r.num()
	if !r.ok {
		return ""
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > len(r.p) {
		r.ok = false
		return ""
	}
	v := r.p[:n]
	r.p = r.p[n:]
	return v
}

// uint parses the next number as an unsigned integer.
func (r *payloadReader) uint() uint64 {
	s := r.num()
	v, err := strconv.ParseUint(s, 10, 64)
	if r.ok && err != nil {
		r.ok = false
	}
	return v
}

// int parses the next number as a signed integer.
func (r *payloadReader) int() int64 {
	s := r.num()
	v, err := strconv.ParseInt(s, 10, 64)
	if r.ok && err != nil {
		r.ok = false
	}
	return v
}

// decodePayload parses a record payload built by appendLua: "<seq>:<ts>:" then
// length-prefixed epoch, id, type, role and metadata, then the content up to the end.
func decodePayload(p string) (storage.Record, string, error) {
	r := payloadReader{p: p, ok: true}
	seq := r.uint()
	ts := r.int()
	epoch, id, typ, role, meta := r.field(), r.field(), r.field(), r.field(), r.field()
	if !r.ok {
		return storage.Record{}, "", fmt.Errorf("%w: malformed pub/sub payload", errBadReply)
	}
	rec := storage.Record{Seq: seq, Message: core.Message{
		ID: id, Type: core.Type(typ), Role: core.Role(role), Content: r.p, Timestamp: ts,
	}}
	if meta != "" {
		rec.Message.Metadata = []byte(meta)
	}
	return rec, epoch, nil
}

// appendLP appends s length-prefixed.
func appendLP(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// encodePayload builds the record payload of msg with sequence seq of epoch, as appendLua
// does.
func encodePayload(b []byte, seq uint64, epoch string, msg core.Message) []byte {
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, msg.Timestamp, 10)
	b = append(b, ':')
	b = appendLP(b, epoch)
	b = appendLP(b, msg.ID)
	b = appendLP(b, string(msg.Type))
	b = appendLP(b, string(msg.Role))
	b = appendLP(b, string(msg.Metadata))
	return append(b, msg.Content...)
}

// ephemeralPayload is the payload Publish sends for msg.
func ephemeralPayload(msg core.Message) string {
	b := make([]byte, 0, 48+len(msg.ID)+len(msg.Type)+len(msg.Role)+len(msg.Metadata)+len(msg.Content))
	return string(encodePayload(append(b, 'e'), 0, "", msg))
}

// decodeNotification parses any pub/sub payload of a session channel.
func decodeNotification(p string) (storage.Notification, error) {
	bad := func() (storage.Notification, error) {
		return storage.Notification{}, fmt.Errorf("%w: malformed pub/sub payload", errBadReply)
	}
	if p == "" {
		return bad()
	}
	switch p[0] {
	case 'd':
		r := payloadReader{p: p[1:], ok: true}
		seq := r.uint()
		started := r.int()
		id := r.field()
		if !r.ok || id == "" || seq == 0 {
			return bad()
		}
		return storage.Notification{Stream: &storage.StreamEvent{
			Kind: storage.StreamDelta, StreamID: id, Seq: seq, Delta: r.p, Started: started,
		}}, nil
	case 'c':
		if len(p) == 1 {
			return bad()
		}
		return storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamCancelled, StreamID: p[1:]}}, nil
	case 'e':
		rec, _, err := decodePayload(p[1:])
		if err != nil || rec.Seq != 0 {
			return bad()
		}
		return storage.Notification{Ephemeral: &rec.Message}, nil
	case 'f':
		r := payloadReader{p: p[1:], ok: true}
		id := r.field()
		if !r.ok || id == "" {
			return bad()
		}
		rec, epoch, err := decodePayload(r.p)
		if err != nil || rec.Seq == 0 {
			return bad()
		}
		return storage.Notification{Record: rec, Epoch: epoch, Stream: &storage.StreamEvent{Kind: storage.StreamEnded, StreamID: id}}, nil
	}
	rec, epoch, err := decodePayload(p)
	if err != nil {
		return storage.Notification{}, err
	}
	return storage.Notification{Record: rec, Epoch: epoch}, nil
}
