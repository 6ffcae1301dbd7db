package core

import (
	"errors"
	"time"

	"github.com/chatwire/chatwire/envelope"
)

// deltaPart is a text delta waiting in a connection's queue. Consecutive deltas of one
// stream merge into one part while the connection is behind (slow-client coalescing).
type deltaPart struct {
	stream  string
	seq     uint64 // last delta included
	started int64
	text    []byte
	resume  bool // a compacted frame: text is everything so far
}

// deltaMessage is the envelope of a delta frame: a typing envelope (clients that do not
// know streams show "assistant is typing") whose metadata carries the stream state.
func deltaMessage(p *deltaPart) *Message {
	meta := streamMetadata(p.stream, p.seq, StreamStateDelta)
	if p.resume {
		meta = append(meta[:len(meta)-2], `,"resume":true}}`...)
	}
	id := p.stream + ":" + uitoa(p.seq)
	if p.resume {
		id += ":resume"
	}
	return &Message{ID: id, Type: TypeTyping, Role: RoleAssistant, Content: string(p.text), Metadata: meta, Timestamp: p.started}
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
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
}

func (d delta) part() *deltaPart {
	return &deltaPart{stream: d.stream, seq: d.seq, started: d.started, text: []byte(d.text), resume: d.resume}
}

func (p *deltaPart) value() delta {
	return delta{stream: p.stream, seq: p.seq, started: p.started, text: string(p.text), resume: p.resume}
}

// deliverDelta queues a delta for this connection unless it already has it, merging it into
// a queued delta of the same stream when the connection is behind.
func (c *connection) deliverDelta(stream string, seq uint64, started int64, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := delta{stream: stream, seq: seq, started: started, text: text}
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
				last.seq, last.resume = d.seq, true
				return
			case !d.resume && last.seq+1 == d.seq:
				last.text = append(last.text, d.text...)
				last.seq = d.seq
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
			q.delta.seq = d.seq
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
	deadline time.Time
}

// onStreamEventLocked handles a stream event from the store. s.mu must be held.
func (s *session) onStreamEventLocked(n Notification) {
	ev := n.Stream
	switch ev.Kind {
	case StreamCancelled:
		s.hub.cancelLocalStream(s.id, ev.StreamID)
	case StreamDelta:
		w := s.streams[ev.StreamID]
		switch {
		case w == nil && ev.Seq == 1:
			w = &streamWatch{started: ev.Started}
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
		for c := range s.conns {
			c.deliverDelta(ev.StreamID, ev.Seq, ev.Started, ev.Delta)
		}
	case StreamEnded:
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
	states, err := h.streams.StreamSnapshot(ctx, s.id)
	cancel()
	if err != nil {
		return err
	}
	running := make(map[string]bool, len(states))
	var expired []StreamState
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
			w = &streamWatch{started: st.Started}
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
		final := Message{
			ID: st.ID, Type: TypeMessage, Role: RoleAssistant, Content: st.Content,
			Metadata:  finalStreamMetadata(st.ID, st.Seq, StreamStateError, CodeStreamLost),
			Timestamp: envelope.NowMillis(),
		}
		ctx, cancel := h.storeCtx(h.baseCtx)
		_, err := h.streams.StreamFinish(ctx, s.id, st.ID, final, h.opts.MaxStoredMessages)
		cancel()
		if err != nil && !errors.Is(err, ErrStreamNotFound) {
			return err
		}
	}
	return nil
}

// deliverResume queues a compacted frame with everything the stream has so far, unless the
// connection already has it.
func (c *connection) deliverResume(st StreamState) {
	d := delta{stream: st.ID, seq: st.Seq, started: st.Started, text: st.Content, resume: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replaying {
		c.holdDeltaLocked(d)
		return
	}
	c.queueDeltaLocked(d)
}
