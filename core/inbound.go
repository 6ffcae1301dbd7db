package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/chatwire/chatwire/internal/hubport"
	"github.com/chatwire/chatwire/storage"
)

// Client-visible texts of error envelopes the hub sends itself.
const (
	textInternal         = "Internal error processing message"
	textStoreUnavailable = "Message could not be stored; please retry"
)

func messageTooLargeText(max int) string {
	return "Message exceeds maximum size of " + strconv.Itoa(max) + " bytes"
}

// inboundMsg is a decoded message waiting for the handler, with the session it was sent to
// (a conversation switch may change the connection's session before it is processed).
type inboundMsg struct {
	m   Message
	sid string
}

// enqueueInbound hands a decoded message to the handler worker, waiting for room in the
// bounded inbox (backpressure) or for the connection to end.
func (c *connection) enqueueInbound(m Message, sid string) error {
	select {
	case c.slots <- struct{}{}: // the common case, without a two-case select
	default:
		select {
		case c.slots <- struct{}{}:
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		<-c.slots
		return nil
	}
	c.inbox = append(c.inbox, inboundMsg{m: m, sid: sid})
	if c.handling {
		select {
		case c.hwake <- struct{}{}:
		default:
		}
		return nil
	}
	c.handling = true
	if c.hwake == nil {
		c.hwake = make(chan struct{}, 1)
	}
	c.hub.wg.Add(1) // the hub owns handler runs: in session mode they may outlive the connection
	go c.handleLoop()
	return nil
}

// handleLoop processes the inbox in order. It ends when the connection ends, or after
// writerLinger with an empty inbox, so a connection that talks steadily starts no goroutine
// per message and an idle one keeps none.
//
// An idle worker waits on c.hwake alone: its linger timer is a time.AfterFunc that sets
// fired and sends on c.hwake, armed once per period. (Waiting on the timer's channel too
// would put the timer into the runtime's heap and take it out again on every wait, that is
// once per message of a connection that talks steadily.)
func (c *connection) handleLoop() {
	defer c.hub.wg.Done()
	var linger *time.Timer // armed once; re-armed only when it fires
	var fired atomic.Bool  // set by linger; a wake-up from it, not from work
	active := false
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	for {
		c.mu.Lock()
		if c.ctx.Err() != nil {
			c.handling = false
			c.inbox = nil
			c.mu.Unlock()
			c.releaseRequestBase()
			return
		}
		if len(c.inbox) == 0 {
			c.mu.Unlock()
			if linger == nil {
				hwake := c.hwake
				linger = time.AfterFunc(writerLinger, func() {
					fired.Store(true)
					select {
					case hwake <- struct{}{}:
					default: // a wake-up is pending already
					}
				})
			}
			<-c.hwake // work, the linger timer, or finish when the connection ends
			if !fired.Load() {
				continue
			}
			fired.Store(false)
			if active {
				active = false
				linger.Reset(writerLinger)
				continue
			}
			c.mu.Lock()
			if len(c.inbox) > 0 || c.ctx.Err() != nil {
				c.mu.Unlock()
				linger.Reset(writerLinger)
				continue
			}
			c.handling = false
			c.mu.Unlock()
			return
		}
		in := c.inbox[0]
		c.inbox[0] = inboundMsg{}
		c.inbox = c.inbox[1:]
		c.mu.Unlock()
		active = true
		<-c.slots
		// A member that sends faster than the session's readers read waits for them here
		// (bounded; see pressure), and meanwhile its reads wait for room in the inbox.
		c.waitForReaders()
		if c.hub.store != nil {
			// The echo of the message and its reply are written together (see holdLocked).
			c.beginHold()
			c.process(in.m, in.sid)
			c.endHold()
		} else {
			c.process(in.m, in.sid) // replies are written by this goroutine (see sendDirect)
		}
	}
}

// process stores (in session mode) and handles one inbound message sent to session sid.
func (c *connection) process(m Message, sid string) {
	h := c.hub
	var handled *hubport.HandledEvent
	c.mu.Lock()
	notifier, ok := c.ws.(hubport.HandledNotifier)
	regen, _ := c.ws.(hubport.Regenerator)
	c.mu.Unlock()
	if ok {
		handled = &hubport.HandledEvent{MessageID: m.ID}
		defer func() { notifier.Handled(*handled) }()
	}
	if h.store != nil && m.Type != TypeTyping {
		ctx, cancel := h.storeCtx(c.ctx)
		rec, err := h.store.Append(ctx, sid, m, h.opts.MaxStoredMessages)
		cancel()
		switch {
		case errors.Is(err, storage.ErrDuplicate) && regen != nil && regen.Regenerate() && rec.Message.Role == RoleUser:
			m = rec.Message // a new reply to the stored message, as stored
		case errors.Is(err, storage.ErrDuplicate):
			// A retry of a message already stored (and handled): nothing more to do.
			if handled != nil {
				handled.Duplicate = true
			}
			h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: sid, Message: &m, Err: err})
			return
		case err != nil:
			if c.ctx.Err() != nil {
				return
			}
			h.log.Warn("chatwire: store append failed", "session", sid, "conn", c.id, "err", err)
			e := WrapError(CodeStoreUnavailable, textStoreUnavailable, err)
			if handled != nil {
				handled.ErrCode = string(e.Code)
			}
			c.sendErrorFor(e, m.ID)
			h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: sid, Message: &m, Err: e})
			return
		}
		c.touch(sid, storage.ConversationUpdate{Active: m.Timestamp, AddMessages: 1})
	} else if h.store != nil {
		ctx, cancel := h.storeCtx(c.ctx)
		err := h.store.Publish(ctx, sid, m)
		cancel()
		if err != nil && c.ctx.Err() == nil {
			h.log.Warn("chatwire: typing indicator not published", "session", sid, "conn", c.id, "err", err)
		}
	}
	if h.opts.Handler == nil {
		h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: sid, Message: &m})
		return
	}
	req := &Request{Message: m, SessionID: sid, ConnID: c.id, Principal: c.info.Principal, Header: c.info.Header}
	ctx, cancel := c.requestContext()
	defer cancel(nil)
	w := &ReplyWriter{c: c, sid: sid, ctx: ctx, cancel: cancel, replyTo: m.ID, handled: handled}
	start := time.Now()
	err := c.callHandler(ctx, req, w)
	w.endOpen(err)
	d := time.Since(start)
	if err == nil {
		h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: sid, Message: &req.Message, Duration: d})
		return
	}
	if ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, context.Cause(ctx))) {
		return // the connection ended, the hub shut down or a client cancelled the stream
	}
	if errors.Is(err, ErrStreamNotFound) {
		return // the stream was ended elsewhere (its conversation cleared or deleted, or a watcher declared it lost): its viewers were told
	}
	var e *Error
	if !errors.As(err, &e) {
		h.log.Error("chatwire: handler failed", "session", sid, "conn", c.id, "err", err)
		e = WrapError(CodeInternal, textInternal, err)
	}
	if handled != nil {
		handled.ErrCode = string(e.Code)
	}
	c.sendErrorFor(e, req.Message.ID)
	h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: sid, Message: &req.Message, Err: e, Duration: d})
}

