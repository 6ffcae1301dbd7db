package adapterkit

import (
	"errors"
	"net/http"

	"github.com/chatwire/chatwire/core"
)

// RefusalCode returns the machine-readable code of a refusal answered with status: err's
// HandshakeError.Code when set, else one derived from status (400 INVALID_REQUEST, 401
// UNAUTHENTICATED, 403 FORBIDDEN, 404 SESSION_NOT_FOUND, 429 TOO_MANY_CONNECTIONS, 503
// SERVER_DRAINING when err wraps core.ErrHubClosed, SESSION_UNAVAILABLE when it wraps
// core.ErrStoreUnavailable, else UNAVAILABLE), else REFUSED.
func RefusalCode(status int, err error) core.ErrorCode {
	var he *core.HandshakeError
	if errors.As(err, &he) && he.Code != "" {
		return he.Code
	}
	switch status {
	case http.StatusBadRequest:
		return core.CodeInvalidRequest
	case http.StatusUnauthorized:
		return core.CodeUnauthenticated
	case http.StatusForbidden:
		return core.CodeForbidden
	case http.StatusNotFound:
		return core.CodeSessionNotFound
	case http.StatusTooManyRequests:
		return core.CodeTooManyConnections
	case http.StatusServiceUnavailable:
		switch {
		case errors.Is(err, core.ErrHubClosed):
			return core.CodeServerDraining
		case errors.Is(err, core.ErrStoreUnavailable):
			return core.CodeSessionUnavailable
		}
		return core.CodeUnavailable
	}
	return core.CodeRefused
}
