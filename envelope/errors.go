package envelope

import "errors"

// ErrHeartbeat is returned by Decode for a heartbeat frame ({"type":"ping"} or
// {"type":"pong"}); the Message's Type is set to "ping" or "pong". It is not a failure.
// Compare with errors.Is.
var ErrHeartbeat = errors.New("chatwire: heartbeat frame")

// DecodeError is what Decode returns for a frame that is not a valid envelope. Text is the
// exact sentence the wire contract fixes for the case ("Failed to parse message as JSON",
// "Message must be a JSON object", "Invalid message type: ...", "Message must have a string
// 'content' field"); a server sends it to the client in an error envelope with code
// INVALID_MESSAGE.
type DecodeError struct {
	// Text is the client-facing description of what is wrong with the frame.
	Text string
}

// Error implements error; it returns Text.
func (e *DecodeError) Error() string { return e.Text }
