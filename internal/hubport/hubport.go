// Package hubport is the module-internal passage between package core and the adapter
// author's package adapters/adapterkit. core implements Hub for its *core.Hub and registers
// it here (Register, from core's init); adapterkit reaches a hub's adapter-only operations
// (admission, joining before the upgrade, serving an upgraded connection) through Open.
// This keeps those operations out of core's documentation, which is written for
// application authors, while adapterkit, a public package, offers them to adapter authors.
//
// It imports only the standard library. Everything here is safe for concurrent use.
package hubport

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"
)

// Conn is the part of an upgraded WebSocket connection a hub uses; adapterkit.Conn has the
// same method set and documents it.
type Conn interface {
	NextReader() (messageType int, r io.Reader, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetReadLimit(limit int64)
	SetPongHandler(h func(appData string) error)
	Close() error
}

// WebSocket frame types (RFC 6455), the values gorilla/websocket and fasthttp/websocket use.
const (
	TextMessage   = 1
	BinaryMessage = 2
	CloseMessage  = 8
	PingMessage   = 9
	PongMessage   = 10
)

// ConnInfo is what an adapter learned from the upgrade request; adapterkit.ConnInfo has the
// same fields (it converts to this type) and documents them.
type ConnInfo struct {
	SessionID     string
	LastMessageID string
	RemoteAddr    string
	ReplayAll     bool
	Epoch         string
	Header        http.Header
	Principal     any
	CloseCode     func(err error) (code int, ok bool)
	Expires       time.Time
	OnClose       func()
}

// Pending is a connection that has joined its session and waits for its upgrade. Exactly
// one of Serve or Abort takes effect.
type Pending interface {
	// Serve runs the connection on ws; the calling goroutine becomes its reader.
	Serve(ctx context.Context, ws Conn) error
	// Abort gives the connection up (its upgrade failed).
	Abort()
	// SessionID is the connection's session id (a new one when the request named none).
	SessionID() string
}

// Hub is what an adapter may do with a hub.
type Hub interface {
	// Admit runs the hub's Options.Admit on the request info describes and applies the
	// admission to info; it returns the subprotocol to select. An error is a refusal.
	Admit(ctx context.Context, info *ConnInfo, query url.Values) (subprotocol string, err error)
	// Prepare registers the connection and joins its session before the upgrade. An
	// error is a refusal (a *core.HandshakeError).
	Prepare(ctx context.Context, info ConnInfo) (Pending, error)
	// Serve is Prepare then Pending.Serve on an already upgraded connection, which it
	// closes with a close frame when Prepare refuses.
	Serve(ctx context.Context, ws Conn, info ConnInfo) error
	// Track registers one goroutine of the adapter's (a refusal being written) with the
	// hub, whose Shutdown then waits for it; done must be called exactly once when it ends.
	// ok is false once the hub is shutting down: the goroutine must not be started.
	Track() (done func(), ok bool)
}

var open func(hub any) Hub

// Register installs the function that Open uses; core calls it once, from its init.
func Register(f func(hub any) Hub) { open = f }

// Open returns the adapter's view of hub, a *core.Hub.
func Open(hub any) Hub { return open(hub) }

// MaxCloseReason is the longest close reason a close frame can carry, in bytes (a control
// frame's payload is at most 125 bytes, two of them the code).
const MaxCloseReason = 123

// FormatCloseMessage returns the payload of a close frame with the given code and reason.
// A reason longer than MaxCloseReason bytes is cut at the last whole UTF-8 character that
// fits, so the payload stays valid UTF-8 (RFC 6455 requires it of the reason).
func FormatCloseMessage(code int, reason string) []byte {
	if len(reason) > MaxCloseReason {
		cut := MaxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	b := make([]byte, 2+len(reason))
	b[0] = byte(code >> 8)
	b[1] = byte(code)
	copy(b[2:], reason)
	return b
}
