package core

import (
	"errors"
	"net/http"
)

// Refusal codes: the machine-readable reason an upgrade was refused (PROTOCOL.md,
// "Refusals"). HandshakeError.Code carries one; RefusalCode derives one from the status
// when it is empty. CodeSessionNotFound (404) is declared with the error codes.
const (
	// CodeInvalidRequest (400): a query parameter breaks the rules (sessionId, lastMessageId,
	// history, refusal). Permanent.
	CodeInvalidRequest ErrorCode = "INVALID_REQUEST"
	// CodeUnauthenticated (401): credentials are missing, invalid or expired. Permanent until
	// the user signs in again.
	CodeUnauthenticated ErrorCode = "UNAUTHENTICATED"
	// CodeForbidden (403): the credentials are valid but may not connect. Permanent.
	CodeForbidden ErrorCode = "FORBIDDEN"
	// CodeTooManyConnections (429): a connection cap is reached. Retry with backoff: it
	// clears when other connections end.
	CodeTooManyConnections ErrorCode = "TOO_MANY_CONNECTIONS"
	// CodeServerDraining (503): the instance is shutting down. Retry at once, elsewhere.
	CodeServerDraining ErrorCode = "SERVER_DRAINING"
	// CodeSessionUnavailable (503): the session's store cannot be reached. Retry with backoff.
	CodeSessionUnavailable ErrorCode = "SESSION_UNAVAILABLE"
	// CodeUnavailable (503): another service the admission needs is down (an identity
	// provider, a shared connection counter). Retry with backoff.
	CodeUnavailable ErrorCode = "UNAVAILABLE"
	// CodeRefused: any other refusal status. Permanent for 4xx (but 408), else retried.
	CodeRefused ErrorCode = "REFUSED"
)

// RefusalCloseCode is the close code of a refusal frame: 4000 + the HTTP status the refusal
// would have had (4401 unauthenticated, 4403 forbidden, 4404 session not found, 4429 too
// many connections, 4503 draining or unavailable), or 4000 for a status outside 400-599.
func RefusalCloseCode(status int) int {
	if status >= 400 && status <= 599 {
		return 4000 + status
	}
	return 4000
}

// RefusalPermanent reports whether a refusal with this HTTP status (or its close code) will
// not change by itself, so a client should stop retrying: 4xx statuses other than 408 and
// 429. 5xx statuses, 408 and 429 are worth retrying with backoff.
func RefusalPermanent(statusOrCloseCode int) bool {
	s := statusOrCloseCode
	if s >= 4000 {
		s -= 4000
	}
	return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

// RefusalCode returns the machine-readable code of a refusal answered with status: err's
// HandshakeError.Code when set, else one derived from status (400 INVALID_REQUEST, 401
// UNAUTHENTICATED, 403 FORBIDDEN, 404 SESSION_NOT_FOUND, 429 TOO_MANY_CONNECTIONS, 503
// SERVER_DRAINING when err wraps ErrHubClosed, SESSION_UNAVAILABLE when it wraps
// ErrStoreUnavailable, else UNAVAILABLE), else REFUSED.
func RefusalCode(status int, err error) ErrorCode {
	var he *HandshakeError
	if errors.As(err, &he) && he.Code != "" {
		return he.Code
	}
	switch status {
	case http.StatusBadRequest:
		return CodeInvalidRequest
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusNotFound:
		return CodeSessionNotFound
	case http.StatusTooManyRequests:
		return CodeTooManyConnections
	case http.StatusServiceUnavailable:
		switch {
		case errors.Is(err, ErrHubClosed):
			return CodeServerDraining
		case errors.Is(err, ErrStoreUnavailable):
			return CodeSessionUnavailable
		}
		return CodeUnavailable
	}
	return CodeRefused
}
