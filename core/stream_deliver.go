package core

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/chatwire/chatwire/internal/streamlog"
	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/storage"
)

// deltaPart is a delta waiting in a connection's queue: the chunk log of one or more
// consecutive deltas of a stream. Consecutive deltas of one stream merge into one part
// while the connection is behind (slow-client coalescing); the frame is built when it is
// written, merging the deltas of each stream part (deltaMessage).
type deltaPart struct {
	stream  string
	seq     uint64 // last delta included
	started int64
	text    []byte // chunk log
	resume  bool   // a compacted frame: text is the log of everything so far
	replyTo string // the id of the message the stream answers ("" when unknown)
	// shared, while the part holds exactly one delta as the session fanned it out, builds
	// its frame once for every connection that writes it; a merge clears it.
	shared *sharedDelta
}

// sharedDelta is the frame of one delta, built once for all the connections it fans out
// to (the frame's data is never modified once built).
type sharedDelta struct {
	once sync.Once
	f    outFrame
}

// frame returns the part's frame, built by the first connection that writes it.
func (p *deltaPart) frame() outFrame {
	if sd := p.shared; sd != nil {
		sd.once.Do(func() { sd.f = frameOf(deltaMessage(p)) })
		return sd.f
	}
	return frameOf(deltaMessage(p))
}

// deltaMessage is the envelope of a delta frame: a typing envelope (clients that do not
// know streams show "assistant is typing") whose content is the text the frame adds to the
// message's text parts (on resume: the whole text so far) and whose metadata carries the
// stream state and the frame's chunks (on resume: the compacted chunks of every part).
func deltaMessage(p *deltaPart) *Message {
	var chunks []parts.Chunk
	var content string
	if p.resume {
		b := streamlog.Fold(string(p.text))
		chunks = b.Compact(nil)
		content = b.Text()
	} else {
		chunks, content = coalesceChunkLog(string(p.text))
	}
	replyTo := p.replyTo
	if p.resume {
		replyTo = streamlog.ReplyTo(string(p.text))
	}
	meta := appendStreamObject(make([]byte, 0, 128+len(p.text)), p.stream, p.seq, StreamStateDelta, replyTo, "")
	meta = meta[:len(meta)-2]
	if p.resume {
		meta = append(meta, `,"resume":true`...)
	}
	if len(chunks) > 0 {
		meta = append(meta, `,"chunks":[`...)
		for i := range chunks {
			if i > 0 {
				meta = append(meta, ',')
			}
			meta = parts.AppendChunk(meta, &chunks[i])
		}
		meta = append(meta, ']')
	}
	meta = append(meta, "}}"...)
	id := p.stream + ":" + strconv.FormatUint(p.seq, 10)
	if p.resume {
		id += ":resume"
	}
	return &Message{ID: id, Type: TypeTyping, Role: RoleAssistant, Content: content, Metadata: meta, Timestamp: p.started}
}

// coalesceChunkLog decodes a run of deltas and merges the deltas of each part (text,
// reasoning, tool input) into one chunk at the place of the part's first delta in the run;
// a chunk of the part that is not a delta (its end, its input becoming available) keeps
// later deltas after it. It returns the chunks and the text they add to text parts.
func coalesceChunkLog(log string) ([]parts.Chunk, string) {
	var out []parts.Chunk
	type partKey struct {
		kind byte // 't' text, 'r' reasoning, 'c' tool input
		id   string
	}
	var open map[partKey]int  // part -> index in out of its mergeable delta
	var merged map[int][]byte // index in out -> the merged delta text, when more than one
	var text []byte
	textOnly := ""
	streamlog.Read(log, func(c *parts.Chunk) {
		var key partKey
		switch c.Type {
		case parts.ChunkTextDelta, parts.ChunkReasoningDelta:
			key = partKey{c.Type[0], c.ID}
		case parts.ChunkToolInputDelta:
			key = partKey{'c', c.ToolCallID}
		}
		if c.Type == parts.ChunkTextDelta {
			if text == nil && textOnly == "" {
				textOnly = c.Delta
			} else {
				if text == nil {
					text = append(make([]byte, 0, 2*len(log)/3), textOnly...)
				}
				text = append(text, c.Delta...)
			}
		}
		if key.kind != 0 {
			if i, ok := open[key]; ok {
				if merged == nil {
					merged = make(map[int][]byte)
				}
				b, ok := merged[i]
				if !ok {
					b = append(b, out[i].Delta...)
					b = append(b, out[i].InputTextDelta...)
				}
				if c.Type == parts.ChunkToolInputDelta {
					merged[i] = append(b, c.InputTextDelta...)
				} else {
					merged[i] = append(b, c.Delta...)
				}
				return
			}
			if open == nil {
				open = make(map[partKey]int)
			}
			open[key] = len(out)
		} else {
			switch {
			case c.ID != "" && !c.IsData():
				delete(open, partKey{c.Type[0], c.ID})
			case c.ToolCallID != "":
				delete(open, partKey{'c', c.ToolCallID})
			}
		}
		out = append(out, *c)
	})
	for i, b := range merged {
		if out[i].Type == parts.ChunkToolInputDelta {
			out[i].InputTextDelta = string(b)
		} else {
			out[i].Delta = string(b)
		}
	}
	if text == nil {
		return out, textOnly
	}
	return out, string(text)
}

