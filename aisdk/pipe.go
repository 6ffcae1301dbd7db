package aisdk

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/internal/hubport"
)

// pipeConn is the in-memory core.Conn of one endpoint request: the hub reads the request's
// one inbound frame from it (if any) and writes the session's frames into it, which the
// request's SSE loop takes from frames. A slow SSE client blocks the hub's writer, so the
// hub's queue merges stream deltas exactly as for a slow WebSocket client.
type pipeConn struct {
	inbound []byte // the frame the hub reads first; nil for none
	regen   bool   // the frame asks for a new reply to a stored message (adapterkit.Regenerator)
	frames  chan []byte
	closed  chan struct{}
	handled chan adapterkit.HandledEvent // the hub's report on the inbound frame

	mu        sync.Mutex
	read      bool
	deadline  time.Time
	pong      func(string) error
	closeOnce sync.Once
}

var (
	_ hubport.Conn               = (*pipeConn)(nil)
	_ adapterkit.HandledNotifier = (*pipeConn)(nil)
	_ adapterkit.Regenerator     = (*pipeConn)(nil)
)

var errPipeClosed = errors.New("aisdk: request ended")

var heartbeat = []byte(`{"type":"ping"}`)

func newPipe(inbound []byte) *pipeConn {
	return &pipeConn{inbound: inbound, frames: make(chan []byte), closed: make(chan struct{}), handled: make(chan adapterkit.HandledEvent, 1)}
}

// Regenerate implements adapterkit.Regenerator.
func (p *pipeConn) Regenerate() bool { return p.regen }

// Handled implements adapterkit.HandledNotifier: the hub reports that the request's message was
// handled. There is one inbound message, so one report; it never blocks.
func (p *pipeConn) Handled(ev adapterkit.HandledEvent) {
	select {
	case p.handled <- ev:
	default:
	}
}

// NextReader returns the inbound frame once, then blocks until the pipe is closed.
func (p *pipeConn) NextReader() (int, io.Reader, error) {
	p.mu.Lock()
	first := !p.read && p.inbound != nil
	p.read = true
	p.mu.Unlock()
	if first {
		return hubport.TextMessage, bytes.NewReader(p.inbound), nil
	}
	<-p.closed
	return 0, nil, errPipeClosed
}

// WriteMessage hands a frame to the SSE loop, waiting for it until the write deadline.
// Heartbeat frames are answered on the spot.
func (p *pipeConn) WriteMessage(messageType int, data []byte) error {
	if bytes.Equal(data, heartbeat) {
		return p.keepAlive()
	}
	frame := append([]byte(nil), data...)
	p.mu.Lock()
	deadline := p.deadline
	p.mu.Unlock()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p.frames <- frame:
		return nil
	case <-p.closed:
		// The request has ended (its stream answered [DONE], or the client left): frames
		// for it are dropped on purpose, since the store holds the reply and a client
		// resumes with GET. Reporting them as failed sends would log a warning at the end
		// of every request; the reader's errPipeClosed ends the connection.
		return nil
	case <-timeout:
		return errors.New("aisdk: write timeout")
	}
}

// keepAlive answers a heartbeat as a browser would: the pong keeps the hub's read
// deadline from expiring; an SSE comment keeps proxies from cutting an idle stream.
func (p *pipeConn) keepAlive() error {
	p.mu.Lock()
	pong := p.pong
	p.mu.Unlock()
	if pong != nil {
		_ = pong("")
	}
	select {
	case p.frames <- nil: // nil: write an SSE comment
	case <-p.closed:
		return errPipeClosed
	default: // the loop is busy writing: it is alive anyway
	}
	return nil
}

// WriteControl handles pings (answered with a pong) and close frames (the hub ends the
// request's connection).
func (p *pipeConn) WriteControl(messageType int, _ []byte, _ time.Time) error {
	if messageType == hubport.PingMessage {
		p.mu.Lock()
		pong := p.pong
		p.mu.Unlock()
		if pong != nil {
			_ = pong("")
		}
	}
	if messageType == hubport.CloseMessage {
		p.Close()
	}
	return nil
}

// SetReadDeadline is ignored: the pipe's reader ends when the request ends.
func (p *pipeConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline bounds how long WriteMessage waits for the SSE loop.
func (p *pipeConn) SetWriteDeadline(t time.Time) error {
	p.mu.Lock()
	p.deadline = t
	p.mu.Unlock()
	return nil
}

// SetReadLimit is ignored: the one inbound frame is built by the endpoint.
func (p *pipeConn) SetReadLimit(int64) {}

// SetPongHandler records the hub's pong handler.
func (p *pipeConn) SetPongHandler(h func(string) error) {
	p.mu.Lock()
	p.pong = h
	p.mu.Unlock()
}

// Close ends the pipe; it may be called more than once, from any goroutine.
func (p *pipeConn) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}
