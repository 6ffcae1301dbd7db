package core

import (
	"sync"
	"sync/atomic"
	"time"
)

// pressure is how a producer learns that the readers it feeds are behind. Every connection
// of a session whose counted send queue passes its high-water mark (half of SendQueueSize
// frames or of SendQueueBytes) adds itself to the session's pressure; it removes itself once
// its writer has drained it to a quarter. Before handling its next inbound message, a
// connection's handler waits while the pressure of its session is raised, and while its own
// queue is above its high-water mark (waitForReaders), so a member that sends faster than
// the others read is slowed (its reads wait, then TCP pushes back on it) instead of its
// readers being closed as slow consumers.
//
// The wait for the others is bounded (producerWait): a reader that does not drain within it
// is truly behind. The producer then expires the pressure and goes on; readers that were
// behind no longer hold producers back until they have drained, and one that never does
// reaches its queue limit and is closed with 1008 "slow consumer". The wait for its own
// queue is not bounded by time: a client that sends without reading is held up by its own
// writer, which its WriteTimeout ends.
type pressure struct {
	n     atomic.Int32 // connections above their high-water mark in this generation
	mu    sync.Mutex
	gen   uint64
	clear chan struct{} // closed when n drops to 0 or the generation expires; nil at 0
}

// producerWait bounds how long a producer waits for its readers before it treats the ones
// still behind as slow consumers.
const producerWait = 250 * time.Millisecond

// raise counts one more connection above its high-water mark and returns the generation
// to pass to lower.
func (p *pressure) raise() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clear == nil {
		p.clear = make(chan struct{})
	}
	p.n.Add(1)
	return p.gen
}

// lower undoes raise of generation gen; raises of an expired generation were already
// dropped.
func (p *pressure) lower(gen uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return
	}
	if p.n.Add(-1) == 0 && p.clear != nil {
		close(p.clear)
		p.clear = nil
	}
}

// expire drops every raise of the current generation: the readers behind now are left to
// their queue limits.
func (p *pressure) expire(ch chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clear != ch || ch == nil {
		return // cleared or expired meanwhile
	}
	close(p.clear)
	p.clear = nil
	p.n.Store(0)
	p.gen++
}

// wait blocks while the pressure is raised, at most producerWait, or until done is closed.
func (p *pressure) wait(done <-chan struct{}) {
	if p.n.Load() == 0 {
		return
	}
	p.mu.Lock()
	ch := p.clear
	p.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(producerWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-done:
	case <-t.C:
		p.expire(ch)
	}
}

// Queue accounting. Frames of a reconnect replay are queued free: they count against no
// limit, as Options.SendQueueSize documents, and they never raise pressure.

// frameCost is what a queued frame counts against SendQueueBytes.
func frameCost(f *outFrame) int {
	if f.delta != nil {
		return 128 + len(f.delta.text)
	}
	if f.dir != nil {
		return 256 + len(f.dir.ev.Conversation.Title) // a directory event, encoded when written
	}
	return len(f.data)
}

// overLimitLocked reports whether queuing one more frame of cost n would pass the
// connection's limits. A single frame larger than SendQueueBytes is let through when
// nothing else is queued.
func (c *connection) overLimitLocked(n int) bool {
	o := &c.hub.opts
	if c.qFrames >= o.SendQueueSize {
		return true
	}
	return c.qFrames > 0 && c.qBytes+n > o.SendQueueBytes
}

// countLocked adds a queued frame of cost n and, in session mode, raises the session's
// pressure at the high-water mark. c.mu must be held.
func (c *connection) countLocked(n int) {
	c.qFrames++
	c.qBytes += n
	if !c.pressed && c.sess != nil && c.overHighLocked() {
		c.pressed = true
		c.pressOn = &c.sess.press
		c.pressGen = c.pressOn.raise()
	}
}

// uncountLocked removes written (or dropped) frames of total cost n; at the low-water mark
// it lowers the pressure and wakes a handler waiting for this queue. c.mu must be held.
func (c *connection) uncountLocked(frames, n int) {
	c.qFrames -= frames
	c.qBytes -= n
	o := &c.hub.opts
	if c.qFrames > o.SendQueueSize/4 || c.qBytes > o.SendQueueBytes/4 {
		return
	}
	if c.pressed {
		c.pressed = false
		c.pressOn.lower(c.pressGen)
	}
	if c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
}

// dropQueueLocked discards every queued frame. c.mu must be held.
func (c *connection) dropQueueLocked() {
	c.queue = nil
	c.uncountLocked(c.qFrames, c.qBytes)
}

// overHighLocked reports whether the counted queue is above its high-water mark.
func (c *connection) overHighLocked() bool {
	o := &c.hub.opts
	return c.qFrames > o.SendQueueSize/2 || c.qBytes > o.SendQueueBytes/2
}

// waitForReaders is called by the handler before each inbound message: it waits while the
// session's readers are behind (at most producerWait) and while this connection's own queue
// is above its high-water mark.
func (c *connection) waitForReaders() {
	c.mu.Lock()
	s := c.sess // a conversation switch changes it under c.mu
	c.mu.Unlock()
	if s != nil {
		s.press.wait(c.ctx.Done())
	}
	for {
		c.mu.Lock()
		if !c.overHighLocked() || c.closing || c.done {
			c.mu.Unlock()
			return
		}
		if c.drained == nil {
			c.drained = make(chan struct{})
		}
		ch := c.drained
		c.mu.Unlock()
		select {
		case <-ch:
		case <-c.ctx.Done():
			return
		}
	}
}
