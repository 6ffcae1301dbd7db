package middleware

import (
	"net/http"
	"strings"

	"github.com/chatwire/chatwire/core"
)

// Source extracts a credential from an upgrade request. ok is false when the request
// carries none where the Source looks. Sources never log or keep what they extract.
type Source func(req *core.AdmitRequest) (token string, ok bool)

// FromBearer reads the token of an "Authorization: Bearer <token>" header (the scheme is
// case-insensitive). Browsers cannot set it on a WebSocket upgrade; other clients can.
func FromBearer() Source {
	return func(req *core.AdmitRequest) (string, bool) {
		v := req.Header.Get("Authorization")
		scheme, token, found := strings.Cut(v, " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		token = strings.TrimSpace(token)
		return token, token != ""
	}
}

// FromCookie reads the cookie called name, which browsers send with the upgrade request
// (set it HttpOnly, Secure and SameSite=Strict or Lax, and keep the adapter's origin check
// on: a cookie is sent whichever page opens the socket).
func FromCookie(name string) Source {
	return func(req *core.AdmitRequest) (string, bool) {
		c, err := (&http.Request{Header: req.Header}).Cookie(name)
		if err != nil || c.Value == "" {
			return "", false
		}
		return c.Value, true
	}
}

// FromQuery reads the query parameter param (new WebSocket(url + "?token=…")). Query
// strings end up in access logs and proxies: log URLs only through RedactURL or RedactQuery,
// and prefer short-lived tokens here.
func FromQuery(param string) Source {
	return func(req *core.AdmitRequest) (string, bool) {
		v := req.Query.Get(param)
		return v, v != ""
	}
}

// FromSubprotocol reads a token offered as a WebSocket subprotocol "<prefix><token>", as in
// new WebSocket(url, ["chatwire", "chatwire.token." + token]). The token must consist of
// characters allowed in a subprotocol (base64url and JWTs qualify). The token is never
// selected as the response's subprotocol: Auth selects its fixed Subprotocol name instead,
// which the client must offer too.
func FromSubprotocol(prefix string) Source {
	return func(req *core.AdmitRequest) (string, bool) {
		for _, p := range offeredProtocols(req.Header) {
			if token, ok := strings.CutPrefix(p, prefix); ok && token != "" {
				return token, true
			}
		}
		return "", false
	}
}

// offeredProtocols returns the subprotocols listed in the Sec-WebSocket-Protocol headers.
func offeredProtocols(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// offers reports whether the request offers the subprotocol name.
func offers(h http.Header, name string) bool {
	for _, p := range offeredProtocols(h) {
		if p == name {
			return true
		}
	}
	return false
}

// inProtocols reports whether token is part of an offered subprotocol.
func inProtocols(h http.Header, token string) bool {
	for _, p := range offeredProtocols(h) {
		if strings.Contains(p, token) {
			return true
		}
	}
	return false
}
