package aisdk

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// frame is the part of a hub frame the SSE loop reads.
type frame struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Role     string          `json:"role"`
	Content  string          `json:"content"`
	Metadata json.RawMessage `json:"metadata"`
}

// streamMeta is the part of a stream frame's metadata the loop reads.
type streamMeta struct {
	Stream *struct {
		ID      string            `json:"id"`
		Seq     uint64            `json:"seq"`
		State   core.StreamStatus `json:"state"`
		Resume  bool              `json:"resume"`
		ReplyTo string            `json:"replyTo"`
		Chunks  []parts.Chunk     `json:"chunks"`
	} `json:"stream"`
	Code            string          `json:"code"`
	Parts           []parts.Part    `json:"parts"`
	MessageMetadata json.RawMessage `json:"messageMetadata"`
}

// progress is what the client has received of one stream of the reply.
type progress struct {
	index int // the stream's position in the reply; ids of later streams get a prefix
	seq   uint64
	sent  parts.Builder
	state core.StreamStatus // final state once ended, else ""
	code  string
}

// reply turns the hub frames of one request into the UI message stream of one assistant
// message: the streams answering the request's user message (POST), or one running stream
// (resume).
type reply struct {
	sse     *sseWriter
	replyTo string // POST: the user message's id
	target  string // resume: the stream's id
	handled <-chan adapterkit.HandledEvent

	started  bool
	streams  map[string]*progress
	event    *adapterkit.HandledEvent
	errText  string
	finished bool
	// answered: a continuation after tool approval responses (approval.go): the ids the
	// request answered. approvals: every approval of the reply, true once answered.
	answered  map[string]bool
	approvals map[string]bool
}

// errorText is what the client is told when the reply failed: the code only, never
// internal details.
func errorText(code string) string {
	if code == "" {
		code = string(core.CodeInternal)
	}
	return "The reply failed (" + code + ")"
}

// start writes the start chunk once the message id is known.
func (r *reply) start(id string) {
	if r.started {
		return
	}
	r.started = true
	r.sse.chunk(&parts.Chunk{Type: parts.ChunkStart, MessageID: id})
}

// ours returns the progress of the stream sm belongs to, registering it when it answers
// the request, or nil when the stream is not part of the reply.
func (r *reply) ours(id, replyTo string) *progress {
	if p := r.streams[id]; p != nil {
		return p
	}
	switch {
	case r.target != "" && id == r.target:
	case r.replyTo != "" && replyTo == r.replyTo:
	default:
		return nil
	}
	if r.streams == nil {
		r.streams = make(map[string]*progress)
	}
	p := &progress{index: len(r.streams)}
	r.streams[id] = p
	r.start(id)
	return p
}

// rename gives the part ids of the reply's second and later streams a prefix, so the parts
// of two streams merged into one message never share an id.
func (p *progress) rename(c *parts.Chunk) {
	if p.index == 0 || c.ID == "" || c.IsData() {
		return
	}
	c.ID = "s" + strconv.Itoa(p.index) + "-" + c.ID
}

// onFrame handles one hub frame. A nil frame is a heartbeat.
func (r *reply) onFrame(data []byte) {
	if data == nil {
		r.sse.comment()
		return
	}
	var f frame
	if json.Unmarshal(data, &f) != nil {
		return
	}
	switch f.Type {
	case "typing":
		var m streamMeta
		if len(f.Metadata) == 0 || json.Unmarshal(f.Metadata, &m) != nil || m.Stream == nil {
			return
		}
		p := r.ours(m.Stream.ID, m.Stream.ReplyTo)
		if p == nil || p.state != "" || m.Stream.Seq <= p.seq {
			return
		}
		p.seq = m.Stream.Seq
		if m.Stream.Resume {
			var b parts.Builder
			for i := range m.Stream.Chunks {
				b.Apply(&m.Stream.Chunks[i])
			}
			r.noteParts(b.Parts())
			if r.answered != nil && p.sent.Len() == 0 {
				// The client has the message up to its approval requests: send only the rest.
				p.sent = *parts.NewBuilder(clientHas(b.Parts(), r.answered), nil)
			}
			r.emit(p, catchUp(&p.sent, b.Parts(), b.MessageMetadata()), false)
			return
		}
		r.noteChunks(m.Stream.Chunks)
		r.emit(p, m.Stream.Chunks, true)
	case "message":
		p := r.streams[f.ID]
		if p == nil || p.state != "" {
			return
		}
		var m streamMeta
		if json.Unmarshal(f.Metadata, &m) != nil || m.Stream == nil {
			return
		}
		r.emit(p, catchUp(&p.sent, m.Parts, m.MessageMetadata), false)
		p.state, p.code = m.Stream.State, m.Code
		if p.state == "" {
			p.state = core.StreamStateDone
		}
	case "error":
		if r.replyTo == "" || len(r.streams) > 0 {
			return // a stream's failure arrives with its final message
		}
		var m streamMeta
		_ = json.Unmarshal(f.Metadata, &m)
		r.errText = errorText(m.Code)
	}
}

