package core

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// ErrPolicyViolation, returned (wrapped) by a Guard, closes the connection with 1008.
var ErrPolicyViolation = errors.New("chatwire: policy violation")

// Guard checks each decoded inbound message on the connection's reader before it is
// stored or handled (rate limits, per-message authorization). Returning nil lets the message
// through. Returning an *Error rejects the frame with that error envelope (for example
// CodeRateLimited); the message is neither stored nor handled and the connection stays
// open. Returning an error that wraps ErrPolicyViolation closes the connection with 1008.
// Any other error rejects the frame with a generic INTERNAL error envelope. Guards run on
// the reader goroutine and must not block for long.
type Guard func(ctx context.Context, req *Request) error

// AdmitRequest is what an Admit function sees of an upgrade request, framework-neutral so
// one implementation serves every adapter. Every field is a copy the adapter owns.
type AdmitRequest struct {
	// SessionID is the requested session ("" asks for a new one).
	SessionID string
	// LastMessageID is the requested replay position ("" for none).
	LastMessageID string
	// Query is the parsed query string.
	Query url.Values
	// Header holds the request's headers (cookies, Authorization, Sec-WebSocket-Protocol).
	Header http.Header
	// RemoteAddr is the client's address as the server saw it (host:port).
	RemoteAddr string
	// Principal is what the adapter's own Authenticate hook returned, if any.
	Principal any
}

// Admission is an Admit function's decision to let a connection in.
type Admission struct {
	// Principal replaces AdmitRequest.Principal when set; handlers see it in Request.Principal.
	Principal any
	// Subprotocol is the WebSocket subprotocol to select ("" for none). It must be one the
	// client offered, and never a credential: browsers that pass a token as a subprotocol
	// value must see a fixed protocol name echoed back.
	Subprotocol string
	// Expires, when set, is when the credentials expire: the hub closes the connection with
	// 1008 then.
	Expires time.Time
	// Release, when set, is called exactly once when the connection ends, or when the
	// upgrade fails after admission (connection caps use it to give their slot back).
	Release func()
}

// AdmitFunc decides before the upgrade whether a connection may be made (Options.Admit).
// An error refuses it: a *HandshakeError with its status and body, any other error with
// 403 Forbidden. It runs on every adapter, after the adapter's own checks (upgrade, host,
// origin, query) and its Authenticate hook, whose principal it sees in
// AdmitRequest.Principal.
type AdmitFunc func(ctx context.Context, req *AdmitRequest) (Admission, error)

// HandshakeError is a refusal before the upgrade: the client gets Status and the plain
// text Body, and the connection is not made. An AdmitFunc returns one to refuse with a
// status of its choice (any other error refuses with 403 "Forbidden"); the hub and the
// adapters use it for their own refusals (see PROTOCOL.md for the list).
type HandshakeError struct {
	// Status is the HTTP status code, e.g. http.StatusUnauthorized.
	Status int
	// Body is the refusal's text, sent as the response body (one line, no newline).
	Body string
	// Code is the machine-readable refusal code (CodeUnauthenticated, ...) that refusal
	// frames carry; empty means the one RefusalCode derives from Status.
	Code ErrorCode
	// Err is the underlying cause, if any (for errors.Is); it is never sent.
	Err error
}

// Error implements error.
func (e *HandshakeError) Error() string {
	if e.Err != nil {
		return http.StatusText(e.Status) + ": " + e.Body + ": " + e.Err.Error()
	}
	return http.StatusText(e.Status) + ": " + e.Body
}

// Unwrap returns the cause.
func (e *HandshakeError) Unwrap() error { return e.Err }

// admit runs Options.Admit (when set) on the request info describes and applies its
// Admission to info: the principal, the credentials' expiry and the release function. It
// returns the subprotocol the adapter must select ("" for none).
func (h *Hub) admit(ctx context.Context, info *connInfo, query url.Values) (subprotocol string, err error) {
	admit := h.opts.Admit
	if admit == nil {
		return "", nil
	}
	adm, err := admit(ctx, &AdmitRequest{
		SessionID: info.SessionID, LastMessageID: info.LastMessageID, Query: query,
		Header: info.Header, RemoteAddr: info.RemoteAddr, Principal: info.Principal,
	})
	if err != nil {
		return "", err
	}
	if adm.Principal != nil {
		info.Principal = adm.Principal
	}
	info.Expires = adm.Expires
	info.OnClose = adm.Release
	return adm.Subprotocol, nil
}

// CloseConn closes the connection with the given id (see ConnEvent.ConnID) with code and
// reason, after the frames already queued for it. It reports whether the connection was
// found. The look-up is a map access: the cost does not grow with the number of
// connections.
func (h *Hub) CloseConn(connID string, code CloseCode, reason string) bool {
	h.mu.Lock()
	target := h.conns[connID]
	h.mu.Unlock()
	if target == nil {
		return false
	}
	target.closeWith(code, reason, true)
	return true
}
