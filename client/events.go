package client

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/parts"
)

// EventKind says what an Event reports.
type EventKind int

// The kinds of events a Client delivers.
const (
	// EventMessage: an envelope that is not part of a stream's text: a chat message (the
	// server's echo of the client's own messages included: it confirms they were stored),
	// a tool_call or tool_result (Event.StreamID links one made during a stream), a system
	// envelope, or a typing indicator that is not a stream delta. Event.Message holds it.
	EventMessage EventKind = iota + 1
	// EventStream: a streamed reply grew (or started: the first update has empty text).
	// Event.Stream holds the text so far and what changed.
	EventStream
	// EventStreamEnd: a streamed reply ended. Event.Stream holds the whole text and the
	// final state (done, cancelled or error); Event.Message is the stored final message.
	EventStreamEnd
	// EventError: the server sent an error envelope (Event.Err is a *ServerError and
	// Event.Message the envelope). Error envelopes concern one request; the connection
	// stays open.
	EventError
	// EventReplayGap: the server could not replay everything since the last message the
	// client saw (metadata code REPLAY_GAP): the history may be incomplete. Event.Message
	// holds the system envelope.
	EventReplayGap
	// EventState: the connection state changed; see Event.State, Attempt, Delay,
	// CloseCode and Err.
	EventState
	// EventHistoryReset: the server lost the session's history and started a new one
	// (metadata code HISTORY_RESET, see PROTOCOL.md). Drop every message shown so far: the
	// events that follow are the whole retained new history, then live ones. The client
	// has already forgotten its LastMessageID and remembers the new epoch (Client.Epoch).
	// Event.Message holds the system envelope.
	EventHistoryReset
	// EventConversation: the owner's conversation directory changed, or a conversation
	// call was answered; Event.Conversation says what (PROTOCOL.md, "Conversations").
	EventConversation
)

var kindNames = [...]string{"", "message", "stream", "stream_end", "error", "replay_gap", "state", "history_reset", "conversation"}

// String returns the kind's name, e.g. "stream_end".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// State is the connection state of a Client.
type State int

// Connection states, reported by EventState events.
const (
	// StateConnecting: a connection attempt is under way (Event.Attempt counts the
	// attempts since the last stable connection; 0 is the first dial).
	StateConnecting State = iota + 1
	// StateConnected: a connection is open; sends go through.
	StateConnected
	// StateWaiting: the connection ended (Event.CloseCode and Event.Err say how) and the
	// client waits Event.Delay before the next attempt.
	StateWaiting
	// StateClosed: the client has stopped for good; Client.Err says why. It is the last
	// event before the channel is closed (delivered only when the channel has room).
	StateClosed
)

var stateNames = [...]string{"", "connecting", "connected", "waiting", "closed"}

// String returns the state's name, e.g. "waiting".
func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Event is one thing the client tells its caller. Kind says which fields are set.
type Event struct {
	Kind EventKind
	// Message is the envelope of EventMessage, EventError and EventReplayGap events, and
	// the stored final message of EventStreamEnd events.
	Message core.Message
	// StreamID links an EventMessage envelope (a tool call or result) to the stream it
	// was made in; "" otherwise.
	StreamID string
	// Stream is set for EventStream and EventStreamEnd events.
	Stream Stream
	// Err is the *ServerError of EventError events. In EventState events it tells why a
	// connection ended or an attempt failed (a *CloseError, a *HandshakeError or a network
	// error), and for StateClosed why the client stopped.
	Err error
	// State, Attempt, Delay and CloseCode are set for EventState events. Attempt counts
	// reconnect attempts since the last stable connection, Delay is the wait chosen for
	// StateWaiting, and CloseCode is the WebSocket close code that ended the connection
	// (1006 when it dropped without one; 0 when a dial attempt failed).
	State     State
	Attempt   int
	Delay     time.Duration
	CloseCode int
	// Conversation is set for EventConversation events.
	Conversation Conversation
}