// guard runs the Guards on m; it reports whether m may go on to the store and handler.
func (c *connection) guard(m *Message) bool {
	h := c.hub
	req := &Request{Message: *m, SessionID: c.info.SessionID, ConnID: c.id, Principal: c.info.Principal, Header: c.info.Header}
	for _, g := range h.opts.Guards {
		err := c.callGuard(g, req)
		if err == nil {
			continue
		}
		if errors.Is(err, ErrPolicyViolation) {
			h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: c.info.SessionID, Message: m, Err: err})
			c.closeWith(ClosePolicyViolation, "policy violation", true) // after the error envelopes already queued
			return false
		}
		var e *Error
		if !errors.As(err, &e) {
			h.log.Error("chatwire: guard failed", "session", c.info.SessionID, "conn", c.id, "err", err)
			e = WrapError(CodeInternal, textInternal, err)
		}
		c.sendErrorFor(e, m.ID)
		h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: c.info.SessionID, Message: m, Err: e})
		return false
	}
	return true
}

// callGuard runs one Guard, turning a panic into an error.
func (c *connection) callGuard(g Guard, req *Request) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.hub.log.Error("chatwire: guard panicked", "session", req.SessionID, "conn", c.id, "panic", r)
			err = fmt.Errorf("chatwire: guard panic: %v", r)
		}
	}()
	return g(c.ctx, req)
}

