package core

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/internal/streamlog"
	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/storage"
)

// StreamStatus is where a streamed reply stands, carried in metadata.stream.state: running
// (StreamStateDelta) or ended one of three ways.
type StreamStatus string

// Stream statuses.
const (
	// StreamStateDelta: the reply is running; typing frames carry it.
	StreamStateDelta StreamStatus = "delta"
	// StreamStateDone: the reply ended normally; its final message is stored.
	StreamStateDone StreamStatus = "done"
	// StreamStateCancelled: a client (or an explicit stop) cancelled the reply; the text so
	// far is stored.
	StreamStateCancelled StreamStatus = "cancelled"
	// StreamStateError: the reply failed (the handler's error, STREAM_INTERRUPTED at shutdown,
	// STREAM_LOST when its producer died); metadata.stream.code says which.
	StreamStateError StreamStatus = "error"
)

// ErrStreamCancelled is the cause of a stream context cancelled by a client's cancel
// request (context.Cause(stream.Context())).
var ErrStreamCancelled = errors.New("chatwire: stream cancelled")

// ErrStreamEnded is returned by writes to a Stream that has already ended.
var ErrStreamEnded = errors.New("chatwire: stream ended")

// Stream is a streamed assistant reply in progress: text deltas now, one stored message at
// the end. Start one with ReplyWriter.Stream. Its methods are safe for concurrent use.
//
// With a Store, deltas go through the store to every connection of the session on every
// instance, a client that reconnects mid-stream gets the text so far in one frame and then
// the live deltas, and the finished stream is stored as one message (never one per delta).
// Without a Store, deltas go to the requesting connection only.
type Stream struct {
	w       *ReplyWriter
	id      string
	started int64
	cancel  context.CancelCauseFunc
	ctx     context.Context

	mu           sync.Mutex
	seq          uint64
	parts        parts.Builder // everything written so far, folded
	textPart     *TextPart     // the text part Delta appends to; nil starts a new one
	nextPart     int
	finishReason FinishReason
	log          []byte // scratch buffer for encoding chunks
	ended        bool
	renew        *time.Timer
	steer        steering // messages steered to the reply (reply_policy.go)
}

// Stream starts a streamed assistant reply. Every connection of the session is told at once
// (a first, empty delta), so clients can show progress and offer to cancel.
func (w *ReplyWriter) Stream(ctx context.Context) (*Stream, error) {
	s := &Stream{w: w, id: NewID(), started: envelope.NowMillis(), ctx: w.ctx, cancel: w.cancel}
	s.steer.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.appendLocked(ctx); err != nil {
		return nil, err
	}
	w.c.hub.registerStream(w.sid, s)
	w.streams = append(w.streams, s)
	if w.handled != nil {
		w.handled.Streams = append(w.handled.Streams, s.id)
	}
	if w.c.hub.store != nil {
		s.armRenewLocked()
		on := true
		w.c.touch(w.sid, storage.ConversationUpdate{Active: s.started, Running: &on, Event: storage.ConversationStarted})
	}
	return s, nil
}

// ID returns the stream's id, which is also the id of its final stored message.
func (s *Stream) ID() string { return s.id }

// Context returns a context that is cancelled when a client cancels the stream (cause
// ErrStreamCancelled) or the request's context ends. It is the handler's context, so a model
// call made with either stops on cancel.
func (s *Stream) Context() context.Context { return s.ctx }

// Delta appends text to the reply's current text part and delivers it; the first Delta,
// and the first after another part was written, starts a new text part. It returns
// context.Cause of the stream's context once the stream was cancelled, ErrStreamEnded after
// the end, and an *Error with code STORE_UNAVAILABLE when the store could not take the
// delta.
func (s *Stream) Delta(ctx context.Context, text string) error {
	if text == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.textPart; p != nil && s.parts.Streaming(false, p.id) {
		return s.writeLocked(ctx, parts.Chunk{Type: parts.ChunkTextDelta, ID: p.id, Delta: text})
	}
	p := &TextPart{s: s, id: s.newPartIDLocked("t")}
	if err := s.writeLocked(ctx, parts.Chunk{Type: parts.ChunkTextStart, ID: p.id}, parts.Chunk{Type: parts.ChunkTextDelta, ID: p.id, Delta: text}); err != nil {
		return err
	}
	s.textPart = p
	return nil
}

