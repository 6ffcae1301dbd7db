package core

import (
	"net/http"
	"time"
)

// FramePhase says where in its life a frame was observed.
type FramePhase int

// Phases reported to Options.OnFrameIn and Options.OnFrameOut.
const (
	// FrameReceived: an inbound frame was read; Bytes is its size (for an oversized frame,
	// the bytes read before it was discarded).
	FrameReceived FramePhase = iota + 1
	// FrameDecoded: an inbound frame decoded into Message.
	FrameDecoded
	// FrameHandled: the handler returned without error for Message.
	FrameHandled
	// FrameRejected: the frame was refused; Err says why (an *Error for client-visible
	// reasons) and Message is set when the frame had been decoded.
	FrameRejected
	// FrameSent: an outbound frame was written; Bytes is its size.
	FrameSent
	// FrameSendFailed: an outbound frame could not be written; Err says why.
	FrameSendFailed
)

// String returns the phase's name.
func (p FramePhase) String() string {
	switch p {
	case FrameReceived:
		return "received"
	case FrameDecoded:
		return "decoded"
	case FrameHandled:
		return "handled"
	case FrameRejected:
		return "rejected"
	case FrameSent:
		return "sent"
	case FrameSendFailed:
		return "send_failed"
	}
	return "unknown"
}

// FrameIn describes an inbound frame event. Message, when set, must not be modified or kept.
type FrameIn struct {
	Phase     FramePhase
	ConnID    string
	SessionID string
	Bytes     int
	Message   *Message
	Err       error
	// Duration is the handler's run time (FrameHandled and handler failures only).
	Duration time.Duration
}

// FrameOut describes an outbound frame event. Message must not be modified or kept.
type FrameOut struct {
	Phase     FramePhase
	ConnID    string
	SessionID string
	Bytes     int
	Message   *Message
	Err       error
}

// ConnEvent describes a connection for Options.OnConnect.
type ConnEvent struct {
	// Hub is the hub serving the connection (for Hub.CloseConn).
	Hub        *Hub
	ConnID     string
	SessionID  string
	RemoteAddr string
	Principal  any
	// Header is the upgrade request's headers (a copy; do not modify).
	Header http.Header
	// Replayed is the number of stored messages queued for this connection on connect.
	Replayed int
}

// DisconnectEvent describes a connection that ended, for Options.OnDisconnect.
type DisconnectEvent struct {
	ConnEvent
	// Code is the WebSocket close code: the one the hub sent, the one the peer sent, or
	// 1006 (abnormal closure) when the connection dropped without a close frame.
	Code     CloseCode
	Duration time.Duration
	// Reason is the reason this side gave in its close frame ("slow consumer",
	// "credentials expired", "policy violation", "server shutting down", or the reason
	// passed to Hub.CloseConn / Hub.Drain); "" when the peer closed or the connection dropped.
	Reason string
	// Err is the read error that ended the connection, nil for a clean close.
	Err error
}

// safeCall runs f and recovers a panic, which it logs.
func (h *Hub) safeCall(name string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			h.log.Error("chatwire: hook panicked", "hook", name, "panic", r)
		}
	}()
	f()
}

func (h *Hub) frameIn(ev FrameIn) {
	if h.opts.OnFrameIn != nil {
		h.safeCall("OnFrameIn", func() { h.opts.OnFrameIn(ev) })
	}
}

func (h *Hub) frameOut(ev FrameOut) {
	if h.opts.OnFrameOut != nil {
		h.safeCall("OnFrameOut", func() { h.opts.OnFrameOut(ev) })
	}
}
