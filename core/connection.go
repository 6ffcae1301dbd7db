package core

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatwire/chatwire/envelope"
)

// inboxSize bounds the decoded messages waiting for the handler on one connection. When it
// is full the reader stops reading, so a flooding client is slowed by TCP backpressure.
const inboxSize = 64

// connection is one served WebSocket. The goroutine in run is its only reader. writeFrames
// is its only writer, run by whoever holds the write token (c.writing): the writeLoop
// goroutine, started on demand, or inline a handler or the reader with frames to send
// (writer.go). handleLoop, started on demand, runs the handler. writeLoop and handleLoop end
// after writerLinger without work, so an idle connection has one goroutine (the reader) and
// no buffers, and a busy one starts no goroutine per message.
type connection struct {
	hub   *Hub
	ws    wsConn
	info  connInfo
	id    string
	start time.Time
	ctx   context.Context
	sess  *session // nil in stateless mode

	slots   chan struct{}  // inbox capacity tokens
	workers sync.WaitGroup // writeLoop and handleLoop

	mu          sync.Mutex
	queue       []outFrame
	writing     bool
	handling    bool
	inbox       []inboundMsg
	closing     bool      // a close was requested or the reader ended
	flush       bool      // write queued frames before the close frame
	closeCode   CloseCode // close code to send; 0 = send no close frame
	closeReason string    // reason for the close frame
	sentCode    CloseCode // close code actually requested by this side
	done        bool      // the socket is closed
	hbTimer     *time.Timer
	expiry      *time.Timer // closes the connection when its credentials expire
	cursor      uint64      // last session sequence queued for this connection
	replaying   bool
	// resetDuringJoin: the session's history was reset while the replay was being read
	// (session_epoch.go); join decides what the client is told.
	resetDuringJoin bool
	pending         []pendingFrame
	streamSeq       map[string]uint64 // last delta queued per running stream
	replayed        int               // records replayed by join, for ConnEvent

	// Writer (writer.go) and queue accounting (fairness.go).
	raw          net.Conn      // the socket under ws, when frames can be written to it directly
	wwake        chan struct{} // wakes an idle writer
	wtimer       *time.Timer   // the idle writer's linger
	wactive      bool          // the writer wrote since wtimer was armed
	parked       bool          // the writer goroutine is idle, without the write token (writing)
	closeWritten bool          // the close path ran (the close frame, if any, was written)
	inlineOK     bool          // a handler may write inline (see sendDirect)
	rest         *handoff      // the rest of an inline write, for the writer goroutine
	restBatch    []outFrame    // the frames of that write
	batch        []outFrame    // the frames being written; kept while the writer runs
	qFrames      int           // counted (non-replay) frames queued
	qBytes       int           // their cost (frameCost)
	pressed      bool          // this connection raised pressOn
	pressGen     uint64
	pressOn      *pressure
	drained      chan struct{} // closed when the queue drops to its low-water mark (waitForReaders)
	holding      bool          // the handler is storing and answering one of this connection's messages
	held         bool          // the writer's wake-up waits for the handler (holdLocked)
	awaitSeq     uint64        // the last reply the handler stored, not yet queued (endHold)
	holdTimer    *time.Timer   // ends a hold after holdMax
	graceTimer   *time.Timer   // closes the socket closeGrace after the close frame
	stopping     atomic.Bool   // a close was requested: the reader discards what arrives

	// Handler worker (inbound.go).
	hwake     chan struct{}           // wakes an idle handler worker
	reqBase   context.Context         // parent of session-mode request contexts (see requestContext)
	reqCancel context.CancelCauseFunc // cancels reqBase when the hub's shutdown deadline passes
	reqStop   func() bool             // unregisters reqBase from the hub's context

	// Conversation directory (conversation_actions.go): the owner ("" for none), its
	// watch, and whether the conversation shown was deleted (guarded by mu).
	owner string
	dirw  *ownerWatch
	conv  Conversation // the entry of the conversation at connect, for queueDirectory
	gone  bool
}

// pendingFrame is a live record (or, with delta set, a stream delta) that arrived while the
// connection's replay was being read.
type pendingFrame struct {
	seq   uint64
	frame outFrame
	delta *deltaPart
}

func newConnection(h *Hub, ws wsConn, info connInfo) *connection {
	return &connection{
		hub:   h,
		ws:    ws,
		info:  info,
		id:    NewID(),
		start: time.Now(),
		slots: make(chan struct{}, inboxSize),
	}
}

func (c *connection) event() ConnEvent {
	return ConnEvent{Hub: c.hub, ConnID: c.id, SessionID: c.info.SessionID, RemoteAddr: c.info.RemoteAddr, Principal: c.info.Principal, Header: c.info.Header}
}

