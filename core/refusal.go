package core

// Refusal codes: the machine-readable reason an upgrade was refused (PROTOCOL.md,
// "Refusals"). HandshakeError.Code carries one; adapterkit.RefusalCode derives one from
// the status when it is empty. CodeSessionNotFound (404) is declared with the error codes.
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
