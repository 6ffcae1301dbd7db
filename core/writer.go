package core

import (
	"time"

	"github.com/chatwire/chatwire/envelope"
)

// outFrame is one encoded frame waiting for the writer. data is never modified after it is
// queued, so one encoding can be shared by every connection a message fans out to.
type outFrame struct {
	data []byte
	msg  *Message // nil for heartbeats, which hooks never see
	ping bool     // heartbeat: also send a WebSocket ping control frame
	// delta, when set, is a stream delta encoded only when written, so deltas that wait
	// in the queue can merge (data and msg are then unset).
	delta *deltaPart
	// dir, when set, is a directory event encoded only when written, so a later event of
	// the same conversation can replace it (conversation_frames.go).
	dir *dirPart
}

// frameOf encodes m into a new buffer sized so that it never grows when nothing in m needs
// escaping (96 bytes cover the keys, quotes and a 13-digit timestamp), and returns the frame.
// The buffer is not pooled: one encoding may be shared by every connection a message fans
// out to.
func frameOf(m *Message) outFrame {
	n := 96 + len(m.ID) + len(m.Type) + len(m.Role) + len(m.Content) + len(m.Metadata)
	return outFrame{data: envelope.AppendMessage(make([]byte, 0, n), m), msg: m}
}

// send encodes m and queues it for this connection. It reports false when the connection
// is closing or was closed as a slow consumer.
func (c *connection) send(m *Message) bool {
	f := frameOf(m)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enqueueLocked(f, false)
}

// enqueueLocked queues f and makes sure the writer runs. Unless force is set, a full queue
// closes the connection with 1008 instead of growing. c.mu must be held.
func (c *connection) enqueueLocked(f outFrame, force bool) bool {
	if c.closing || c.done {
		return false
	}
	if !force && len(c.queue) >= c.hub.opts.SendQueueSize {
		c.hub.log.Warn("chatwire: slow consumer closed", "session", c.info.SessionID, "conn", c.id, "queued", len(c.queue))
		c.requestCloseLocked(ClosePolicyViolation, "slow consumer", false)
		return false
	}
	c.queue = append(c.queue, f)
	c.startWriterLocked()
	return true
}

// closeWith asks the writer to send a close frame with code and reason and then close the
// socket; with flush, frames already queued are written first.
func (c *connection) closeWith(code CloseCode, reason string, flush bool) {
	c.mu.Lock()
	c.requestCloseLocked(code, reason, flush)
	c.mu.Unlock()
}

func (c *connection) requestCloseLocked(code CloseCode, reason string, flush bool) {
	if c.closing || c.done {
		return
	}
	c.closing = true
	c.flush = flush
	c.closeCode = code
	c.closeReason = reason
	c.sentCode = code
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	c.startWriterLocked()
}

// abort closes the socket at once, from any goroutine; the reader then ends the connection.
// A connection not upgraded yet is closed by run as soon as it starts.
func (c *connection) abort() {
	c.mu.Lock()
	ws := c.ws
	c.requestCloseLocked(CloseGoingAway, "server shutting down", false)
	c.mu.Unlock()
	if ws != nil {
		_ = ws.Close()
	}
}

func (c *connection) startWriterLocked() {
	if c.writing || c.done || c.ws == nil {
		return // before the upgrade, frames wait for run to start the writer
	}
	c.writing = true
	c.workers.Add(1)
	go c.writeLoop()
}

// writeLoop is the connection's only writer. It drains the queue and exits when it is
// empty; after a close request it writes the close frame and closes the socket.
func (c *connection) writeLoop() {
	defer c.workers.Done()
	timeout := c.hub.opts.WriteTimeout
	for {
		c.mu.Lock()
		if c.closing && (!c.flush || len(c.queue) == 0) {
			code, reason := c.closeCode, c.closeReason
			c.queue = nil
			c.mu.Unlock()
			if code != 0 {
				deadline := time.Now().Add(timeout)
				_ = c.ws.SetWriteDeadline(deadline)
				_ = c.ws.WriteControl(closeMessage, formatCloseMessage(int(code), reason), deadline)
			}
			_ = c.ws.Close()
			c.mu.Lock()
			c.done = true
			c.writing = false
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		f := c.queue[0]
		c.queue[0] = outFrame{}
		c.queue = c.queue[1:]
		if f.delta != nil {
			// Under c.mu: the part may be merged into until it is popped.
			f = frameOf(deltaMessage(f.delta))
		} else if f.dir != nil {
			f = frameOf(eventMessage(f.dir.ev))
		}
		sid := c.info.SessionID // a conversation switch changes it under c.mu
		c.mu.Unlock()

		if err := c.write(f, timeout); err != nil {
			if f.msg != nil {
				c.hub.frameOut(FrameOut{Phase: FrameSendFailed, ConnID: c.id, SessionID: sid, Message: f.msg, Err: err})
			}
			_ = c.ws.Close() // the reader sees the error and ends the connection
			c.mu.Lock()
			c.done = true
			c.writing = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		if f.msg != nil {
			c.hub.frameOut(FrameOut{Phase: FrameSent, ConnID: c.id, SessionID: sid, Message: f.msg, Bytes: len(f.data)})
		}
	}
}

func (c *connection) write(f outFrame, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if err := c.ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if f.ping {
		if err := c.ws.WriteControl(pingMessage, nil, deadline); err != nil {
			return err
		}
	}
	return c.ws.WriteMessage(textMessage, f.data)
}

// heartbeat runs on the heartbeat timer: it queues a ping and re-arms the timer.
func (c *connection) heartbeat() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.done {
		return
	}
	if c.enqueueLocked(outFrame{data: c.hub.pingFrame, ping: true}, false) {
		c.hbTimer.Reset(c.hub.opts.HeartbeatInterval)
	}
}
