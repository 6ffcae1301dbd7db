package middleware

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/core"
)

// Errors an authentication or authorization callback returns (wrapped or not) to choose the
// refusal; see Auth and AuthorizeSession.
var (
	// ErrForbidden from a Verifier refuses with 403: the credential is valid but its holder
	// may not connect.
	ErrForbidden = errors.New("chatwire/middleware: forbidden")
	// ErrSessionDenied from a SessionAuthorizer refuses the session (404 SESSION_NOT_FOUND).
	ErrSessionDenied = errors.New("chatwire/middleware: session denied")
)

// Verifier checks a credential and returns the principal it identifies (handlers see it in
// core.Request.Principal) and when the credential expires (zero: never; the hub closes the
// connection with 1008 then). An error refuses the upgrade: with 401 unless it wraps
// ErrForbidden (403) or is a *core.HandshakeError (its own status and body, e.g. 503 when
// the identity provider is down). The error's text is never sent to the client.
type Verifier func(ctx context.Context, token string) (principal any, expires time.Time, err error)

// AuthOptions configures Auth.
type AuthOptions struct {
	// Verify checks the credential. Required: Auth panics without it.
	Verify Verifier

	// Sources lists where a credential is looked for, in order; the first one found is
	// verified and the others are ignored. Default: FromBearer(), then
	// FromCookie(DefaultCookie), then FromSubprotocol(DefaultSubprotocolPrefix). Query
	// tokens are opt-in: add FromQuery("token").
	Sources []Source

	// Subprotocol is the fixed subprotocol name selected whenever the client offers it
	// (never a token). A client that sends its token as a subprotocol must offer this name
	// too (browsers fail a connection whose offered subprotocols the server does not answer,
	// and the token must never be echoed): such a request is refused with 400. Default:
	// DefaultSubprotocol ("chatwire").
	Subprotocol string

	// Optional admits requests that carry no credential at all, with no principal. A
	// credential that is present but invalid is refused all the same. Default: false (401).
	Optional bool

	// Now returns the current time, for the expiry check. Default: time.Now.
	Now func() time.Time
}

// Defaults of AuthOptions.
const (
	// DefaultCookie is the cookie FromCookie reads by default.
	DefaultCookie = "chatwire_token"
	// DefaultSubprotocol is the fixed subprotocol name Auth selects.
	DefaultSubprotocol = "chatwire"
	// DefaultSubprotocolPrefix precedes a token sent as a subprotocol value.
	DefaultSubprotocolPrefix = "chatwire.token."
)

// Refusal bodies of Auth (never the reason: that is for logs).
const (
	unauthorizedBody    = "Unauthorized"
	forbiddenBody       = "Forbidden"
	subprotocolBodyText = "Offer the subprotocol "
)

// Auth returns an AdmitFunc that authenticates the upgrade request before any upgrade: it
// finds a credential with opts.Sources, verifies it, and admits with the verified principal,
// the fixed subprotocol (when offered) and the credential's expiry. A missing, invalid or
// expired credential is refused with 401 "Unauthorized"; see Verifier for 403 and custom
// refusals. Combine it with AuthorizeSession and Caps through Admit or Chain, Auth first.
func Auth(opts AuthOptions) core.AdmitFunc {
	if opts.Verify == nil {
		panic("middleware: AuthOptions.Verify is required")
	}
	sources := append([]Source(nil), opts.Sources...)
	if len(sources) == 0 {
		sources = []Source{FromBearer(), FromCookie(DefaultCookie), FromSubprotocol(DefaultSubprotocolPrefix)}
	}
	proto := opts.Subprotocol
	if proto == "" {
		proto = DefaultSubprotocol
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	verify := opts.Verify
	optional := opts.Optional
	return func(ctx context.Context, req *core.AdmitRequest) (core.Admission, error) {
		var adm core.Admission
		if offers(req.Header, proto) {
			adm.Subprotocol = proto
		}
		token, found := "", false
		for _, src := range sources {
			if token, found = src(req); found {
				break
			}
		}
		if !found {
			if optional {
				return adm, nil
			}
			return core.Admission{}, unauthorized()
		}
		if adm.Subprotocol == "" && inProtocols(req.Header, token) {
			// The token travels as a subprotocol but the fixed name was not offered: the only
			// offered value the server could select is the token itself.
			return core.Admission{}, &core.HandshakeError{Status: http.StatusBadRequest, Body: subprotocolBodyText + proto}
		}
		principal, expires, err := verify(ctx, token)
		if err != nil {
			var he *core.HandshakeError
			switch {
			case errors.As(err, &he):
				return core.Admission{}, he
			case errors.Is(err, ErrForbidden):
				return core.Admission{}, &core.HandshakeError{Status: http.StatusForbidden, Body: forbiddenBody}
			}
			return core.Admission{}, unauthorized()
		}
		if !expires.IsZero() && !expires.After(now()) {
			return core.Admission{}, unauthorized()
		}
		adm.Principal = principal
		adm.Expires = expires
		return adm, nil
	}
}

func unauthorized() *core.HandshakeError {
	return &core.HandshakeError{Status: http.StatusUnauthorized, Body: unauthorizedBody}
}
