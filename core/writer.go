package core

import (
	"errors"
	"net"
	"os"
	"sync"
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
	dir  *dirPart
	free bool // a replay frame: counted against no queue limit
	cost int  // what the frame counts against SendQueueBytes (see frameCost)
}

// Writer tuning.
const (
	// writerLinger is how long an idle writer (and handler worker) waits for more work
	// before its goroutine ends (between one and two of it), so a connection that talks
	// steadily reuses one goroutine and an idle one has none. Its timer is re-armed once
	// per period, not per message.
	writerLinger = time.Second
	// maxBatch bounds the bytes written by one write call, so that a close frame never
	// waits long behind a batch.
	maxBatch = 64 << 10
	// holdMax bounds how long frames for a connection wait while its own handler is storing
	// and answering its message, so the echo and the reply go out in one write.
	holdMax = 2 * time.Millisecond
	// closeGrace is how long the socket stays open after the close frame, for the peer's
	// close frame (see writeClose).
	closeGrace = time.Second
)

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

// sendDirect sends m as a stateless handler's reply: when no writer runs, the calling
// goroutine writes it at once (a round trip then costs no goroutine switch and no timer);
// otherwise it is queued for the writer.
func (c *connection) sendDirect(m *Message) bool {
	f := frameOf(m)
	c.mu.Lock()
	if c.writing || c.closing || c.done || !c.inlineOK {
		ok := c.enqueueLocked(f, false)
		c.mu.Unlock()
		return ok
	}
	if !c.queueLocked(f, false) {
		c.mu.Unlock()
		return false
	}
	c.writing = true
	if c.wwake == nil {
		c.wwake = make(chan struct{}, 1)
	}
	c.workers.Add(1) // before finish can wait: it sets closing first, under c.mu
	c.mu.Unlock()
	c.writeFrames(true)
	return true
}

// enqueueLocked queues f and makes sure the writer runs. A free frame (a replay) counts
// against no limit; any other frame that would pass SendQueueSize or SendQueueBytes closes
// the connection with 1008 instead. c.mu must be held.
func (c *connection) enqueueLocked(f outFrame, free bool) bool {
	if !c.queueLocked(f, free) {
		return false
	}
	c.startWriterLocked()
	return true
}

// queueLocked is enqueueLocked without starting the writer.
func (c *connection) queueLocked(f outFrame, free bool) bool {
	if c.closing || c.done {
		return false
	}
	f.free = free
	if !free {
		f.cost = frameCost(&f)
		if c.overLimitLocked(f.cost) {
			c.hub.log.Warn("chatwire: slow consumer closed", "session", c.info.SessionID, "conn", c.id, "queued", c.qFrames, "bytes", c.qBytes)
			c.requestCloseLocked(ClosePolicyViolation, "slow consumer", false)
			return false
		}
		c.countLocked(f.cost)
	}
	c.queue = append(c.queue, f)
	return true
}

// closeWith asks the writer to send a close frame with code and reason and then close the
// socket; with flush, frames already queued are written first, else the close frame goes
// out ahead of them.
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
	c.stopping.Store(true)
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

// startWriterLocked makes sure the writer will write what is queued: it starts the writer
// or wakes it, unless the connection's own handler is busy with its message, in which case
// the wake-up is held for at most holdMax (see holdLocked).
func (c *connection) startWriterLocked() {
	if c.done || c.ws == nil {
		return // before the upgrade, frames wait for run to start the writer
	}
	if c.holding && !c.closing {
		c.holdLocked()
		return
	}
	if c.held { // a hold endHold kept for a reply on its way back: this frame ends it
		c.held = false
		c.holdTimer.Stop()
	}
	c.kickWriterLocked()
}

// kickWriterLocked makes sure a writer will write what is queued. c.writing is the write
// token: whoever holds it (the writer goroutine, or a handler writing inline) writes until
// the queue is empty. An idle writer goroutine gives the token back and parks (c.parked);
// a kick hands the token to it, or starts one.
func (c *connection) kickWriterLocked() {
	if c.done || c.ws == nil || c.writing {
		return // the token holder looks at the queue before it lets go
	}
	c.writing = true
	if c.parked {
		c.parked = false
		select {
		case c.wwake <- struct{}{}:
		default: // a wake-up is pending already
		}
		return
	}
	if c.wwake == nil {
		c.wwake = make(chan struct{}, 1)
	}
	c.workers.Add(1)
	go c.writeLoop()
}

