package core

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// ReplyPolicy says what happens to a user message that arrives while a reply of its session
// runs (Options.WhileReplying).
type ReplyPolicy string

// Reply policies.
const (
	// ReplyQueue handles the message as usual: after the connection's earlier messages
	// (today's behaviour; the default).
	ReplyQueue ReplyPolicy = "queue"
	// ReplySteer stores the message (every connection sees it, as any message) and hands
	// it to the newest running reply, wherever it runs, instead of the handler: the handler
	// reads it with Stream.Steered and folds it into its next step. The sender gets a
	// system envelope {"code":"STEERED","messageId":…,"stream":…}.
	ReplySteer ReplyPolicy = "steer"
	// ReplyInterrupt cancels the running replies (they end with state "cancelled"), waits
	// until they have ended (at most StreamLease), then handles the message as usual.
	ReplyInterrupt ReplyPolicy = "interrupt"
	// ReplyReject refuses the message: an error envelope with code REPLY_RUNNING and
	// metadata.messageId; nothing is stored or handled.
	ReplyReject ReplyPolicy = "reject"
)

// Codes of the reply policies' envelopes.
const (
	// CodeReplyRunning: a message was refused because a reply runs (ReplyReject).
	CodeReplyRunning ErrorCode = "REPLY_RUNNING"
	// CodeSteered is carried by the system envelope that confirms a message was handed to
	// the running reply (ReplySteer).
	CodeSteered ErrorCode = "STEERED"
)

// steerNoticeCode marks the ephemeral message that carries a steering message to the
// instance producing a stream. Hubs consume it; clients never see it.
const steerNoticeCode = "STEER"

// whileReplying applies the session's reply policy to a user message read from c; it
// reports whether the message was dealt with (steered or rejected) and must not be queued.
func (c *connection) whileReplying(m *Message) bool {
	h := c.hub
	if h.opts.WhileReplying == nil || c.sess == nil || m.Type != TypeMessage {
		return false
	}
	policy := h.opts.WhileReplying(c.info.SessionID)
	if policy == "" || policy == ReplyQueue {
		return false
	}
	running, err := h.RunningStreams(c.ctx, c.info.SessionID)
	if err != nil || len(running) == 0 {
		return false // nothing runs (or cannot tell): handle it as usual
	}
	switch policy {
	case ReplyReject:
		c.sendCoded(TypeError, "A reply is still running; wait for it or stop it", CodeReplyRunning, m.ID, "")
		return true
	case ReplyInterrupt:
		for _, r := range running {
			if err := h.CancelStream(c.ctx, c.info.SessionID, r.ID); err != nil {
				h.log.Warn("chatwire: interrupt could not cancel a reply", "session", c.info.SessionID, "stream", r.ID, "err", err)
			}
		}
		c.waitStreamsEnded(running)
		return false
	case ReplySteer:
		target := running[len(running)-1].ID
		ctx, cancel := h.storeCtx(c.ctx)
		defer cancel()
		if _, err := h.store.Append(ctx, c.info.SessionID, *m, h.opts.MaxStoredMessages); err != nil {
			c.sendCoded(TypeError, textStoreUnavailable, CodeStoreUnavailable, m.ID, "")
			return true
		}
		// Counted in the directory like any stored message (see process).
		c.touch(c.info.SessionID, storage.ConversationUpdate{Active: m.Timestamp, AddMessages: 1})
		if err := h.store.Publish(ctx, c.info.SessionID, steerNotice(target, m)); err != nil {
			h.log.Warn("chatwire: steering message not published", "session", c.info.SessionID, "err", err)
		}
		c.sendCoded(TypeSystem, "Message handed to the running reply", CodeSteered, m.ID, target)
		return true
	}
	return false
}

// waitStreamsEnded waits until none of the streams runs any more, at most StreamLease.
func (c *connection) waitStreamsEnded(streams []RunningStream) {
	h := c.hub
	deadline := time.Now().Add(h.opts.StreamLease)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		now, err := h.RunningStreams(c.ctx, c.info.SessionID)
		if err != nil {
			return
		}
		left := false
		for _, r := range now {
			for _, old := range streams {
				left = left || r.ID == old.ID
			}
		}
		if !left {
			return
		}
		select {
		case <-t.C:
		case <-c.ctx.Done():
			return
		}
	}
}

// sendCoded sends this connection a system or error envelope with metadata {code,
// messageId, stream}.
func (c *connection) sendCoded(typ Type, text string, code ErrorCode, messageID, stream string) {
	meta, _ := json.Marshal(struct {
		Code      ErrorCode `json:"code"`
		MessageID string    `json:"messageId,omitempty"`
		Stream    string    `json:"stream,omitempty"`
	}{code, messageID, stream})
	c.send(&Message{ID: NewID(), Type: typ, Role: RoleSystem, Content: text, Metadata: meta, Timestamp: envelope.NowMillis()})
}

// steerNotice is the ephemeral message that hands m to the stream's producer.
func steerNotice(streamID string, m *Message) Message {
	meta, _ := json.Marshal(struct {
		Code    string          `json:"code"`
		Stream  string          `json:"stream"`
		Message json.RawMessage `json:"message"`
	}{steerNoticeCode, streamID, envelope.AppendMessage(nil, m)})
	return Message{ID: "steer:" + m.ID, Type: TypeSystem, Role: RoleSystem, Metadata: meta, Timestamp: envelope.NowMillis()}
}

// steerNoticeOf parses a steer notice.
func steerNoticeOf(m *Message) (streamID string, msg Message, ok bool) {
	if m.Type != TypeSystem || len(m.Metadata) == 0 {
		return "", Message{}, false
	}
	var v struct {
		Code    string          `json:"code"`
		Stream  string          `json:"stream"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(m.Metadata, &v) != nil || v.Code != steerNoticeCode || v.Stream == "" {
		return "", Message{}, false
	}
	if envelope.Decode(v.Message, &msg) != nil {
		return "", Message{}, false
	}
	return v.Stream, msg, true
}

// steering is a stream's queue of steering messages.
type steering struct {
	mu     sync.Mutex
	queue  []Message
	signal chan struct{}
}

// maxSteering bounds the steering messages waiting for a handler to read them.
const maxSteering = 64

func (q *steering) init() { q.signal = make(chan struct{}, 1) }

func (q *steering) push(m Message) {
	q.mu.Lock()
	if len(q.queue) < maxSteering {
		q.queue = append(q.queue, m)
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// Steered returns the messages steered to this reply since the last call (oldest first;
// none: nil) and removes them. See ReplySteer. A handler calls it between steps (or when
// SteerSignal fires) and folds them into its next model call; they are in the session's
// history too.
func (s *Stream) Steered() []Message {
	q := &s.steer
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.queue
	q.queue = nil
	return out
}

// SteerSignal returns a channel that receives a value when a message was steered to this
// reply (at most one pending value; read them with Steered).
func (s *Stream) SteerSignal() <-chan struct{} { return s.steer.signal }

// deliverSteer hands m to the local stream, if this hub produces it.
func (h *Hub) deliverSteer(sessionID, streamID string, m Message) {
	h.runningMu.Lock()
	s := h.running[streamKey{sessionID, streamID}]
	h.runningMu.Unlock()
	if s != nil {
		s.steer.push(m)
	}
}
