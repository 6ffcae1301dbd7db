package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"
)

// Client-visible texts of error envelopes the hub sends itself.
const (
	textInternal         = "Internal error processing message"
	textStoreUnavailable = "Message could not be stored; please retry"
)

func messageTooLargeText(max int) string {
	return "Message exceeds maximum size of " + strconv.Itoa(max) + " bytes"
}

// enqueueInbound hands a decoded message to the handler worker, waiting for room in the
// bounded inbox (backpressure) or for the connection to end.
func (c *connection) enqueueInbound(m Message) error {
	select {
	case c.slots <- struct{}{}:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		<-c.slots
		return nil
	}
	c.inbox = append(c.inbox, m)
	if !c.handling {
		c.handling = true
		c.workers.Add(1)
		go c.handleLoop()
	}
	return nil
}

// handleLoop processes the inbox in order and exits when it is empty.
func (c *connection) handleLoop() {
	defer c.workers.Done()
	for {
		c.mu.Lock()
		if len(c.inbox) == 0 || c.ctx.Err() != nil {
			c.handling = false
			c.inbox = nil
			c.mu.Unlock()
			return
		}
		m := c.inbox[0]
		c.inbox[0] = Message{}
		c.inbox = c.inbox[1:]
		c.mu.Unlock()
		<-c.slots
		c.process(m)
	}
}

// process stores (in session mode) and handles one inbound message.
func (c *connection) process(m Message) {
	h := c.hub
	sid := c.info.SessionID
	if c.sess != nil && m.Type != TypeTyping {
		ctx, cancel := h.storeCtx(c.ctx)
		_, err := h.store.Append(ctx, sid, m, h.opts.MaxStoredMessages)
		cancel()
		switch {
		case errors.Is(err, ErrDuplicate):
			// A retry of a message already stored (and handled): nothing more to do.
			h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: sid, Message: &m, Err: err})
			return
		case err != nil:
			if c.ctx.Err() != nil {
				return
			}
			h.log.Warn("chatwire: store append failed", "session", sid, "conn", c.id, "err", err)
			e := WrapError(CodeStoreUnavailable, textStoreUnavailable, err)
			c.sendError(e)
			h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: sid, Message: &m, Err: e})
			return
		}
	} else if c.sess != nil {
		c.sess.broadcastEphemeral(&m)
	}
	if h.opts.Handler == nil {
		h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: sid, Message: &m})
		return
	}
	req := &Request{Message: m, SessionID: sid, ConnID: c.id, Principal: c.info.Principal, Header: c.info.Header}
	w := &ReplyWriter{c: c}
	start := time.Now()
	err := c.callHandler(req, w)
	d := time.Since(start)
	if err == nil {
		h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: sid, Message: &req.Message, Duration: d})
		return
	}
	if c.ctx.Err() != nil && errors.Is(err, c.ctx.Err()) {
		return // the connection ended while the handler ran
	}
	var e *Error
	if !errors.As(err, &e) {
		h.log.Error("chatwire: handler failed", "session", sid, "conn", c.id, "err", err)
		e = WrapError(CodeInternal, textInternal, err)
	}
	c.sendError(e)
	h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: sid, Message: &req.Message, Err: e, Duration: d})
}

// callHandler runs the handler, turning a panic into an error.
func (c *connection) callHandler(req *Request, w *ReplyWriter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.hub.log.Error("chatwire: handler panicked", "session", req.SessionID, "conn", c.id, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("chatwire: handler panic: %v", r)
		}
	}()
	return c.hub.opts.Handler.ServeChat(c.ctx, req, w)
}

// sendError sends an error envelope for e to this connection only. Only e.Code and
// e.Message reach the client.
func (c *connection) sendError(e *Error) {
	m := &Message{
		ID:        NewID(),
		Type:      TypeError,
		Role:      RoleSystem,
		Content:   e.Message,
		Metadata:  codeMetadata(e.Code, ""),
		Timestamp: NowMillis(),
	}
	c.send(m)
}

// codeMetadata returns the metadata object {"code":"<code>"} plus "reason" when set.
func codeMetadata(code, reason string) []byte {
	v := struct {
		Code   string `json:"code"`
		Reason string `json:"reason,omitempty"`
	}{code, reason}
	b, _ := json.Marshal(v) // cannot fail for two strings
	return b
}