// Stream is a streamed reply as the client has assembled it, following PROTOCOL.md: deltas
// are appended by sequence number, a resume frame (after a reconnect) replaces the text,
// and the final message replaces it once more with the stored whole.
type Stream struct {
	// ID identifies the stream; it is also the id of its final stored message.
	ID string
	// Role is the author of the stream (the assistant).
	Role core.Role
	// Text is everything received so far; after the end, the whole stored text.
	Text string
	// Delta is the text this event appended to the previous Text; "" when Replaced.
	Delta string
	// Replaced reports that this event replaced Text instead of appending to it: a resume
	// frame after a reconnect, or a final message that differs from the assembled text
	// (or a stream the client meets only through its final message).
	Replaced bool
	// Seq is the sequence number of the last delta applied.
	Seq uint64
	// State is core.StreamStateDelta while the stream runs, then core.StreamStateDone,
	// core.StreamStateCancelled or core.StreamStateError.
	State core.StreamStatus
	// Code is the error code of a stream that ended with core.StreamStateError (for
	// example INTERNAL, or STREAM_LOST when its producer died).
	Code string
	// Started is when the stream started (server time, milliseconds since the epoch); 0
	// when the client met the stream only through its final message.
	Started int64
	// Parts are the reply's parts so far (PROTOCOL.md, "Parts of a streamed reply"): the
	// chunks applied in order, replaced on a resume frame; after the end, the stored parts.
	// A new slice per event: an event's Parts never change.
	Parts []parts.Part
	// Chunks are the chunks this event applied (on a resume frame, the compacted chunks of
	// every part so far; nil at the end).
	Chunks []parts.Chunk
	// MessageMetadata is the reply's merged message metadata (nil when none).
	MessageMetadata json.RawMessage
	// ReplyTo is the id of the message the stream answers ("" when unknown).
	ReplyTo string
	// FinishReason is why the model stopped, when the handler said (at the end only).
	FinishReason core.FinishReason
}

// Running reports whether the stream had not ended at this event.
func (s Stream) Running() bool { return s.State == core.StreamStateDelta }

// ServerError is an error envelope sent by the server: Code is its metadata.code (for
// example INVALID_MESSAGE, STORE_UNAVAILABLE or a handler's own code) and Message its text.
type ServerError struct {
	Code    string
	Message string
}

// Error implements error.
func (e *ServerError) Error() string {
	return "chatwire server error " + e.Code + ": " + e.Message
}

// HandshakeError reports a connection attempt the server refused before the upgrade, with
// its HTTP status and (up to 1 KiB of) plain-text body, e.g. 403 "Origin not allowed".
// Statuses 400-499 other than 408 and 429 are permanent: the client stops instead of
// reconnecting.
type HandshakeError struct {
	StatusCode int
	Body       string
}

// Error implements error.
func (e *HandshakeError) Error() string {
	s := "chatwire: handshake refused with HTTP " + strconv.Itoa(e.StatusCode)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Permanent reports whether retrying cannot help (a 4xx status other than 408 and 429).
func (e *HandshakeError) Permanent() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != 408 && e.StatusCode != 429
}

// CloseError reports the close frame that ended a connection.
type CloseError struct {
	Code   int
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	s := "chatwire: connection closed with " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

var (
	// ErrClosed is returned by Send and friends after Close, and by Err once Close
	// stopped the client.
	ErrClosed = errors.New("chatwire: client closed")
	// ErrGaveUp is wrapped by Err when Options.MaxAttempts reconnect attempts in a row
	// failed.
	ErrGaveUp = errors.New("chatwire: gave up reconnecting")
)

// RefusalError reports a connection attempt the server refused over the WebSocket
// (PROTOCOL.md, "Refusals"): a client that asks with ?refusal=close is upgraded, sent one
// error envelope and closed with 4000 + the HTTP status the refusal would have had. Code is
// the machine-readable reason (UNAUTHENTICATED, FORBIDDEN, SESSION_NOT_FOUND,
// TOO_MANY_CONNECTIONS, SERVER_DRAINING, SESSION_UNAVAILABLE, INVALID_REQUEST).
type RefusalError struct {
	Code      core.ErrorCode
	Status    int    // the HTTP status equivalent, e.g. 401
	CloseCode int    // e.g. 4401
	Message   string // the envelope's text, e.g. "Unauthorized"
}

// Error implements error.
func (e *RefusalError) Error() string {
	s := "chatwire: connection refused (" + string(e.Code) + ", " + strconv.Itoa(e.CloseCode) + ")"
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Permanent reports whether retrying cannot help: the status is a 4xx other than 408 and
// 429 (see envelope.RefusalPermanent). Draining, an unreachable store and connection caps are
// retried.
func (e *RefusalError) Permanent() bool { return envelope.RefusalPermanent(e.Status) }