// Write implements io.Writer by appending p as one delta.
func (s *Stream) Write(p []byte) (int, error) {
	if err := s.Delta(s.ctx, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Send sends an envelope that belongs to the stream, such as a tool_call, tool_result or
// typing envelope, through the ReplyWriter. When m has no metadata it gets
// {"stream":{"id":"<stream id>"}} so clients can link it.
func (s *Stream) Send(ctx context.Context, m Message) error {
	if len(m.Metadata) == 0 {
		m.Metadata = appendStreamObject(make([]byte, 0, 64), s.id, 0, "", "", "")
	}
	return s.w.Send(ctx, m)
}

// Close ends the stream: its text is stored as one assistant message with state "done";
// "cancelled" when a client cancelled it; "error" with code STREAM_INTERRUPTED when its
// context ended otherwise (the hub's shutdown deadline passed, or, without a store, the
// connection ended). Closing an ended stream returns ErrStreamEnded.
func (s *Stream) Close(ctx context.Context) error {
	state, code := streamEndState(s.ctx, nil)
	return s.finish(ctx, state, code)
}

// streamEndState chooses the final state of a stream whose handler returned handlerErr.
func streamEndState(streamCtx context.Context, handlerErr error) (state StreamStatus, code ErrorCode) {
	cause := context.Cause(streamCtx)
	switch {
	case errors.Is(cause, ErrStreamCancelled):
		return StreamStateCancelled, ""
	case cause != nil:
		return StreamStateError, CodeStreamInterrupted
	case handlerErr != nil:
		var e *Error
		if errors.As(handlerErr, &e) {
			return StreamStateError, e.Code
		}
		return StreamStateError, CodeInternal
	}
	return StreamStateDone, ""
}

// Fail ends the stream with state "error"; the text so far is stored. err is logged, never
// sent; a *Error's code is put in the final message's metadata.
func (s *Stream) Fail(ctx context.Context, err error) error {
	code := CodeInternal
	var e *Error
	if errors.As(err, &e) {
		code = e.Code
	}
	if err != nil {
		s.w.c.hub.log.Warn("chatwire: stream failed", "session", s.w.sid, "stream", s.id, "err", err)
	}
	return s.finish(ctx, StreamStateError, code)
}

// appendLocked delivers chunks as one delta (seq+1); no chunks starts the stream. s.mu must
// be held.
func (s *Stream) appendLocked(ctx context.Context, chunks ...parts.Chunk) error {
	c := s.w.c
	h := c.hub
	seq := s.seq + 1
	s.log = s.log[:0]
	if seq == 1 && s.w.replyTo != "" {
		s.log = streamlog.AppendHead(s.log, s.w.replyTo)
	}
	s.log = streamlog.Append(s.log, chunks)
	text := string(s.log)
	if h.store == nil {
		c.deliverDelta(s.id, seq, s.started, text, s.w.replyTo, nil)
	} else {
		sctx, cancel := h.storeCtx(ctx)
		err := h.store.StreamAppend(sctx, s.w.sid, s.id, seq, text, s.started, h.opts.StreamLease)
		cancel()
		if err != nil {
			if errors.Is(err, ErrStreamNotFound) {
				s.ended = true // ended elsewhere (a watcher declared this producer lost)
				s.cancel(err)
				return err
			}
			return WrapError(CodeStoreUnavailable, "Stream could not be stored", err)
		}
	}
	s.seq = seq
	for i := range chunks {
		s.parts.Apply(&chunks[i])
	}
	return nil
}

// armRenewLocked schedules the next lease renewal. s.mu must be held.
func (s *Stream) armRenewLocked() {
	every := s.w.c.hub.opts.StreamLease / 3
	s.renew = time.AfterFunc(every, s.renewLease)
}

// renewLease refreshes the producer's lease while the stream runs, even when the model is
// silent, so watchers do not declare it lost.
func (s *Stream) renewLease() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	h := s.w.c.hub
	ctx, cancel := h.storeCtx(h.baseCtx)
	err := h.store.StreamAppend(ctx, s.w.sid, s.id, s.seq, "", s.started, h.opts.StreamLease)
	cancel()
	if errors.Is(err, ErrStreamNotFound) {
		s.ended = true
		s.cancel(err)
		return
	}
	s.armRenewLocked()
}

// finish stores (or, without a store, sends) the final message.
func (s *Stream) finish(ctx context.Context, state StreamStatus, code ErrorCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrStreamEnded
	}
	s.ended = true
	if s.renew != nil {
		s.renew.Stop()
	}
	c := s.w.c
	h := c.hub
	defer h.unregisterStream(s.w.sid, s)
	final := finalStreamMessage(s.id, s.seq, state, code, s.w.replyTo, s.finishReason, &s.parts)
	if h.store == nil {
		c.endStream(s.id)
		if !c.send(&final) {
			return ErrConnClosed
		}
		return nil
	}
	// The final message is stored even when the stream's own context was cancelled.
	sctx, cancel := h.storeCtx(context.WithoutCancel(ctx))
	defer cancel()
	_, err := h.store.StreamFinish(sctx, s.w.sid, s.id, final, h.opts.MaxStoredMessages)
	off, added := false, int64(0)
	if err == nil {
		added = 1
	}
	c.touch(s.w.sid, storage.ConversationUpdate{Active: final.Timestamp, AddMessages: added, Running: &off, Event: storage.ConversationEnded})
	if err != nil {
		if errors.Is(err, ErrStreamNotFound) {
			return err
		}
		return WrapError(CodeStoreUnavailable, "Stream could not be stored", err)
	}
	return nil
}

// endOpen finishes the streams a handler left open: cancelled when a client cancelled,
// error when the handler failed, done otherwise.
func (w *ReplyWriter) endOpen(handlerErr error) {
	for _, s := range w.streams {
		s.mu.Lock()
		ended := s.ended
		s.mu.Unlock()
		if ended {
			continue
		}
		state, code := streamEndState(s.ctx, handlerErr)
		_ = s.finish(context.Background(), state, code)
	}
}
