package core

import "errors"

// ErrorCode is a machine-readable error code. Error envelopes carry one in their metadata as
// {"code":"..."}; PROTOCOL.md lists when each is sent. Applications may define their own.
type ErrorCode string

// Error codes the hub and the stores use.
const (
	// CodeMessageTooLarge: an inbound frame exceeded Options.MaxMessageSize.
	CodeMessageTooLarge ErrorCode = "MESSAGE_TOO_LARGE"
	// CodeInvalidMessage: an inbound frame failed to decode or validate.
	CodeInvalidMessage ErrorCode = "INVALID_MESSAGE"
	// CodeInternal: the handler failed or panicked; details are logged, never sent.
	CodeInternal ErrorCode = "INTERNAL"
	// CodeStoreUnavailable: the store could not record an inbound message; it was not stored.
	CodeStoreUnavailable ErrorCode = "STORE_UNAVAILABLE"
	// CodeRateLimited: the client sent faster than its limit; the frame was dropped.
	CodeRateLimited ErrorCode = "RATE_LIMITED"
	// CodeSessionNotFound: the requested session does not exist or may not be read.
	CodeSessionNotFound ErrorCode = "SESSION_NOT_FOUND"
	// CodeStreamLost is carried by the final message of a stream whose producer stopped
	// renewing its lease (its instance died or lost the store).
	CodeStreamLost ErrorCode = "STREAM_LOST"
	// CodeStreamInterrupted is carried by the final message of a stream cut short by the
	// server: the hub's shutdown deadline passed, or (without a store) the connection ended.
	CodeStreamInterrupted ErrorCode = "STREAM_INTERRUPTED"
	// CodeReplayGap is carried by a system envelope (not an error) that says a replay may
	// have missed messages because they are no longer retained.
	CodeReplayGap ErrorCode = "REPLAY_GAP"
	// CodeHistoryReset is carried by a system envelope (not an error) that says the
	// session's history was lost and restarted (a new epoch, see storage.Record): the client drops
	// the messages it shows and keeps the ones that follow, which are the whole retained
	// new history. Its metadata is {"code":"HISTORY_RESET","epoch":"<new epoch>"}.
	CodeHistoryReset ErrorCode = "HISTORY_RESET"
)

// Sentinel errors. Compare with errors.Is; implementations wrap them with %w.
var (
	// ErrInvalidSessionID is returned when a session id is empty, too long or uses
	// characters outside the documented set (see ValidSessionID).
	ErrInvalidSessionID = errors.New("chatwire: invalid session id")
	// ErrHubClosed is why a connection is refused once Shutdown has begun (503 "Server
	// shutting down"), and the cause of a session-mode handler's context cancelled at
	// Shutdown's deadline (context.Cause).
	ErrHubClosed = errors.New("chatwire: hub closed")
	// ErrConnClosed is returned by writes to a connection that has ended.
	ErrConnClosed = errors.New("chatwire: connection closed")
)

// Error is an error a client may see: Code is machine-readable, Text is what the error
// envelope says (its content). Handlers return one (see NewError) to send their own text;
// any other error is reported to the client as CodeInternal with a generic text.
type Error struct {
	// Code goes into the error envelope's metadata as {"code":"..."}.
	Code ErrorCode
	// Text is the error envelope's content, shown to the user.
	Text string
	err  error
}

// NewError returns a client-visible error with the given code and text.
func NewError(code ErrorCode, text string) *Error { return &Error{Code: code, Text: text} }

// WrapError returns a client-visible error that also wraps cause for errors.Is/As and logs.
// The cause's text is never sent to the client.
func WrapError(code ErrorCode, text string, cause error) *Error {
	return &Error{Code: code, Text: text, err: cause}
}

// Error implements error.
func (e *Error) Error() string {
	if e.err != nil {
		return string(e.Code) + ": " + e.Text + ": " + e.err.Error()
	}
	return string(e.Code) + ": " + e.Text
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.err }

// Codes of conversation errors (see PROTOCOL.md); refusals of a conversation that does not
// exist or is not the caller's use CodeSessionNotFound.
const (
	// CodeInvalidTitle: a title breaks the rules of storage.ValidTitle.
	CodeInvalidTitle ErrorCode = "INVALID_TITLE"
	// CodeConversationLimit: the owner has Conversations.MaxPerOwner conversations.
	CodeConversationLimit ErrorCode = "CONVERSATION_LIMIT"
	// CodeConversationsUnavailable: the connection has no directory (no owner, or the hub
	// has none).
	CodeConversationsUnavailable ErrorCode = "CONVERSATIONS_UNAVAILABLE"
)

// ErrNoDirectory is returned by ReplyWriter.Conversation and SetTitle when the connection
// has no conversation directory (conversations disabled, or no owner).
var ErrNoDirectory = errors.New("chatwire: no conversation directory for this connection")

// Error codes of answers to pending requests (error envelopes, HTTP error bodies).
const (
	// CodeRequestNotFound: the answer names a request that does not wait (unknown, or its
	// reply ended).
	CodeRequestNotFound ErrorCode = "REQUEST_NOT_FOUND"
	// CodeAlreadyAnswered: another answer won.
	CodeAlreadyAnswered ErrorCode = "ALREADY_ANSWERED"
	// CodeRequestExpired: the answer came after the request's timeout.
	CodeRequestExpired ErrorCode = "REQUEST_EXPIRED"
	// CodeInvalidAnswer: the answer is malformed or does not match the question's schema.
	CodeInvalidAnswer ErrorCode = "INVALID_ANSWER"
)

// ErrPendingUnsupported: the hub has no Store, or its Store does not implement
// storage.PendingStore, so nothing can wait for a person's answer (Stream.Ask,
// ToolCall.RequestApproval, Hub.Answer).
var ErrPendingUnsupported = errors.New("chatwire: pending requests need a PendingStore")
