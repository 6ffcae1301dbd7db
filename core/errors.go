package core

import "errors"

// Machine-readable error codes. Error envelopes carry one in their metadata as
// {"code":"..."}; PROTOCOL.md lists when each is sent.
const (
	// CodeMessageTooLarge: an inbound frame exceeded Options.MaxMessageSize.
	CodeMessageTooLarge = "MESSAGE_TOO_LARGE"
	// CodeInvalidMessage: an inbound frame failed to decode or validate.
	CodeInvalidMessage = "INVALID_MESSAGE"
	// CodeInternal: the handler failed or panicked; details are logged, never sent.
	CodeInternal = "INTERNAL"
	// CodeStoreUnavailable: the store could not record an inbound message; it was not stored.
	CodeStoreUnavailable = "STORE_UNAVAILABLE"
	// CodeRateLimited: the client sent faster than its limit; the frame was dropped.
	CodeRateLimited = "RATE_LIMITED"
	// CodeSessionNotFound: the requested session does not exist or may not be read.
	CodeSessionNotFound = "SESSION_NOT_FOUND"
	// CodeStreamLost is carried by the final message of a stream whose producer stopped
	// renewing its lease (its instance died or lost the store).
	CodeStreamLost = "STREAM_LOST"
	// CodeStreamInterrupted is carried by the final message of a stream cut short by the
	// server: the hub's shutdown deadline passed, or (without a store) the connection ended.
	CodeStreamInterrupted = "STREAM_INTERRUPTED"
	// CodeReplayGap is carried by a system envelope (not an error) that says a replay may
	// have missed messages because they are no longer retained.
	CodeReplayGap = "REPLAY_GAP"
)

// Sentinel errors. Compare with errors.Is; implementations wrap them with %w.
var (
	// ErrDuplicate is returned by Store.Append when a message with the same ID is
	// already in the session's retained history. The existing record is returned with it.
	ErrDuplicate = errors.New("chatwire: duplicate message id")
	// ErrStoreUnavailable wraps store failures caused by the backend being unreachable.
	ErrStoreUnavailable = errors.New("chatwire: store unavailable")
	// ErrInvalidSessionID is returned when a session id is empty, too long or uses
	// characters outside the documented set (see ValidSessionID).
	ErrInvalidSessionID = errors.New("chatwire: invalid session id")
	// ErrHubClosed is returned by Hub.Serve after Shutdown has begun.
	ErrHubClosed = errors.New("chatwire: hub closed")
	// ErrConnClosed is returned by writes to a connection that has ended.
	ErrConnClosed = errors.New("chatwire: connection closed")
)

// Error is an error a client may see: Code is machine-readable, Message is the text of the
// error envelope. Handlers return one (see NewError) to send their own text; any other error
// is reported to the client as CodeInternal with a generic text.
type Error struct {
	Code    string
	Message string
	err     error
}

// NewError returns a client-visible error with the given code and message.
func NewError(code, message string) *Error { return &Error{Code: code, Message: message} }

// WrapError returns a client-visible error that also wraps cause for errors.Is/As and logs.
// The cause's text is never sent to the client.
func WrapError(code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, err: cause}
}

// Error implements error.
func (e *Error) Error() string {
	if e.err != nil {
		return e.Code + ": " + e.Message + ": " + e.err.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.err }