// writeLoop is the connection's writer goroutine.
func (c *connection) writeLoop() { c.writeFrames(false) }

// holdLocked holds the writer's wake-up while the connection's handler stores and answers
// its message: the echo of the message and the reply are then written together. The
// handler releases the hold when it is done (endHold); a timer releases it after holdMax.
func (c *connection) holdLocked() {
	if c.held {
		return
	}
	c.held = true
	if c.holdTimer == nil {
		c.holdTimer = time.AfterFunc(holdMax, c.releaseHold)
	} else {
		c.holdTimer.Reset(holdMax)
	}
}

func (c *connection) releaseHold() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.held = false
		c.kickWriterLocked()
	}
}

// awaitReply notes that the handler stored record seq of session sid as a reply: endHold
// then keeps the hold until it arrives (see endHold). Only for the connection's current
// session, whose records c.cursor counts.
func (c *connection) awaitReply(sid string, seq uint64) {
	c.mu.Lock()
	if c.holding && c.sess != nil && c.sess.id == sid && seq > c.awaitSeq {
		c.awaitSeq = seq
	}
	c.mu.Unlock()
}

// beginHold marks the connection's handler busy with one of its messages.
func (c *connection) beginHold() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

// endHold ends beginHold and writes what was held. When no writer runs, the handler's
// goroutine writes it itself (a round trip's reply then costs no goroutine switch); a writer
// is started only for what is queued while that write is in progress.
func (c *connection) endHold() {
	c.mu.Lock()
	c.holding = false
	await := c.awaitSeq
	c.awaitSeq = 0
	if !c.held {
		c.mu.Unlock()
		return
	}
	if await > c.cursor && !c.closing && !c.done {
		// The reply was stored by a networked store and comes back through its
		// notifications: the hold goes on (its timer still bounds it) until the reply, or
		// any other frame, is queued, so the echo and the reply still share one write.
		c.mu.Unlock()
		return
	}
	c.held = false
	c.holdTimer.Stop()
	if c.writing || c.closing || c.done || !c.inlineOK {
		c.kickWriterLocked()
		c.mu.Unlock()
		return
	}
	c.writing = true
	if c.wwake == nil {
		c.wwake = make(chan struct{}, 1)
	}
	c.workers.Add(1) // before finish can wait: it sets closing first, under c.mu
	c.mu.Unlock()
	c.writeFrames(true)
}

// writeFrames is the connection's only writer (c.writing marks who runs it). It writes
// what is queued in batches, one write call each, and ends after writerLinger without work,
// or at once with an empty queue when it runs inline on a handler's goroutine; after a close
// request it writes the close frame.
func (c *connection) writeFrames(inline bool) {
	defer c.workers.Done()
	for {
		c.mu.Lock()
		if c.rest != nil {
			// The rest of a handed-off inline write goes first: a frame may be cut.
			h, batch := c.rest, c.restBatch
			c.rest, c.restBatch = nil, nil
			sid := c.info.SessionID // a conversation switch changes it under c.mu
			c.mu.Unlock()
			err := c.raw.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteTimeout))
			if err == nil {
				_, err = h.rest.WriteTo(c.raw)
			}
			putWriteBuf(h.wb)
			if !c.written(batch, sid, err) {
				return
			}
			continue
		}
		if c.closing && (!c.flush || len(c.queue) == 0) {
			c.dropQueueLocked()
			code, reason := c.closeCode, c.closeReason
			first := !c.closeWritten
			c.closeWritten = true
			c.mu.Unlock()
			if first {
				c.writeClose(code, reason)
			}
			c.mu.Lock()
			c.writing = false
			c.batch = nil
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 || (c.held && !c.closing) {
			if inline {
				c.writing = false
				if cap(c.batch) > 8 {
					c.batch = nil
				}
				c.mu.Unlock()
				return
			}
			if !c.idleLocked() {
				return
			}
			continue
		}
		batch := c.takeBatchLocked()
		sid := c.info.SessionID // a conversation switch changes it under c.mu
		c.mu.Unlock()

		err := c.writeBatch(batch, inline)
		if h, ok := err.(*handoff); ok {
			// The socket is full: the writer goroutine finishes this write (and reports the
			// batch); the write token passes to it.
			c.mu.Lock()
			c.rest, c.restBatch = h, batch
			c.batch = nil // the writer goroutine owns batch's array now
			if c.parked {
				c.parked = false
				select {
				case c.wwake <- struct{}{}:
				default:
				}
			} else {
				c.workers.Add(1)
				go c.writeLoop()
			}
			c.mu.Unlock()
			return
		}
		if !c.written(batch, sid, err) {
			return
		}
	}
}

