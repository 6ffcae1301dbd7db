package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gorilla/websocket"
)

// closeGrace is how long Close waits for the server to answer the client's close frame.
const closeGrace = time.Second

// Client is a chatwire connection that stays up: it reconnects by itself and resumes where
// it left off. Create one with Dial; read its Events until the channel is closed; stop it
// with Close or by ending the context given to Dial.
//
// Its methods are safe for concurrent use.
type Client struct {
	opts   Options
	base   *url.URL
	dialer *websocket.Dialer
	log    *slog.Logger

	ctx    context.Context // the client's lifetime; its cause says why it stopped
	cancel context.CancelCauseFunc
	events chan Event
	done   chan struct{} // closed when run has returned

	recv *receiver // owned by the goroutine reading the current connection

	mu        sync.Mutex
	conn      *conn         // the open connection; nil while disconnected
	ready     chan struct{} // closed when conn is set; replaced when it is cleared
	lastID    string
	epoch     string // of lastID's history, from the welcome or a HISTORY_RESET (sent as ?epoch=)
	sessionID string // "" until the first welcome frame when none was asked for
	connID    string // the current connection's id, from its welcome frame
	err       error
	calls     map[string]chan callResult // conversation calls waiting for their answer, by ref
}

// conn is one WebSocket connection. Writes are serialised by wmu; the reader is the
// goroutine started by serve. Close and WriteControl may be called from any goroutine.
type conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	opened time.Time
	first  []byte // a first frame that was not a welcome (a server without one), read first
}

// result says how a connection ended.
type result struct {
	code int   // close code; 1006 when it dropped without one
	err  error // *CloseError, a network error, or the client's stop cause
}

// Dial connects to a chatwire endpoint (a ws:// or wss:// URL; http:// and https:// are
// accepted and converted) and returns a Client that keeps the connection up until Close is
// called or ctx ends. ctx also bounds this first connection attempt; Dial returns its error
// (a *HandshakeError when the server refused the upgrade, a *RefusalError when it refused
// over the WebSocket) without retrying, so that a wrong
// URL or credentials fail fast. Once connected, the client reconnects by itself.
func Dial(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	o := opts.withDefaults()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("chatwire: invalid URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("chatwire: URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	q := u.Query()
	sid := o.SessionID
	if sid == "" {
		sid = q.Get("sessionId")
	}
	if sid != "" && !core.ValidSessionID(sid) {
		return nil, core.ErrInvalidSessionID
	}
	last := o.LastMessageID
	if last == "" {
		last = q.Get("lastMessageId")
	}
	epoch := ""
	if last != "" {
		epoch = q.Get("epoch") // the epoch lastMessageId belongs to, when the URL names one
	}
	c := &Client{
		opts:      o,
		base:      u,
		sessionID: sid,
		dialer: &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: o.HandshakeTimeout,
			TLSClientConfig:  o.TLSConfig,
			NetDialContext:   o.NetDialContext,
		},
		log:    o.Logger,
		events: make(chan Event, o.EventBuffer),
		done:   make(chan struct{}),
		recv:   newReceiver(o.DedupeWindow),
		ready:  make(chan struct{}),
		lastID: last,
		epoch:  epoch,
	}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	cn, err := c.dial(c.ctx)
	if err != nil {
		c.cancel(err)
		return nil, err
	}
	c.setConn(cn)
	go c.run(cn) // owned by the client: Close and Done wait for it
	return c, nil
}

// Events returns the channel of events. Read it until it is closed (after the client
// stopped): the client does not read from the server while the channel is full, so a
// caller that stops reading stalls the connection (the server may then close it as a slow
// reader; the client resumes when reading goes on).
func (c *Client) Events() <-chan Event { return c.events }

// SessionID returns the session the client joins: Options.SessionID, or the one the server
// named in its welcome frame (PROTOCOL.md, "The welcome frame") when none was asked for.
// Every reconnect names it. It is set when Dial returns.
func (c *Client) SessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// ConnectionID returns the server's id of the current (or last) connection, from its
// welcome frame: the ConnID the server's logs and hooks use. "" with a server that sends no
// welcome.
func (c *Client) ConnectionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connID
}

// LastMessageID returns the id of the last stored message the client received, which the
// next connection sends as lastMessageId ("" before the first one).
func (c *Client) LastMessageID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID
}

