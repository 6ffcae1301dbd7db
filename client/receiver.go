package client

import (
	"encoding/json"
	"strings"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// envelopeMeta is the part of an envelope's metadata the client interprets.
type envelopeMeta struct {
	Code            string          `json:"code"`
	Epoch           string          `json:"epoch"`
	Stream          *streamMeta     `json:"stream"`
	Parts           []parts.Part    `json:"parts"`
	MessageMetadata json.RawMessage `json:"messageMetadata"`
}

// streamMeta is metadata.stream (PROTOCOL.md, "Streamed replies").
type streamMeta struct {
	ID           string            `json:"id"`
	Seq          uint64            `json:"seq"`
	State        core.StreamStatus `json:"state"`
	Resume       bool              `json:"resume"`
	ReplyTo      string            `json:"replyTo"`
	FinishReason core.FinishReason `json:"finishReason"`
	Chunks       []parts.Chunk     `json:"chunks"`
}

func parseMeta(raw json.RawMessage) envelopeMeta {
	var m envelopeMeta
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m) // metadata that is not an object is not ours to read
	}
	return m
}

// assembly is a running stream.
type assembly struct {
	text    strings.Builder // strings returned by String stay valid while it only grows
	parts   parts.Builder
	seq     uint64
	role    core.Role
	started int64
	replyTo string
}

// receiver turns decoded envelopes into events: it drops duplicates by id, assembles
// streams and tracks the last stored message. It is owned by one goroutine at a time.
type receiver struct {
	seen    map[string]struct{}
	ring    []string // the remembered ids, oldest first from next
	next    int
	streams map[string]*assembly
}

func newReceiver(window int) *receiver {
	return &receiver{
		seen:    make(map[string]struct{}, min(window, 1024)),
		ring:    make([]string, 0, min(window, 1024)),
		streams: make(map[string]*assembly),
	}
}

func (r *receiver) isSeen(id string) bool {
	_, ok := r.seen[id]
	return ok
}

// remember adds id to the dedupe window, forgetting the oldest id when it is full.
func (r *receiver) remember(id string, window int) {
	if id == "" || r.isSeen(id) {
		return
	}
	r.seen[id] = struct{}{}
	if len(r.ring) < window {
		r.ring = append(r.ring, id)
		return
	}
	delete(r.seen, r.ring[r.next])
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
}

// handle turns one envelope into at most one event (ok false: nothing to report, e.g. a
// duplicate). stored reports that m is a stored message, whose id may be used as
// lastMessageId.
func (r *receiver) handle(m core.Message, window int) (ev Event, ok, stored bool) {
	meta := parseMeta(m.Metadata)
	sm := meta.Stream
	if sm != nil && sm.ID == "" {
		sm = nil
	}
	switch {
	case m.Type == core.TypeTyping && sm != nil && sm.State == core.StreamStateDelta:
		return r.delta(m, sm)
	case m.ID != "" && r.isSeen(m.ID):
		return Event{}, false, false // a duplicate (say, replayed after a reconnect)
	case m.Type == core.TypeError:
		return Event{Kind: EventError, Message: m, Err: &ServerError{Code: meta.Code, Message: m.Content}}, true, false
	case m.Type == core.TypeTyping:
		return Event{Kind: EventMessage, Message: m}, true, false // not stored, never replayed
	case m.Type == core.TypeSystem && core.ErrorCode(meta.Code) == core.CodeHistoryReset:
		// Everything seen belongs to a history that is gone: what follows is new, even
		// where its ids repeat, and running streams are announced again.
		clear(r.seen)
		r.ring, r.next = r.ring[:0], 0
		clear(r.streams)
		r.remember(m.ID, window)
		return Event{Kind: EventHistoryReset, Message: m}, true, false
	case m.Type == core.TypeSystem && core.ErrorCode(meta.Code) == core.CodeReplayGap:
		r.remember(m.ID, window)
		return Event{Kind: EventReplayGap, Message: m}, true, false
	case m.Type == core.TypeMessage && sm != nil && isFinalState(sm.State):
		r.remember(m.ID, window)
		r.remember(sm.ID, window)
		return Event{Kind: EventStreamEnd, Message: m, Stream: r.end(m, sm, meta)}, true, m.ID != ""
	}
	r.remember(m.ID, window)
	ev = Event{Kind: EventMessage, Message: m}
	if sm != nil {
		ev.StreamID = sm.ID
	}
	return ev, true, m.ID != ""
}

// delta applies a delta or resume frame.
func (r *receiver) delta(m core.Message, sm *streamMeta) (Event, bool, bool) {
	if r.isSeen(sm.ID) {
		return Event{}, false, false // the stream has ended: its final message was seen
	}
	a := r.streams[sm.ID]
	if a == nil {
		a = &assembly{role: m.Role, started: m.Timestamp}
		r.streams[sm.ID] = a
	} else if sm.Seq < a.seq || (sm.Seq == a.seq && !sm.Resume) {
		return Event{}, false, false // already applied
	}
	if sm.ReplyTo != "" {
		a.replyTo = sm.ReplyTo
	}
	s := Stream{ID: sm.ID, Role: a.role, Seq: sm.Seq, State: core.StreamStateDelta, Started: a.started, ReplyTo: a.replyTo, Chunks: sm.Chunks}
	if sm.Resume {
		if sm.Seq == a.seq && a.text.String() == m.Content {
			return Event{}, false, false // nothing new
		}
		a.text = strings.Builder{}
		a.text.WriteString(m.Content)
		a.parts = parts.Builder{}
		s.Replaced = true
	} else {
		a.text.WriteString(m.Content)
		s.Delta = m.Content
	}
	for i := range sm.Chunks {
		a.parts.Apply(&sm.Chunks[i])
	}
	a.seq = sm.Seq
	s.Text = a.text.String()
	s.Parts = a.parts.Parts()
	s.MessageMetadata = a.parts.MessageMetadata()
	return Event{Kind: EventStream, Stream: s}, true, false
}

// end finishes a stream with its final message.
func (r *receiver) end(m core.Message, sm *streamMeta, meta envelopeMeta) Stream {
	s := Stream{ID: sm.ID, Role: m.Role, Text: m.Content, Seq: sm.Seq, State: sm.State,
		ReplyTo: sm.ReplyTo, FinishReason: sm.FinishReason, Parts: meta.Parts, MessageMetadata: meta.MessageMetadata}
	if sm.State == core.StreamStateError {
		s.Code = meta.Code
	}
	a := r.streams[sm.ID]
	delete(r.streams, sm.ID)
	if a == nil {
		s.Replaced = true
		return s
	}
	s.Role, s.Started = a.role, a.started
	if prev := a.text.String(); strings.HasPrefix(m.Content, prev) {
		s.Delta = m.Content[len(prev):]
	} else {
		s.Replaced = true
	}
	return s
}

func isFinalState(state core.StreamStatus) bool {
	switch state {
	case core.StreamStateDone, core.StreamStateCancelled, core.StreamStateError:
		return true
	}
	return false
}
