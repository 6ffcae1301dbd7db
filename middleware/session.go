package middleware

import (
	"context"
	"errors"
	"net/http"

	"github.com/chatwire/chatwire/core"
)

// SessionAuthorizer decides whether principal may join the session sessionID and replay its
// history. sessionID is "" when the client asks for a new session (the hub then picks a
// fresh id nobody else knows). principal is the one the AdmitFuncs before it decided (nil
// without authentication). It runs before the upgrade, once per connection attempt.
type SessionAuthorizer func(ctx context.Context, principal any, sessionID string) error

// Refusal of AuthorizeSession.
const sessionNotFoundBody = string(core.CodeSessionNotFound)

// AuthorizeSession returns an AdmitFunc that asks authorize whether the connection may join
// its session. A refused connection is never upgraded, so it reads nothing of the session:
// neither its history (lastMessageId) nor live messages.
//
// Any error refuses with 404 and the body "SESSION_NOT_FOUND" (core.CodeSessionNotFound),
// whether the session exists or not, so a client cannot probe which session ids exist; return
// (or wrap) ErrSessionDenied by convention. The exception is a *core.HandshakeError, which
// is answered as is: return one with 503 when the authorization backend is unavailable, so
// clients retry instead of giving the session up.
func AuthorizeSession(authorize SessionAuthorizer) core.AdmitFunc {
	if authorize == nil {
		panic("middleware: AuthorizeSession needs an authorizer")
	}
	return func(ctx context.Context, req *core.AdmitRequest) (core.Admission, error) {
		err := authorize(ctx, req.Principal, req.SessionID)
		if err == nil {
			return core.Admission{}, nil
		}
		var he *core.HandshakeError
		if errors.As(err, &he) {
			return core.Admission{}, he
		}
		return core.Admission{}, &core.HandshakeError{Status: http.StatusNotFound, Body: sessionNotFoundBody}
	}
}
