package adapterkit

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatwire/chatwire/core"
)

// Query parameters of the upgrade request.
const (
	QuerySessionID     = "sessionId"
	QueryLastMessageID = "lastMessageId"
	// QueryHistory = "all" asks for every retained message of the session when the client
	// has no lastMessageId yet (a page that was just loaded).
	QueryHistory = "history"
	// QueryEpoch is the history epoch lastMessageId belongs to (see ConnInfo.Epoch), as
	// the last HISTORY_RESET envelope named it.
	QueryEpoch = "epoch"
)

// MaxLastMessageIDLen is the longest lastMessageId accepted, in bytes.
const MaxLastMessageIDLen = 256

// Handshake is the part of an upgrade request the pre-upgrade checks read. Every field must
// be a copy the framework will not reuse.
type Handshake struct {
	// Host is the request's Host header.
	Host string
	// Origin is the Origin header, "" when absent.
	Origin string
	// Upgrade reports whether the request asks for a WebSocket upgrade (see
	// IsWebSocketUpgrade).
	Upgrade bool
	// RawQuery is the query string without its '?', exactly as the client sent it. Every
	// adapter hands over the raw string so that all of them parse it the same way.
	RawQuery string
}

// Policy is the host and origin policy of an endpoint; every adapter's Options carry its
// two fields under the same names.
type Policy struct {
	// AllowedOrigins lists the browser origins allowed to connect; see OriginAllowed.
	AllowedOrigins []string
	// AllowedHosts lists the Host header values the endpoint answers to; see HostAllowed.
	AllowedHosts []string
}

// Refusals of the pre-upgrade checks; PROTOCOL.md lists them.
var (
	errNotUpgrade  = &core.HandshakeError{Status: http.StatusUpgradeRequired, Body: "Expected WebSocket upgrade"}
	errHost        = &core.HandshakeError{Status: http.StatusForbidden, Body: "Host not allowed"}
	errOrigin      = &core.HandshakeError{Status: http.StatusForbidden, Body: "Origin not allowed"}
	errQuery       = &core.HandshakeError{Status: http.StatusBadRequest, Body: "Invalid query"}
	errSessionID   = &core.HandshakeError{Status: http.StatusBadRequest, Body: "Invalid sessionId", Err: core.ErrInvalidSessionID}
	errLastMessage = &core.HandshakeError{Status: http.StatusBadRequest, Body: "Invalid lastMessageId"}
	errHistory     = &core.HandshakeError{Status: http.StatusBadRequest, Body: "Invalid history"}
	errEpoch       = &core.HandshakeError{Status: http.StatusBadRequest, Body: "Invalid epoch"}
	errRefusal     = &core.HandshakeError{Status: http.StatusBadRequest, Body: "Invalid refusal"}
)

// allowAll as an AllowedOrigins or AllowedHosts entry allows every value.
const allowAll = "*"

// CheckHandshake applies the checks every adapter makes before upgrading, in this order:
// the request must ask for a WebSocket upgrade (else 426 "Expected WebSocket upgrade"), its
// Host must be allowed (else 403 "Host not allowed", see HostAllowed), its Origin must be
// allowed (else 403 "Origin not allowed", see OriginAllowed), its query string must parse
// (else 400 "Invalid query": a ';' separator or a malformed %-escape), and sessionId,
// lastMessageId, refusal, history and epoch must be valid (else 400 "Invalid sessionId",
// "Invalid lastMessageId", "Invalid refusal", "Invalid history", "Invalid epoch": longer
// than MaxLastMessageIDLen). It returns the ConnInfo with SessionID, LastMessageID,
// ReplayAll and Epoch set, and the parsed query.
func CheckHandshake(hs Handshake, policy Policy) (ConnInfo, url.Values, *core.HandshakeError) {
	if !hs.Upgrade {
		return ConnInfo{}, nil, errNotUpgrade
	}
	if !HostAllowed(hs.Host, policy.AllowedHosts) {
		return ConnInfo{}, nil, errHost
	}
	if !OriginAllowed(hs.Origin, hs.Host, policy.AllowedOrigins) {
		return ConnInfo{}, nil, errOrigin
	}
	query, err := url.ParseQuery(hs.RawQuery)
	if err != nil {
		return ConnInfo{}, nil, errQuery
	}
	sid := query.Get(QuerySessionID)
	if sid != "" && !core.ValidSessionID(sid) {
		return ConnInfo{}, nil, errSessionID
	}
	last := query.Get(QueryLastMessageID)
	if len(last) > MaxLastMessageIDLen {
		return ConnInfo{}, nil, errLastMessage
	}
	all := false
	if r := query.Get(QueryRefusal); r != "" && r != RefusalClose {
		return ConnInfo{}, nil, errRefusal
	}
	switch query.Get(QueryHistory) {
	case "":
	case "all":
		all = true
	default:
		return ConnInfo{}, nil, errHistory
	}
	epoch := query.Get(QueryEpoch)
	if len(epoch) > MaxLastMessageIDLen {
		return ConnInfo{}, nil, errEpoch
	}
	return ConnInfo{SessionID: sid, LastMessageID: last, ReplayAll: all, Epoch: epoch}, query, nil
}

// OriginAllowed is the Origin policy of every adapter. A request without an Origin header
// (a non-browser client) is allowed. With no allowlist, the Origin's host must equal the
// request's Host (same host, any scheme). With an allowlist, the Origin must equal one entry
// exactly (scheme, host and port; ASCII case-insensitive), or an entry must be "*" (allow
// every origin). Look-alikes such as https://example.com.evil.io and the opaque origin
// "null" match only if listed verbatim.
//
// The same-host default alone does not stop DNS rebinding: a page on evil.io whose name
// is made to resolve to the server sends Host: evil.io with Origin: http://evil.io, which
// match. List the origins, or the hosts (HostAllowed), to close that hole.
func OriginAllowed(origin, host string, allowed []string) bool {
	if origin == "" {
		return true
	}
	if len(allowed) > 0 {
		for _, a := range allowed {
			if a == allowAll || strings.EqualFold(a, origin) {
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

// HostAllowed is the Host policy of every adapter, the defence against DNS rebinding. With
// no allowlist every Host is allowed. Otherwise the request's Host must match an entry
// (ASCII case-insensitive): an entry with a port ("chat.example.com:8443") matches that
// host and port exactly, an entry without one ("chat.example.com", "localhost",
// "[::1]") matches the host on any port; "*" allows every host.
func HostAllowed(host string, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, a := range allowed {
		if a == allowAll || strings.EqualFold(a, host) {
			return true
		}
		if _, _, err := net.SplitHostPort(a); err != nil && strings.EqualFold(strings.Trim(a, "[]"), name) {
			return true
		}
	}
	return false
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
