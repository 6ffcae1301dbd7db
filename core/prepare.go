package core

import (
	"context"
	"net/http"
	"sync"
)

// pending is a connection that has joined its session but is not upgraded yet: frames for
// it (a replay, compacted streams, live messages) are queued from the moment prepare
// returned, so the client misses nothing between the upgrade response and its first read.
// Exactly one of Serve or Abort takes effect. It implements hubport.Pending.
type pending struct {
	c    *connection
	once sync.Once
}

// prepare admits a connection before the upgrade: it gives it a session id when it has
// none, registers it with the hub and (with a Store) joins its session. Adapters reach it
// through adapterkit, after their pre-upgrade checks and before upgrading.
//
// A refusal is a *HandshakeError to answer instead of upgrading: 503 "Server shutting
// down" (wrapping ErrHubClosed), 400 "Invalid sessionId" (wrapping ErrInvalidSessionID) or
// 503 "Session unavailable" when the store cannot be reached. info.OnClose is called when
// prepare refuses, when Abort is called, or when Serve returns.
func (h *Hub) prepare(ctx context.Context, info connInfo) (*pending, error) {
	refuse := func(err error) (*pending, error) {
		if info.OnClose != nil {
			info.OnClose()
		}
		return nil, err
	}
	if info.SessionID == "" {
		info.SessionID = NewID()
	} else if !ValidSessionID(info.SessionID) {
		return refuse(&HandshakeError{Status: http.StatusBadRequest, Body: "Invalid sessionId", Err: ErrInvalidSessionID})
	}
	c := newConnection(h, nil, info)
	if h.store == nil {
		c.mu.Lock()
		c.queueWelcomeLocked(0, nil, "") // with a store, join queues it before the replay
		c.mu.Unlock()
	}
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return refuse(&HandshakeError{Status: http.StatusServiceUnavailable, Body: "Server shutting down", Code: CodeServerDraining, Err: ErrHubClosed})
	}
	h.conns[c.id] = c
	h.wg.Add(1)
	h.mu.Unlock()
	if err := c.joinDirectory(ctx); err != nil {
		h.log.Warn("chatwire: conversation refused", "session", info.SessionID, "err", err)
		c.abandon()
		return refuse(err)
	}
	if h.store != nil {
		replayed, err := c.join(ctx)
		if err != nil {
			h.log.Warn("chatwire: session unavailable", "session", info.SessionID, "err", err)
			c.abandon()
			return refuse(&HandshakeError{Status: http.StatusServiceUnavailable, Body: "Session unavailable", Code: CodeSessionUnavailable, Err: err})
		}
		c.replayed = replayed
	}
	if err := c.queueDirectory(ctx); err != nil {
		h.log.Warn("chatwire: conversation list unavailable", "session", info.SessionID, "err", err)
		c.abandon()
		return refuse(err)
	}
	return &pending{c: c}, nil
}

// Serve runs the connection on ws, the upgraded connection: the calling goroutine becomes
// its reader and Serve returns when the connection has ended.
func (p *pending) Serve(ctx context.Context, ws wsConn) error {
	err := ErrConnClosed
	p.once.Do(func() {
		c := p.c
		h := c.hub
		defer func() {
			if c.info.OnClose != nil {
				c.info.OnClose()
			}
		}()
		defer h.wg.Done()
		defer h.unregister(c)
		err = c.run(ctx, ws)
	})
	return err
}

// Abort gives up a prepared connection whose upgrade failed.
func (p *pending) Abort() {
	p.once.Do(func() {
		p.c.abandon()
		if p.c.info.OnClose != nil {
			p.c.info.OnClose()
		}
	})
}

// SessionID returns the connection's session id (a new one when the request named none).
func (p *pending) SessionID() string { return p.c.info.SessionID }

// abandon undoes prepare for a connection that will never be served.
func (c *connection) abandon() {
	c.mu.Lock()
	c.closing, c.done = true, true
	c.dropQueueLocked()
	c.pending = nil
	c.mu.Unlock()
	c.leaveDirectory()
	if c.sess != nil {
		c.sess.leave(c)
		c.hub.releaseSession(c.sess)
	}
	c.hub.unregister(c)
	c.hub.wg.Done()
}

func (h *Hub) unregister(c *connection) {
	h.mu.Lock()
	delete(h.conns, c.id)
	h.mu.Unlock()
}