// delta is a delta (or, with resume, a stream's whole text so far) on its way to a
// connection. It is passed by value: a part is allocated only when it cannot merge into one
// already queued, which is the common case for a connection that is behind.
type delta struct {
	stream  string
	seq     uint64
	started int64
	text    string
	resume  bool
	replyTo string
	shared  *sharedDelta
}

func (d delta) part() *deltaPart {
	return &deltaPart{stream: d.stream, seq: d.seq, started: d.started, text: []byte(d.text), resume: d.resume, replyTo: d.replyTo, shared: d.shared}
}

func (p *deltaPart) value() delta {
	return delta{stream: p.stream, seq: p.seq, started: p.started, text: string(p.text), resume: p.resume, replyTo: p.replyTo, shared: p.shared}
}

// deliverDelta queues a delta for this connection unless it already has it, merging it into
// a queued delta of the same stream when the connection is behind.
func (c *connection) deliverDelta(stream string, seq uint64, started int64, text, replyTo string, shared *sharedDelta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := delta{stream: stream, seq: seq, started: started, text: text, replyTo: replyTo, shared: shared}
	if c.replaying {
		c.holdDeltaLocked(d)
		return
	}
	c.queueDeltaLocked(d)
}

// holdDeltaLocked keeps a delta that arrived during the connection's replay, merged into the
// previous held part of its stream when possible, so held parts stay few: a delta that
// follows it is appended; a resume part (the whole text so far) at or after it replaces it.
func (c *connection) holdDeltaLocked(d delta) {
	if n := len(c.pending); n > 0 {
		if last := c.pending[n-1].delta; last != nil && last.stream == d.stream {
			switch {
			case d.resume && d.seq >= last.seq:
				last.text = append(last.text[:0], d.text...)
				last.seq, last.resume, last.shared = d.seq, true, nil
				return
			case !d.resume && last.seq+1 == d.seq:
				last.text = append(last.text, d.text...)
				last.seq, last.shared = d.seq, nil
				return
			}
		}
	}
	c.pending = append(c.pending, pendingFrame{seq: d.seq, delta: d.part()})
}

func (c *connection) queueDeltaLocked(d delta) {
	if c.streamSeq == nil {
		c.streamSeq = make(map[string]uint64)
	}
	have := c.streamSeq[d.stream]
	if d.seq <= have {
		return
	}
	if !d.resume && d.seq != have+1 {
		// A gap (or a stream met mid-way): ask the session for a snapshot, which arrives
		// as a resume frame. Session-mode callers hold the session's lock.
		if c.sess != nil {
			c.sess.needStreams = true
			c.sess.startFetchLocked()
		}
		return
	}
	c.streamSeq[d.stream] = d.seq
	// Merge into the newest queued part of this stream unless a frame that belongs to the
	// stream's story (any envelope other than a heartbeat or another stream's delta) came
	// after it.
	for i := len(c.queue) - 1; i >= 0; i-- {
		q := &c.queue[i]
		if q.delta != nil && q.delta.stream == d.stream {
			if d.resume {
				q.delta.text = append(q.delta.text[:0], d.text...)
				q.delta.resume = true
			} else {
				q.delta.text = append(q.delta.text, d.text...)
			}
			q.delta.seq, q.delta.shared = d.seq, nil
			return
		}
		if q.delta == nil && q.msg != nil {
			break
		}
	}
	c.enqueueLocked(outFrame{delta: d.part()}, false)
}

// endStream forgets a finished stream's delta position.
func (c *connection) endStream(stream string) {
	c.mu.Lock()
	delete(c.streamSeq, stream)
	c.mu.Unlock()
}