// written reports a written batch to the hooks, or handles the failed write (the socket is
// closed; the reader then ends the connection) and reports false.
func (c *connection) written(batch []outFrame, sid string, err error) bool {
	if err != nil {
		for i := range batch {
			if batch[i].msg != nil {
				c.hub.frameOut(FrameOut{Phase: FrameSendFailed, ConnID: c.id, SessionID: sid, Message: batch[i].msg, Err: err})
			}
			batch[i] = outFrame{}
		}
		_ = c.ws.Close() // the reader sees the error and ends the connection
		c.mu.Lock()
		c.done = true
		c.writing = false
		c.dropQueueLocked()
		c.batch = nil
		c.mu.Unlock()
		return false
	}
	for i := range batch {
		if batch[i].msg != nil {
			c.hub.frameOut(FrameOut{Phase: FrameSent, ConnID: c.id, SessionID: sid, Message: batch[i].msg, Bytes: len(batch[i].data)})
		}
		batch[i] = outFrame{}
	}
	return true
}

// idleLocked waits, with c.mu held on entry and released meanwhile, for more frames or a
// close request. It reports false, with c.mu released and the writer marked stopped, when
// none came within writerLinger.
func (c *connection) idleLocked() bool {
	c.writing = false // give the token back: a handler may write inline meanwhile
	c.parked = true
	if c.wtimer == nil {
		c.wtimer = time.NewTimer(writerLinger) // armed once; re-armed only when it fires
	}
	c.mu.Unlock()
	for {
		timeout := false
		select {
		case <-c.wwake:
		case <-c.wtimer.C:
			timeout = true
		}
		c.mu.Lock()
		if !c.parked {
			c.mu.Unlock()
			return true // a kick handed the token over
		}
		if c.closing && !c.writing && !c.closeWritten {
			c.parked, c.writing = false, true // the close frame is this writer's job
			c.mu.Unlock()
			return true
		}
		if !timeout && !c.closing {
			c.mu.Unlock()
			continue // a stale wake-up
		}
		if c.wactive { // frames were written since the timer was armed: another round
			c.wactive = false
			c.wtimer.Reset(writerLinger)
			c.mu.Unlock()
			continue
		}
		c.parked = false
		c.wtimer = nil
		c.batch = nil
		c.mu.Unlock()
		return false
	}
}

// takeBatchLocked pops the frames the next write carries: everything queued, up to maxBatch
// bytes (at least one frame). Deltas are encoded now, so they merge while they wait.
func (c *connection) takeBatchLocked() []outFrame {
	b := c.batch[:0]
	size, frames, cost := 0, 0, 0
	for len(c.queue) > 0 && (len(b) == 0 || size < maxBatch) {
		f := c.queue[0]
		c.queue[0] = outFrame{}
		c.queue = c.queue[1:]
		if !f.free {
			frames++
			cost += f.cost
		}
		if f.delta != nil {
			// Under c.mu: the part may be merged into until it is popped.
			f = f.delta.frame()
		} else if f.dir != nil {
			f = frameOf(eventMessage(f.dir.ev)) // likewise replaced until popped
		}
		size += len(f.data)
		b = append(b, f)
	}
	c.uncountLocked(frames, cost)
	c.batch = b
	c.wactive = true
	return b
}

// netConner is implemented by the connections of gorilla/websocket and fasthttp/websocket:
// NetConn returns the socket under the WebSocket connection.
type netConner interface{ NetConn() net.Conn }

