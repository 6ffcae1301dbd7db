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

// AdmitFunc decides before the upgrade whether a connection may be made. An error refuses
// it: a *HandshakeError with its status and body, any other error with 403 Forbidden.
type AdmitFunc func(ctx context.Context, req *AdmitRequest) (Admission, error)

// Admit runs admit (when it is not nil) on the request info describes and applies its
// Admission to info: the principal, the credentials' expiry and the release function. It
// returns the subprotocol the adapter must select ("" for none). On a refusal, answer with
// RefusalOf(err) and do not upgrade. Adapters call it after their own authentication (which
// sets info.Principal) and before Hub.Prepare.
func (info *ConnInfo) Admit(ctx context.Context, admit AdmitFunc, query url.Values) (subprotocol string, err error) {
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

// RefusalOf returns the HTTP status and body an adapter answers when an AdmitFunc refuses
// with err: a *HandshakeError's own, else 403 "Forbidden".
func RefusalOf(err error) (status int, body string) {
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Status, he.Body
	}
	return http.StatusForbidden, "Forbidden"
}

// CloseConn closes the connection with the given id (see ConnEvent.ConnID) with code and
// reason, after the frames already queued for it. It reports whether the connection was
// found.
func (h *Hub) CloseConn(connID string, code int, reason string) bool {
	h.mu.Lock()
	var target *connection
	for c := range h.conns {
		if c.id == connID {
			target = c
			break
		}
	}
	h.mu.Unlock()
	if target == nil {
		return false
	}
	target.closeWith(code, reason, true)
	return true
}