// run serves the prepared (joined) connection on ws until it ends, and cleans up after it.
func (c *connection) run(parent context.Context, ws wsConn) error {
	h := c.hub
	ctx, cancel := context.WithCancel(parent)
	c.ctx = ctx
	defer cancel()
	c.mu.Lock()
	c.ws = ws
	if nc, ok := ws.(netConner); ok {
		c.raw = nc.NetConn()
		// Inline writes hand what a full socket did not take to the writer goroutine after
		// a short deadline; only a plain TCP socket survives a write that timed out halfway
		// (TLS does not).
		_, c.inlineOK = c.raw.(*net.TCPConn)
	}
	inline := false
	switch {
	case len(c.queue) > 0 && !c.closing && c.inlineOK && !c.writing:
		// The welcome frame (and any replay) queued during the upgrade: written here, so a
		// connection does not start a writer goroutine just for its first frames.
		c.writing = true
		if c.wwake == nil {
			c.wwake = make(chan struct{}, 1)
		}
		c.workers.Add(1)
		inline = true
	case len(c.queue) > 0 || c.closing:
		c.startWriterLocked() // frames queued during the upgrade, or a close requested meanwhile
	}
	c.mu.Unlock()
	if inline {
		c.writeFrames(true)
	}
	// Serve is a blocking call: when its context ends, the connection ends (after the
	// frames already queued), as with Shutdown.
	stop := context.AfterFunc(parent, func() { c.closeWith(CloseGoingAway, "server shutting down", true) })
	defer stop()

	c.ws.SetReadLimit(h.opts.HardMaxMessageSize)
	idle := h.opts.HeartbeatInterval + h.opts.PongTimeout
	heartbeat := h.opts.HeartbeatInterval > 0
	if heartbeat {
		c.ws.SetPongHandler(func(string) error {
			return c.ws.SetReadDeadline(time.Now().Add(idle))
		})
	}

	ev := c.event()
	ev.Replayed = c.replayed
	c.mu.Lock()
	if heartbeat {
		c.hbTimer = time.AfterFunc(h.opts.HeartbeatInterval, c.heartbeat)
	}
	if !c.info.Expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(c.info.Expires), func() {
			c.closeWith(ClosePolicyViolation, "credentials expired", false)
		})
	}
	c.mu.Unlock()
	if h.opts.OnConnect != nil {
		// On a goroutine of its own, waited for: a hook that logs or does other deep work
		// would grow the reader's stack, which an idle connection then keeps (a stack
		// shrinks only when a collection finds it mostly unused, and the reader's parked
		// depth is too large for that once it has doubled to 8 KiB).
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.safeCall("OnConnect", func() { h.opts.OnConnect(ev) })
		}()
		<-done
	}
	h.log.Debug("chatwire: connected", "session", c.info.SessionID, "conn", c.id, "remote", c.info.RemoteAddr)

	var err error
	var deadline time.Time // the read deadline last set: refreshed per burst, not per frame
	for {
		if heartbeat && !c.stopping.Load() {
			// A deadline between idle-1s and idle from now is as good as a fresh one.
			if now := time.Now(); now.Add(idle - time.Second).After(deadline) {
				deadline = now.Add(idle)
				_ = c.ws.SetReadDeadline(deadline)
			}
		}
		var r io.Reader
		if _, r, err = c.ws.NextReader(); err != nil {
			break
		}
		if c.stopping.Load() {
			// Closing: what arrives now is read (so that closing the socket does not reset
			// it) and dropped, until the peer's close frame ends the loop.
			if _, err = io.Copy(io.Discard, r); err != nil {
				break
			}
			continue
		}
		if err = c.readFrame(r); err != nil {
			break
		}
	}
	c.finish(cancel)
	h.disconnected(ev, c, err, time.Since(c.start))
	if c.sentCodeOrZero() != 0 || isPeerClose(c, err) {
		return nil
	}
	return err
}

