package adapterkit

import (
	"io"
	"net"
	"time"

	"github.com/chatwire/chatwire/internal/hubport"
)

// WebSocket frame types (RFC 6455), the values gorilla/websocket and fasthttp/websocket use.
const (
	TextMessage   = 1
	BinaryMessage = 2
	CloseMessage  = 8
	PingMessage   = 9
	PongMessage   = 10
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
const MaxCloseReason = 123

// FormatCloseMessage returns the payload of a close frame with the given code and reason.
// A reason longer than MaxCloseReason bytes is cut at the last whole UTF-8 character that
// fits, so the payload stays valid UTF-8.
func FormatCloseMessage(code int, reason string) []byte {
	return hubport.FormatCloseMessage(code, reason)
}

// ClosingSocket returns ws with a Close that closes sock, the network connection under it,
// at once. Use it when the framework hands over an upgraded connection whose own Close is
// deferred (fasthttp's hijacked net.Conn ignores Close until the hijack handler returns):
// the hub closes connections from other goroutines (Shutdown, Drain, a slow consumer) and
// needs a blocked read or write to return.
//
// When sock is a net.Conn, the result also has NetConn returning it, as gorilla's and
// fasthttp's connections do: the hub then writes queued frames to the socket directly, in
// one write call per batch, and may write a reply on the goroutine that produced it.
func ClosingSocket(ws Conn, sock io.Closer) Conn {
	if nc, ok := sock.(net.Conn); ok {
		return closingNetSocket{closingSocket{ws, sock}, nc}
	}
	return closingSocket{ws, sock}
}

type closingSocket struct {
	Conn
	sock io.Closer
}

func (c closingSocket) Close() error { return c.sock.Close() }

// closingNetSocket is a closingSocket whose socket is a net.Conn.
type closingNetSocket struct {
	closingSocket
	nc net.Conn
}

// NetConn returns the socket under the connection.
func (c closingNetSocket) NetConn() net.Conn { return c.nc }
