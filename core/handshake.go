package core

import (
	"net/http"
	"net/url"
	"strings"
)

// Query parameters of the upgrade request.
const (
	QuerySessionID     = "sessionId"
	QueryLastMessageID = "lastMessageId"
	// QueryHistory = "all" asks for every retained message of the session when the client
	// has no lastMessageId yet (a page that was just loaded).
	QueryHistory = "history"
)

// MaxLastMessageIDLen is the longest lastMessageId accepted, in bytes.
const MaxLastMessageIDLen = 256

// Handshake is the part of an upgrade request the pre-upgrade checks read. Adapters fill it
// from their framework's request; every field must be a copy the framework will not reuse.
type Handshake struct {
	// Host is the request's Host header.
	Host string
	// Origin is the Origin header, "" when absent.
	Origin string
	// Upgrade reports whether the request asks for a WebSocket upgrade.
	Upgrade bool
	// Query is the parsed query string.
	Query url.Values
}

// HandshakeError is a refusal before the upgrade: adapters answer with Status and the plain
// text Body and do not upgrade.
type HandshakeError struct {
	Status int
	Body   string
	// Code is the machine-readable refusal code (CodeUnauthenticated, ...); empty means the
	// one RefusalCode derives from Status.
	Code string
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

// Refusals shared by every adapter.
var (
	errNotUpgrade  = &HandshakeError{Status: http.StatusUpgradeRequired, Body: "Expected WebSocket upgrade"}
	errOrigin      = &HandshakeError{Status: http.StatusForbidden, Body: "Origin not allowed"}
	errSessionID   = &HandshakeError{Status: http.StatusBadRequest, Body: "Invalid sessionId"}
	errLastMessage = &HandshakeError{Status: http.StatusBadRequest, Body: "Invalid lastMessageId"}
	errHistory     = &HandshakeError{Status: http.StatusBadRequest, Body: "Invalid history"}
	errRefusal     = &HandshakeError{Status: http.StatusBadRequest, Body: "Invalid refusal"}
)

// allowAllOrigins as an AllowedOrigins entry allows every Origin.
const allowAllOrigins = "*"

// CheckHandshake applies the checks every adapter makes before upgrading, in this order:
// the request must ask for a WebSocket upgrade (else 426 "Expected WebSocket upgrade"), its
// Origin must be allowed (else 403, see OriginAllowed), and sessionId / lastMessageId must be
// valid (else 400). It returns the ConnInfo to pass to Hub.Serve, with SessionID and
// LastMessageID set; the adapter adds RemoteAddr, Header and Principal.
func CheckHandshake(hs Handshake, allowedOrigins []string) (ConnInfo, *HandshakeError) {
	if !hs.Upgrade {
		return ConnInfo{}, errNotUpgrade
	}
	if !OriginAllowed(hs.Origin, hs.Host, allowedOrigins) {
		return ConnInfo{}, errOrigin
	}
	sid := hs.Query.Get(QuerySessionID)
	if sid != "" && !ValidSessionID(sid) {
		return ConnInfo{}, errSessionID
	}
	last := hs.Query.Get(QueryLastMessageID)
	if len(last) > MaxLastMessageIDLen {
		return ConnInfo{}, errLastMessage
	}
	if r := hs.Query.Get(QueryRefusal); r != "" && r != RefusalClose {
		return ConnInfo{}, errRefusal
	}
	all := false
	switch hs.Query.Get(QueryHistory) {
	case "":
	case "all":
		all = true
	default:
		return ConnInfo{}, errHistory
	}
	return ConnInfo{SessionID: sid, LastMessageID: last, ReplayAll: all}, nil
}

// OriginAllowed is the Origin policy of every adapter. A request without an Origin header
// (a non-browser client) is allowed. With no allowlist, the Origin's host must equal the
// request's Host (same host, any scheme). With an allowlist, the Origin must equal one entry
// exactly (scheme, host and port; ASCII case-insensitive), or an entry must be "*" (allow
// every origin). Look-alikes such as https://example.com.evil.io and the opaque origin
// "null" match only if listed verbatim.
func OriginAllowed(origin, host string, allowed []string) bool {
	if origin == "" {
		return true
	}
	if len(allowed) > 0 {
		for _, a := range allowed {
			if a == allowAllOrigins || strings.EqualFold(a, origin) {
				return true
			}
		}
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, host)
}

// IsWebSocketUpgrade reports whether the Connection and Upgrade header values ask for a
// WebSocket upgrade (Connection contains the token "upgrade", Upgrade contains "websocket").
func IsWebSocketUpgrade(connection, upgrade string) bool {
	return hasToken(connection, "upgrade") && hasToken(upgrade, "websocket")
}

func hasToken(v, token string) bool {
	for _, part := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(part), token) {
			return true
		}
	}
	return false
}