// emit writes chunks of stream p; apply says whether they still have to be applied to
// p.sent (catchUp applies its own).
func (r *reply) emit(p *progress, chunks []parts.Chunk, apply bool) {
	for i := range chunks {
		c := chunks[i]
		if apply {
			p.sent.Apply(&c)
		}
		if c.Type == parts.ChunkToolApprovalResponse {
			continue // chatwire's own chunk: no AI SDK client knows it
		}
		p.rename(&c)
		r.sse.chunk(&c)
	}
}

// onHandled records the end of the handler's work for the request's message; plain
// assistant messages it sent become text parts of the reply.
func (r *reply) onHandled(ev adapterkit.HandledEvent) {
	r.event = &ev
	for _, m := range ev.Replies {
		if m.Type != core.TypeMessage || m.Role != core.RoleAssistant {
			continue
		}
		r.start(m.ID)
		id := "m" + strconv.Itoa(len(r.streams)) + "-" + m.ID
		r.sse.chunk(&parts.Chunk{Type: parts.ChunkTextStart, ID: id})
		if m.Content != "" {
			r.sse.chunk(&parts.Chunk{Type: parts.ChunkTextDelta, ID: id, Delta: m.Content})
		}
		r.sse.chunk(&parts.Chunk{Type: parts.ChunkTextEnd, ID: id})
	}
	for _, id := range ev.Streams {
		r.ours(id, r.replyTo)
	}
	if ev.ErrCode != "" && len(ev.Streams) == 0 {
		r.errText = errorText(ev.ErrCode)
	}
}

// complete reports whether the reply is over: the handler returned (POST) or the target
// ended (resume), and every stream of the reply ended.
func (r *reply) complete() bool {
	if r.awaiting() {
		return true // the message goes on in the client's next request (approval.go)
	}
	if r.replyTo != "" && r.event == nil && r.errText == "" {
		return false
	}
	for _, p := range r.streams {
		if p.state == "" {
			return false
		}
	}
	return r.replyTo != "" || len(r.streams) > 0
}

// finish writes the end of the stream: error or abort when the reply did not end well,
// then finish and [DONE].
func (r *reply) finish() {
	if r.finished {
		return
	}
	r.finished = true
	r.start("")
	errText := r.errText
	aborted := false
	for _, p := range r.streams {
		switch p.state {
		case core.StreamStateCancelled:
			aborted = true
		case core.StreamStateError:
			errText = errorText(p.code)
		}
	}
	switch {
	case errText != "":
		r.sse.chunk(&parts.Chunk{Type: parts.ChunkError, ErrorText: errText})
	case aborted:
		r.sse.chunk(&parts.Chunk{Type: parts.ChunkAbort})
	}
	r.sse.chunk(&parts.Chunk{Type: parts.ChunkFinish})
	r.sse.done()
}

// run writes the reply until it is complete, the client goes away (a write fails or ctx
// ends) or the hub ends the request's connection. It returns the write error, if any.
func (r *reply) run(ctx context.Context, frames <-chan []byte, closed <-chan struct{}) error {
	for {
		if r.complete() {
			r.finish()
			return r.sse.send()
		}
		if err := r.sse.send(); err != nil {
			return err
		}
		select {
		case data := <-frames:
			r.onFrame(data)
		case ev := <-r.handled:
			r.onHandled(ev)
		case <-closed:
			// The hub ended the connection (shutdown, slow reader): the reply goes on
			// elsewhere; the client may resume.
			return r.sse.send()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
