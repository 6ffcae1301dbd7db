package core

import (
	"io"
	"time"
)

// WebSocket frame types (RFC 6455), the values gorilla/websocket and fasthttp/websocket use.
const (
	TextMessage   = 1
	BinaryMessage = 2
	CloseMessage  = 8
	PingMessage   = 9
	PongMessage   = 10
)

// WebSocket close codes the hub sends (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001 // Hub.Shutdown: reconnect to another instance
	CloseProtocolError   = 1002
	ClosePolicyViolation = 1008 // slow consumer, flooding client, expired credentials
	CloseMessageTooBig   = 1009 // a frame above the hard size cap
	CloseInternalError   = 1011
	CloseServiceRestart  = 1012 // graceful drain before an instance stops
	CloseTryAgainLater   = 1013 // the session's store is unreachable; retry with backoff
)

// Conn is the part of a WebSocket connection the hub uses. Both
// *github.com/gorilla/websocket.Conn and *github.com/fasthttp/websocket.Conn satisfy it, so an
// adapter passes its upgraded connection straight to Hub.Serve.
//
// The hub calls the read methods (NextReader, SetReadDeadline, SetReadLimit, SetPongHandler)
// from one goroutine and the write methods (WriteMessage, WriteControl, SetWriteDeadline) from
// one other goroutine at a time; Close may be called from any goroutine.
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

// FormatCloseMessage returns the payload of a close frame with the given code and reason.
// The reason is cut to fit the 123 bytes a control frame allows.
func FormatCloseMessage(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	b := make([]byte, 2+len(reason))
	b[0] = byte(code >> 8)
	b[1] = byte(code)
	copy(b[2:], reason)
	return b
}