// Epoch returns the history epoch the client's LastMessageID belongs to, as the last welcome
// frame or HISTORY_RESET named it ("" before any): the next connection sends it with
// lastMessageId, so that a server whose history was lost meanwhile tells the client so.
func (c *Client) Epoch() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Send sends m and returns once it was written to a connection. While the client is
// reconnecting it waits for the connection, until ctx ends. Empty fields are completed: ID
// with a random UUID, Type with "message", Role with "user" (the server records every
// client message as the user's anyway) and Timestamp with the current time.
//
// In session mode the server echoes every stored message to the whole session, the sender
// included: an EventMessage with the same ID confirms that it was stored. A frame written
// just before a connection drops may be lost; to be sure, resend the same message (same
// ID) after a reconnect when its echo has not arrived: the server stores and handles a
// message id only once.
func (c *Client) Send(ctx context.Context, m core.Message) error {
	if m.ID == "" {
		m.ID = core.NewID()
	}
	if m.Type == "" {
		m.Type = core.TypeMessage
	}
	if m.Role == "" {
		m.Role = core.RoleUser
	}
	if m.Timestamp == 0 {
		m.Timestamp = envelope.NowMillis()
	}
	if !m.Type.Valid() {
		return fmt.Errorf("chatwire: invalid message type %q", m.Type)
	}
	if len(m.Metadata) > 0 && !isJSONObject(m.Metadata) {
		return errors.New("chatwire: message metadata is not a JSON object")
	}
	return c.write(ctx, envelope.AppendMessage(nil, &m))
}

// SendText sends a user chat message with the given text and returns it (its ID identifies
// the server's echo). See Send.
func (c *Client) SendText(ctx context.Context, text string) (core.Message, error) {
	m := core.Message{ID: core.NewID(), Type: core.TypeMessage, Role: core.RoleUser, Content: text, Timestamp: envelope.NowMillis()}
	return m, c.Send(ctx, m)
}

// CancelStream asks the server to stop the stream with the given id (any connection of the
// session may ask, on any instance). The stream then ends with state "cancelled", reported
// as an EventStreamEnd event; cancelling a stream that has already ended does nothing.
func (c *Client) CancelStream(ctx context.Context, streamID string) error {
	if streamID == "" {
		return errors.New("chatwire: empty stream id")
	}
	frame, err := json.Marshal(cancelFrame{Type: core.TypeSystem, Content: "cancel", Metadata: cancelMeta{Stream: cancelStream{ID: streamID, Action: "cancel"}}})
	if err != nil {
		return err
	}
	return c.write(ctx, frame)
}

type cancelFrame struct {
	Type     core.Type  `json:"type"`
	Content  string     `json:"content"`
	Metadata cancelMeta `json:"metadata"`
}

type cancelMeta struct {
	Stream cancelStream `json:"stream"`
}

type cancelStream struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

// Close stops the client: it closes the connection with 1000 (normal closure), stops
// reconnecting and waits until every goroutine of the client has returned and the Events
// channel is closed. Later calls do nothing. It always returns nil.
func (c *Client) Close() error {
	c.cancel(ErrClosed)
	<-c.done
	return nil
}

// Done returns a channel that is closed once the client has stopped (after Close, when the
// Dial context ended, or on a permanent failure) and all its goroutines have returned.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped: nil while it runs, ErrClosed after Close, the Dial
// context's cause when it ended, a *HandshakeError or *RefusalError the server refused a
// reconnect with, a
// *CloseError with a protocol-error close code, or an error wrapping ErrGaveUp.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// run keeps the client connected until its context ends or a permanent failure.
func (c *Client) run(cn *conn) {
	defer close(c.done)
	defer close(c.events)
	attempt := 0
	if !c.emit(Event{Kind: EventState, State: StateConnected}) {
		c.serve(cn) // closes cn
		c.clearConn()
		c.stop(context.Cause(c.ctx))
		return
	}
	for {
		res := c.serve(cn)
		c.clearConn()
		if c.ctx.Err() != nil {
			c.stop(context.Cause(c.ctx))
			return
		}
		if permanentClose(res.code) {
			c.stop(res.err)
			return
		}
		if time.Since(cn.opened) >= stableAfter {
			attempt = 0
		}
		c.log.Debug("chatwire client: connection lost", "session", c.SessionID(), "code", res.code, "err", res.err)
		code, cause := res.code, res.err
		for {
			if c.opts.MaxAttempts > 0 && attempt >= c.opts.MaxAttempts {
				c.stop(fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, attempt, cause))
				return
			}
			d := c.opts.Backoff.Delay(attempt)
			attempt++
			if !c.emit(Event{Kind: EventState, State: StateWaiting, Attempt: attempt, Delay: d, CloseCode: code, Err: cause}) || !c.sleep(d) ||
				!c.emit(Event{Kind: EventState, State: StateConnecting, Attempt: attempt}) {
				c.stop(context.Cause(c.ctx))
				return
			}
			next, err := c.dial(c.ctx)
			if err == nil {
				cn = next
				break
			}
			if c.ctx.Err() != nil {
				c.stop(context.Cause(c.ctx))
				return
			}
			var he *HandshakeError
			var re *RefusalError
			if (errors.As(err, &he) && he.Permanent()) || (errors.As(err, &re) && re.Permanent()) {
				c.stop(err)
				return
			}
			code, cause = 0, err
		}
		c.setConn(cn)
		c.log.Debug("chatwire client: reconnected", "session", c.SessionID(), "attempt", attempt)
		if !c.emit(Event{Kind: EventState, State: StateConnected, Attempt: attempt}) {
			c.serve(cn)
			c.clearConn()
			c.stop(context.Cause(c.ctx))
			return
		}
	}
}

