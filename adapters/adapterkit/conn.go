package adapterkit

import (
	"io"
	"time"

	"github.com/chatwire/chatwire/internal/hubport"
)

// WebSocket frame types (RFC 6455), the values gorilla/websocket and fasthttp/websocket use.
const (
	TextMessage   = hubport.TextMessage
	BinaryMessage = hubport.BinaryMessage
	CloseMessage  = hubport.CloseMessage
	PingMessage   = hubport.PingMessage
	PongMessage   = hubport.PongMessage
)

// Conn is the part of an upgraded WebSocket connection the hub uses. Both
// *github.com/gorilla/websocket.Conn and *github.com/fasthttp/websocket.Conn satisfy it, so
// an adapter passes its upgraded connection straight to Pending.Serve.
//
// The hub calls the read methods (NextReader, SetReadDeadline, SetReadLimit, SetPongHandler)
// from one goroutine and the write methods (WriteMessage, WriteControl, SetWriteDeadline) from
// one other goroutine at a time; Close may be called from any goroutine and must make a
// blocked read or write return.
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

// MaxCloseReason is the longest close reason a close frame can carry, in bytes.
const MaxCloseReason = hubport.MaxCloseReason

// FormatCloseMessage returns the payload of a close frame with the given code and reason.
// A reason longer than MaxCloseReason bytes is cut at the last whole UTF-8 character that
// fits, so the payload stays valid UTF-8.
func FormatCloseMessage(code int, reason string) []byte {
	return hubport.FormatCloseMessage(code, reason)
}