// finish stops the connection's goroutines, leaves the session and closes the socket.
func (c *connection) finish(cancel context.CancelFunc) {
	c.mu.Lock()
	peerGone := !c.closing
	if peerGone {
		c.closing = true // the reader ended first: the peer is gone, send no close frame
	}
	c.flush = false
	c.stopping.Store(true)
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.holdTimer != nil {
		c.holdTimer.Stop()
	}
	c.held, c.holding = false, false
	if c.parked {
		select { // an idle writer ends now instead of after its linger
		case c.wwake <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	if peerGone {
		_ = c.ws.Close() // unblocks a writer stuck on a dead peer at once
	}
	cancel()
	c.mu.Lock()
	if c.hwake != nil {
		select { // an idle handler worker sees the end now
		case c.hwake <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	c.leaveDirectory()
	if c.sess != nil {
		c.sess.leave(c)
		c.hub.releaseSession(c.sess)
	}
	c.workers.Wait()
	_ = c.ws.Close()
	c.mu.Lock()
	c.done = true
	c.dropQueueLocked()
	c.inbox, c.pending = nil, nil
	if c.graceTimer != nil {
		c.graceTimer.Stop()
	}
	c.mu.Unlock()
	c.releaseRequestBase()
}

func (c *connection) sentCodeOrZero() CloseCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sentCode
}

func isPeerClose(c *connection, err error) bool {
	if c.info.CloseCode == nil || err == nil {
		return false
	}
	_, ok := c.info.CloseCode(err)
	return ok
}

func (h *Hub) disconnected(ev ConnEvent, c *connection, err error, d time.Duration) {
	code := c.sentCodeOrZero()
	var reason string
	if code != 0 {
		c.mu.Lock()
		reason = c.closeReason
		c.mu.Unlock()
	}
	if code == 0 {
		code = CloseAbnormal
		if c.info.CloseCode != nil && err != nil {
			if pc, ok := c.info.CloseCode(err); ok {
				code = CloseCode(pc)
			}
		}
	}
	if code == CloseNormal || code == CloseGoingAway {
		err = nil
	} else if c.sentCodeOrZero() != 0 {
		err = nil // closed by this side on purpose; the code says why
	}
	h.log.Debug("chatwire: disconnected", "session", ev.SessionID, "conn", ev.ConnID, "code", code, "duration", d)
	if h.opts.OnDisconnect != nil {
		h.safeCall("OnDisconnect", func() {
			h.opts.OnDisconnect(DisconnectEvent{ConnEvent: ev, Code: code, Reason: reason, Duration: d, Err: err})
		})
	}
}

// readFrame reads one inbound frame through the size limit and acts on it.
func (c *connection) readFrame(r io.Reader) error {
	h := c.hub
	max := h.opts.MaxMessageSize
	bp := getReadBuf()
	defer putReadBuf(bp)
	buf, err := readAtMost(r, (*bp)[:0], max+1)
	*bp = buf
	if err != nil {
		return err
	}
	if len(buf) > max {
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			return err
		}
		h.frameIn(FrameIn{Phase: FrameReceived, ConnID: c.id, SessionID: c.info.SessionID, Bytes: len(buf) + int(n)})
		e := NewError(CodeMessageTooLarge, messageTooLargeText(max))
		c.sendError(e)
		h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: c.info.SessionID, Err: e})
		return nil
	}
	var m Message
	derr := envelope.Decode(buf, &m)
	if errors.Is(derr, envelope.ErrHeartbeat) {
		return nil
	}
	h.frameIn(FrameIn{Phase: FrameReceived, ConnID: c.id, SessionID: c.info.SessionID, Bytes: len(buf)})
	if derr != nil {
		var e *Error
		var de *envelope.DecodeError
		switch {
		case errors.As(derr, &de):
			e = NewError(CodeInvalidMessage, de.Text)
		case !errors.As(derr, &e):
			e = WrapError(CodeInvalidMessage, "Failed to parse message as JSON", derr)
		}
		c.sendError(e)
		h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: c.info.SessionID, Err: e})
		return nil
	}
	if a, ok, malformed := answerRequest(&m); ok {
		h.frameIn(FrameIn{Phase: FrameDecoded, ConnID: c.id, SessionID: c.info.SessionID, Bytes: len(buf), Message: &m})
		c.answer(a, malformed)
		h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: c.info.SessionID, Message: &m})
		return nil
	}
	if id, ok := cancelRequest(&m); ok {
		h.frameIn(FrameIn{Phase: FrameDecoded, ConnID: c.id, SessionID: c.info.SessionID, Bytes: len(buf), Message: &m})
		c.cancelStream(id)
		h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: c.info.SessionID, Message: &m})
		return nil
	}
	if m.ID == "" {
		m.ID = NewID()
	}
	m.Role = RoleUser
	m.Timestamp = envelope.NowMillis()
	h.frameIn(FrameIn{Phase: FrameDecoded, ConnID: c.id, SessionID: c.info.SessionID, Bytes: len(buf), Message: &m})
	if c.conversationFrame(&m) {
		return nil
	}
	if len(h.opts.Guards) > 0 && !c.guard(&m) {
		return nil
	}
	if c.whileReplying(&m) {
		return nil
	}
	return c.enqueueInbound(m, c.info.SessionID)
}

// readAtMost appends from r to buf until EOF or until buf holds limit bytes.
func readAtMost(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= limit {
				return buf, nil
			}
			n := 2 * cap(buf)
			if n < 512 {
				n = 512
			}
			if n > limit {
				n = limit
			}
			nb := make([]byte, len(buf), n)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

var readBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getReadBuf() *[]byte { return readBufPool.Get().(*[]byte) }

func putReadBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return // do not pin unusually large buffers
	}
	*b = (*b)[:0]
	readBufPool.Put(b)
}