// permanentClose reports close codes after which reconnecting would only repeat the
// failure: the server says this client speaks the protocol wrongly, or refused it for a
// reason that will not change by itself (4400-4499 but 4408 and 4429; PROTOCOL.md,
// "Refusals").
func permanentClose(code int) bool {
	switch code {
	case websocket.CloseProtocolError, websocket.CloseUnsupportedData,
		websocket.CloseInvalidFramePayloadData, websocket.CloseMandatoryExtension:
		return true
	}
	return code >= 4400 && code <= 4499 && envelope.RefusalPermanent(code)
}

// stop records why the client stopped and tries to tell the caller.
func (c *Client) stop(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	c.cancel(err)
	select {
	case c.events <- Event{Kind: EventState, State: StateClosed, Err: err}:
	default:
	}
}

// emit delivers ev, waiting for room in the channel unless the client stops.
func (c *Client) emit(ev Event) bool {
	select {
	case c.events <- ev:
		return true
	case <-c.ctx.Done():
		return false
	}
}

func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// dial makes one connection attempt, resuming after the last stored message seen.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	u := *c.base
	q := u.Query()
	if sid := c.SessionID(); sid != "" {
		q.Set("sessionId", sid)
	} else {
		q.Del("sessionId") // the server makes one and names it in the welcome frame
	}
	q.Del("history")
	q.Del("epoch")
	if last, epoch := c.LastMessageID(), c.Epoch(); last != "" {
		q.Set("lastMessageId", last)
		if epoch != "" {
			q.Set("epoch", epoch)
		}
	} else {
		q.Del("lastMessageId")
		if c.opts.History {
			q.Set("history", "all")
		}
	}
	u.RawQuery = q.Encode()
	ws, resp, err := c.dialer.DialContext(ctx, u.String(), c.opts.Header)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			if errors.Is(err, websocket.ErrBadHandshake) {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				return nil, &HandshakeError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(body))}
			}
		}
		return nil, fmt.Errorf("chatwire: dial: %w", err)
	}
	ws.SetReadLimit(c.opts.ReadLimit)
	cn := &conn{ws: ws, opened: time.Now()}
	if err := c.welcome(ctx, cn); err != nil {
		_ = ws.Close()
		return nil, err
	}
	return cn, nil
}

// welcome reads the first frame of a new connection, within the handshake timeout. A
// welcome frame names the session (adopted when the client asked for none) and the
// connection. A refusal (an error envelope whose code is a refusal, then a 44xx/45xx close:
// PROTOCOL.md, "Refusals") is returned as a *RefusalError. Any other first frame comes from
// a server that sends no welcome: it is kept for the reader, and a client that named no
// session names a random one from now on.
func (c *Client) welcome(ctx context.Context, cn *conn) error {
	deadline := time.Now().Add(c.opts.HandshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	defer cn.ws.SetReadDeadline(time.Time{}) // the reader sets its own (IdleTimeout)
	for {
		_ = cn.ws.SetReadDeadline(deadline)
		_, data, err := cn.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if r := refusalOfClose(ce.Code, ce.Text, ""); r != nil {
					return r
				}
				return &CloseError{Code: ce.Code, Reason: ce.Text}
			}
			return fmt.Errorf("chatwire: read the welcome frame: %w", err)
		}
		var m core.Message
		if err := envelope.Decode(data, &m); errors.Is(err, envelope.ErrHeartbeat) {
			continue
		} else if err == nil {
			if w, ok := envelope.WelcomeOf(&m); ok {
				c.mu.Lock()
				if c.sessionID == "" || c.sessionID != w.SessionID {
					c.sessionID = w.SessionID // the server's word is what it serves
				}
				c.connID = w.ConnectionID
				if w.Epoch != "" {
					c.epoch = w.Epoch // the history that follows (a HISTORY_RESET may say more)
				}
				c.mu.Unlock()
				return nil
			}
			if r := refusalOfEnvelope(&m); r != nil {
				return c.finishRefusal(cn, r)
			}
		}
		cn.first = data
		c.mu.Lock()
		if c.sessionID == "" {
			c.sessionID = core.NewID()
		}
		c.connID = ""
		c.mu.Unlock()
		return nil
	}
}

