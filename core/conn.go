package core

import (
	"strconv"

	"github.com/chatwire/chatwire/internal/hubport"
)

// The upgraded connection and what an adapter learned from its request are defined in
// internal/hubport and documented for adapter authors in adapters/adapterkit.
type (
	wsConn   = hubport.Conn
	connInfo = hubport.ConnInfo
)

// WebSocket frame types the hub writes.
const (
	textMessage  = hubport.TextMessage
	closeMessage = hubport.CloseMessage
	pingMessage  = hubport.PingMessage
)

// formatCloseMessage returns a close frame's payload; the reason is cut to a whole UTF-8
// character within 123 bytes.
func formatCloseMessage(code int, reason string) []byte {
	return hubport.FormatCloseMessage(code, reason)
}

// CloseCode is a WebSocket close code (RFC 6455 section 7.4).
type CloseCode int

// WebSocket close codes the hub sends or reports (RFC 6455 section 7.4.1).
const (
	CloseNormal          CloseCode = 1000
	CloseGoingAway       CloseCode = 1001 // Hub.Shutdown: reconnect to another instance
	CloseProtocolError   CloseCode = 1002
	CloseAbnormal        CloseCode = 1006 // reported only: the connection dropped without a close frame
	ClosePolicyViolation CloseCode = 1008 // slow consumer, flooding client, expired credentials
	CloseMessageTooBig   CloseCode = 1009 // a frame above the hard size cap
	CloseInternalError   CloseCode = 1011
	CloseServiceRestart  CloseCode = 1012 // graceful drain before an instance stops
	CloseTryAgainLater   CloseCode = 1013 // the session's store is unreachable; retry with backoff
)

// String returns the code's number and RFC 6455 name, e.g. "1008 policy violation".
func (c CloseCode) String() string {
	n := strconv.Itoa(int(c))
	switch c {
	case CloseNormal:
		return n + " normal closure"
	case CloseGoingAway:
		return n + " going away"
	case CloseProtocolError:
		return n + " protocol error"
	case 1003:
		return n + " unsupported data"
	case 1005:
		return n + " no status"
	case CloseAbnormal:
		return n + " abnormal closure"
	case 1007:
		return n + " invalid payload"
	case ClosePolicyViolation:
		return n + " policy violation"
	case CloseMessageTooBig:
		return n + " message too big"
	case 1010:
		return n + " mandatory extension"
	case CloseInternalError:
		return n + " internal error"
	case CloseServiceRestart:
		return n + " service restart"
	case CloseTryAgainLater:
		return n + " try again later"
	}
	return n
}