// callHandler runs the handler, turning a panic into an error.
func (c *connection) callHandler(ctx context.Context, req *Request, w *ReplyWriter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.hub.log.Error("chatwire: handler panicked", "session", req.SessionID, "conn", c.id, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("chatwire: handler panic: %v", r)
		}
	}()
	return c.hub.opts.Handler.ServeChat(ctx, req, w)
}

// requestContext returns the handler's context. Without a store it ends with the
// connection. With a store, replies belong to the session (they are stored and replayed),
// so it outlives the connection: it ends when a client cancels the request's stream or the
// hub's shutdown deadline passes. It keeps the values of the connection's context.
//
// In session mode every request context of a connection derives from one base context,
// made at the first request, so a request costs one cancelable context and nothing is
// registered with the hub's context per message.
func (c *connection) requestContext() (context.Context, context.CancelCauseFunc) {
	if c.hub.store == nil {
		return context.WithCancelCause(c.ctx)
	}
	c.mu.Lock()
	if c.reqBase == nil {
		base, cancel := context.WithCancelCause(context.WithoutCancel(c.ctx))
		c.reqBase, c.reqCancel = base, cancel
		c.reqStop = context.AfterFunc(c.hub.baseCtx, func() { cancel(ErrHubClosed) })
	}
	base := c.reqBase
	c.mu.Unlock()
	return context.WithCancelCause(base)
}

// releaseRequestBase unregisters the request base context from the hub's context once
// the connection has ended and no handler of it runs.
func (c *connection) releaseRequestBase() {
	c.mu.Lock()
	if c.handling || c.reqStop == nil || c.ctx.Err() == nil {
		c.mu.Unlock()
		return
	}
	stop := c.reqStop
	c.reqStop = nil
	c.mu.Unlock()
	stop()
}

// cancelStream handles a client's cancel request: the stream stops on whichever instance
// produces it.
func (c *connection) cancelStream(streamID string) {
	h := c.hub
	if err := h.CancelStream(c.ctx, c.info.SessionID, streamID); err != nil && c.ctx.Err() == nil {
		h.log.Warn("chatwire: cancel request not published", "session", c.info.SessionID, "conn", c.id, "err", err)
		c.sendError(WrapError(CodeStoreUnavailable, "Cancel request could not be delivered; please retry", err))
	}
}

// cancelRequest reports whether m is a client's cancel request:
// {"type":"system","content":…,"metadata":{"stream":{"id":"<stream id>","action":"cancel"}}}.
func cancelRequest(m *Message) (streamID string, ok bool) {
	if m.Type != TypeSystem || len(m.Metadata) == 0 {
		return "", false
	}
	var v struct {
		Stream struct {
			ID     string `json:"id"`
			Action string `json:"action"`
		} `json:"stream"`
	}
	if json.Unmarshal(m.Metadata, &v) != nil || v.Stream.Action != "cancel" || v.Stream.ID == "" {
		return "", false
	}
	return v.Stream.ID, true
}

// sendError sends an error envelope for e to this connection only. Only e.Code and
// e.Text reach the client.
func (c *connection) sendError(e *Error) { c.sendErrorFor(e, "") }

// sendErrorFor sends e as an error envelope about the inbound message with id messageID:
// metadata {"code":…,"messageId":…} ("messageId" omitted when empty), so a client can mark
// that message as failed.
func (c *connection) sendErrorFor(e *Error, messageID string) {
	c.sendCoded(TypeError, e.Text, e.Code, messageID, "")
}

// codeMetadata returns the metadata object {"code":"<code>"} plus "reason" when set.
func codeMetadata(code ErrorCode, reason string) []byte {
	v := struct {
		Code   ErrorCode `json:"code"`
		Reason string    `json:"reason,omitempty"`
	}{code, reason}
	b, _ := json.Marshal(v) // cannot fail for two strings
	return b
}