// streamWatch is the session's view of a running stream: the last delta delivered and when
// its producer must have shown life again.
type streamWatch struct {
	seq      uint64
	started  int64
	replyTo  string
	deadline time.Time
}

// onStreamEventLocked handles a stream event from the store. s.mu must be held.
func (s *session) onStreamEventLocked(n storage.Notification) {
	ev := n.Stream
	switch ev.Kind {
	case storage.StreamCancelled:
		s.hub.cancelLocalStream(s.id, ev.StreamID)
	case storage.StreamDelta:
		w := s.streams[ev.StreamID]
		switch {
		case w == nil && ev.Seq == 1:
			w = &streamWatch{started: ev.Started, replyTo: streamlog.ReplyTo(ev.Delta)}
			s.streams[ev.StreamID] = w
		case w == nil || ev.Seq > w.seq+1:
			s.needStreams = true // joined mid-stream or lost a delta: read a snapshot
			s.startFetchLocked()
			return
		case ev.Seq <= w.seq:
			return
		}
		w.seq = ev.Seq
		w.deadline = time.Now().Add(s.hub.opts.StreamLease)
		s.armWatchLocked()
		shared := &sharedDelta{}
		for c := range s.conns {
			c.deliverDelta(ev.StreamID, ev.Seq, ev.Started, ev.Delta, w.replyTo, shared)
		}
	case storage.StreamEnded:
		delete(s.streams, ev.StreamID)
		for c := range s.conns {
			c.endStream(ev.StreamID)
		}
	}
}

// armWatchLocked sets the watchdog to the earliest producer deadline.
func (s *session) armWatchLocked() {
	var next time.Time
	for _, w := range s.streams {
		if next.IsZero() || w.deadline.Before(next) {
			next = w.deadline
		}
	}
	if next.IsZero() {
		return
	}
	d := time.Until(next) + 10*time.Millisecond
	if s.watch == nil {
		s.watch = time.AfterFunc(d, s.watchFired)
	} else {
		s.watch.Reset(d)
	}
}

func (s *session) watchFired() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.streams) == 0 {
		return
	}
	s.needStreams = true
	s.startFetchLocked()
}

// syncStreams reads the running streams from the store: it sends a compacted frame to
// connections that are behind, forgets streams that ended, and ends (with state error) the
// streams whose producer lost its lease. Called by the fetcher goroutine.
func (s *session) syncStreams() error {
	h := s.hub
	ctx, cancel := h.storeCtx(h.baseCtx)
	states, err := h.store.StreamSnapshot(ctx, s.id)
	cancel()
	if err != nil {
		return err
	}
	running := make(map[string]bool, len(states))
	var expired []storage.StreamState
	s.mu.Lock()
	now := time.Now()
	for _, st := range states {
		running[st.ID] = true
		if st.Expired {
			expired = append(expired, st)
			continue
		}
		w := s.streams[st.ID]
		if w == nil {
			w = &streamWatch{started: st.Started, replyTo: streamlog.ReplyTo(st.Content)}
			s.streams[st.ID] = w
		}
		w.deadline = now.Add(h.opts.StreamLease)
		if st.Seq > w.seq {
			w.seq = st.Seq
			for c := range s.conns {
				c.deliverResume(st)
			}
		}
	}
	for id := range s.streams {
		if !running[id] {
			delete(s.streams, id)
		}
	}
	s.armWatchLocked()
	s.mu.Unlock()

	for _, st := range expired {
		h.log.Warn("chatwire: stream producer lost; ending stream", "session", s.id, "stream", st.ID)
		final := finalStreamMessage(st.ID, st.Seq, StreamStateError, CodeStreamLost, streamlog.ReplyTo(st.Content), "", streamlog.Fold(st.Content))
		ctx, cancel := h.storeCtx(h.baseCtx)
		_, err := h.store.StreamFinish(ctx, s.id, st.ID, final, h.opts.MaxStoredMessages)
		cancel()
		if err != nil && !errors.Is(err, ErrStreamNotFound) {
			return err
		}
	}
	return nil
}

// deliverResume queues a compacted frame with everything the stream has so far, unless the
// connection already has it.
func (c *connection) deliverResume(st storage.StreamState) {
	d := delta{stream: st.ID, seq: st.Seq, started: st.Started, text: st.Content, resume: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replaying {
		c.holdDeltaLocked(d)
		return
	}
	c.queueDeltaLocked(d)
}