func (c *Client) setConn(cn *conn) {
	c.mu.Lock()
	c.conn = cn
	close(c.ready)
	c.mu.Unlock()
}

func (c *Client) clearConn() {
	c.mu.Lock()
	if c.conn != nil {
		c.conn = nil
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
}

// serve reads cn on a goroutine it owns until the connection ends or the client stops; in
// the latter case it closes the connection with 1000 first. cn is closed when it returns.
func (c *Client) serve(cn *conn) result {
	done := make(chan result, 1)
	go func() { done <- c.read(cn) }()
	finished := false
	select {
	case res := <-done:
		if c.ctx.Err() == nil {
			_ = cn.ws.Close()
			return res
		}
		finished = true
	case <-c.ctx.Done():
	}
	// The client is stopping: say goodbye and give the server a moment to answer.
	_ = cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeGrace))
	if !finished {
		t := time.NewTimer(closeGrace)
		select {
		case <-done:
		case <-t.C:
			_ = cn.ws.Close() // the reader returns at once
			<-done
		}
		t.Stop()
	}
	_ = cn.ws.Close()
	return result{code: websocket.CloseNormalClosure, err: context.Cause(c.ctx)}
}

// read reads frames until the connection ends (or the client stops while an event waits
// for room) and turns them into events.
func (c *Client) read(cn *conn) result {
	ws := cn.ws
	idle := c.opts.IdleTimeout
	extend := func() {
		if idle > 0 {
			_ = ws.SetReadDeadline(time.Now().Add(idle))
		}
	}
	// Answer pings as gorilla does by default, and count them as a sign of life.
	ws.SetPingHandler(func(data string) error {
		extend()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.opts.WriteTimeout))
		var ne interface{ Timeout() bool }
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil
		}
		return err
	})
	for {
		extend()
		var data []byte
		var err error
		if cn.first != nil {
			data, cn.first = cn.first, nil
		} else {
			_, data, err = ws.ReadMessage()
		}
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return result{code: ce.Code, err: &CloseError{Code: ce.Code, Reason: ce.Text}}
			}
			return result{code: websocket.CloseAbnormalClosure, err: err}
		}
		var m core.Message
		if err := envelope.Decode(data, &m); err != nil {
			if !errors.Is(err, envelope.ErrHeartbeat) {
				c.log.Debug("chatwire client: undecodable frame ignored", "session", c.SessionID(), "bytes", len(data))
			}
			continue
		}
		if w, ok := envelope.WelcomeOf(&m); ok {
			c.midWelcome(w) // a conversation switch: what follows is the new session's
			continue
		}
		if cm, ok := conversationOf(&m); ok {
			if ev, ok := c.conversationEvent(m, cm); ok && !c.emit(ev) {
				return result{err: context.Cause(c.ctx)}
			}
			continue
		}
		ev, ok, stored := c.recv.handle(m, c.opts.DedupeWindow)
		switch {
		case stored:
			c.mu.Lock()
			c.lastID = m.ID
			c.mu.Unlock()
		case ok && ev.Kind == EventHistoryReset:
			c.mu.Lock()
			c.lastID, c.epoch = "", parseMeta(m.Metadata).Epoch
			c.mu.Unlock()
		}
		if ok && !c.emit(ev) {
			return result{err: context.Cause(c.ctx)}
		}
	}
}

// write writes one frame on the current connection, waiting for one while reconnecting.
func (c *Client) write(ctx context.Context, data []byte) error {
	for {
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		c.mu.Lock()
		cn, ready := c.conn, c.ready
		c.mu.Unlock()
		if cn != nil {
			return cn.write(ctx, data, c.opts.WriteTimeout)
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ctx.Done():
			return ErrClosed
		}
	}
}

func (cn *conn) write(ctx context.Context, data []byte, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = cn.ws.SetWriteDeadline(deadline)
	if err := cn.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		// A failed write leaves the connection unusable: drop it so the client reconnects.
		_ = cn.ws.Close()
		return fmt.Errorf("chatwire: write: %w", err)
	}
	return nil
}

func isJSONObject(b []byte) bool {
	for _, ch := range b {
		switch ch {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return json.Valid(b)
		}
		return false
	}
	return false
}