// writeBatch writes b with one deadline. When the socket under the connection is known,
// the frames go out in one write call (server frames are unmasked, so the framing is a
// few header bytes); otherwise each frame is written through the Conn.
func (c *connection) writeBatch(b []outFrame, inline bool) error {
	wait := c.hub.opts.WriteTimeout
	if inline && c.raw != nil {
		wait = inlineWait
	}
	deadline := time.Now().Add(wait)
	if c.raw != nil {
		if err := c.raw.SetWriteDeadline(deadline); err != nil {
			return err
		}
		wb := getWriteBuf()
		bufs := appendFrames(wb.bufs[:0], &wb.data, b)
		wb.bufs = bufs
		var err error
		if len(bufs) == 1 { // the common case: write(2), cheaper than writev(2)
			var n int
			n, err = c.raw.Write(bufs[0])
			bufs[0] = bufs[0][n:]
		} else {
			_, err = bufs.WriteTo(c.raw) // consumes what it wrote
		}
		if inline && errors.Is(err, os.ErrDeadlineExceeded) {
			return &handoff{rest: bufs, wb: wb}
		}
		putWriteBuf(wb)
		return err
	}
	if err := c.ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	for i := range b {
		if b[i].ping {
			if err := c.ws.WriteControl(pingMessage, nil, deadline); err != nil {
				return err
			}
		}
		if err := c.ws.WriteMessage(textMessage, b[i].data); err != nil {
			return err
		}
	}
	return nil
}

// inlineWait bounds a write made on a handler's goroutine (see sendDirect and endHold):
// what the socket does not take within it is handed to the writer goroutine, so a peer that
// does not read holds up the writer (and reaches its queue limit), not the handler.
const inlineWait = 2 * time.Millisecond

// handoff is the rest of an inline write that the socket did not take in time.
type handoff struct {
	rest net.Buffers
	wb   *writeBuf
}

func (*handoff) Error() string { return "chatwire: inline write handed off" }

// bigFrame is the payload size from which a frame's data is written from where it is
// instead of being copied into the batch buffer.
const bigFrame = 16 << 10

// appendFrames appends the wire bytes of b to bufs: small frames are copied, with their
// headers, into *data; large payloads are referenced.
func appendFrames(bufs net.Buffers, data *[]byte, b []outFrame) net.Buffers {
	d := (*data)[:0]
	start := 0
	for i := range b {
		if b[i].ping {
			d = append(d, 0x80|pingMessage, 0)
		}
		d = appendFrameHeader(d, textMessage, len(b[i].data))
		if len(b[i].data) >= bigFrame {
			bufs = append(bufs, d[start:len(d):len(d)], b[i].data)
			start = len(d)
			continue
		}
		d = append(d, b[i].data...)
	}
	if len(d) > start {
		bufs = append(bufs, d[start:])
	}
	*data = d
	return bufs
}

// appendFrameHeader appends the header of a final, unmasked frame (as a server sends it)
// with the given opcode and payload length (RFC 6455 section 5.2).
func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return append(b, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// writeBuf is a batch's write buffer, pooled: an idle connection holds none.
type writeBuf struct {
	data []byte
	bufs net.Buffers
}

var writeBufPool = sync.Pool{New: func() any { return &writeBuf{data: make([]byte, 0, 4096)} }}

func getWriteBuf() *writeBuf { return writeBufPool.Get().(*writeBuf) }

func putWriteBuf(w *writeBuf) {
	if cap(w.data) > 2*maxBatch {
		return
	}
	clear(w.bufs[:cap(w.bufs)])
	w.bufs = w.bufs[:0]
	writeBufPool.Put(w)
}

// writeClose sends the close frame (unless code is 0) and closes the socket: at once when
// no close frame was sent, else once the peer answers with its own close frame (the reader
// then ends) or after closeGrace. Closing a socket with unread input makes the kernel reset
// the connection, and a peer that has not read everything yet would lose the close frame
// and the frames before it; meanwhile the reader discards what arrives.
func (c *connection) writeClose(code CloseCode, reason string) {
	if code == 0 {
		_ = c.ws.Close()
		return
	}
	deadline := time.Now().Add(c.hub.opts.WriteTimeout)
	if err := c.ws.WriteControl(closeMessage, formatCloseMessage(int(code), reason), deadline); err != nil {
		_ = c.ws.Close()
		return
	}
	c.mu.Lock()
	if !c.done {
		c.graceTimer = time.AfterFunc(closeGrace, func() { _ = c.ws.Close() })
	}
	c.mu.Unlock()
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
