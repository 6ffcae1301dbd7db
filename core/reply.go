package core

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/internal/hubport"
	"github.com/chatwire/chatwire/storage"
)

// ReplyWriter sends a handler's replies. With a Store, each reply is appended to the
// session's history and delivered to every connection of the session; without one it is
// sent to the connection the request came from. A ReplyWriter is valid only during the
// ServeChat call it was passed to, and is not safe for concurrent use.
type ReplyWriter struct {
	c       *connection
	sid     string          // the session of the request (the connection may switch meanwhile)
	ctx     context.Context // the request context; streams cancel it
	cancel  context.CancelCauseFunc
	streams []*Stream // streams started by this request, ended when the handler returns
	replyTo string    // the id of the message being handled
	handled *hubport.HandledEvent
}

// Send completes m and sends it: an empty ID gets a new one, an empty Type becomes
// TypeMessage, an empty Role becomes RoleAssistant and a zero Timestamp the current time.
// Typing envelopes are delivered but never stored. Metadata, when set, must be a JSON
// object.
//
// It returns ErrConnClosed when the connection has ended (stateless mode), an *Error with
// code STORE_UNAVAILABLE when the store could not record the reply, and an error wrapping
// storage.ErrDuplicate when the session already holds a message with m's ID.
func (w *ReplyWriter) Send(ctx context.Context, m Message) error {
	if m.ID == "" {
		m.ID = NewID()
	}
	if m.Type == "" {
		m.Type = TypeMessage
	}
	if m.Role == "" {
		m.Role = RoleAssistant
	}
	if m.Timestamp == 0 {
		m.Timestamp = envelope.NowMillis()
	}
	if !m.Type.Valid() {
		return errors.New("chatwire: reply has invalid type " + string(m.Type))
	}
	if len(m.Metadata) > 0 && !isJSONObject(m.Metadata) {
		return errors.New("chatwire: reply metadata is not a JSON object")
	}
	c := w.c
	if w.handled != nil && m.Type != TypeTyping {
		w.handled.Replies = append(w.handled.Replies, m)
	}
	if c.hub.store == nil {
		if !c.sendDirect(&m) {
			return ErrConnClosed
		}
		return nil
	}
	h := c.hub
	if m.Type == TypeTyping {
		sctx, cancel := h.storeCtx(ctx)
		defer cancel()
		if err := h.store.Publish(sctx, w.sid, m); err != nil {
			return WrapError(CodeStoreUnavailable, "Typing indicator could not be published", err)
		}
		return nil
	}
	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	rec, err := h.store.Append(sctx, w.sid, m, h.opts.MaxStoredMessages)
	if err == nil && !h.storeLocal {
		c.awaitReply(w.sid, rec.Seq)
	}
	if err != nil {
		if errors.Is(err, storage.ErrDuplicate) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return WrapError(CodeStoreUnavailable, "Reply could not be stored", err)
	}
	c.touch(w.sid, storage.ConversationUpdate{Active: m.Timestamp, AddMessages: 1})
	return nil
}

// SessionID returns the session the replies go to.
func (w *ReplyWriter) SessionID() string { return w.sid }

func isJSONObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return json.Valid(b)
		}
		return false
	}
	return false
}
