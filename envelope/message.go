package envelope

import (
	"encoding/json"
	"time"
)

// Type is the discriminant of an envelope: what kind of chat event it carries.
type Type string

// The six envelope types of the wire format. A decoded envelope always has one of them.
const (
	TypeMessage    Type = "message"
	TypeTyping     Type = "typing"
	TypeError      Type = "error"
	TypeToolCall   Type = "tool_call"
	TypeToolResult Type = "tool_result"
	TypeSystem     Type = "system"
)

// Valid reports whether t is one of the six envelope types.
func (t Type) Valid() bool {
	switch t {
	case TypeMessage, TypeTyping, TypeError, TypeToolCall, TypeToolResult, TypeSystem:
		return true
	}
	return false
}

// Role says who authored an envelope.
type Role string

// The three roles of the wire format.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleSystem    Role = "system"
)

// Message is the envelope exchanged in both directions, one per WebSocket text frame.
// Its JSON keys are exactly id, type, role, content, metadata and timestamp.
//
// A Message is a plain value: it is safe to copy, and safe to read from several
// goroutines as long as none of them modifies it (Metadata is a shared slice).
type Message struct {
	// ID identifies the message within its session. Servers assign one when a client omits it.
	ID string
	// Type is one of the six envelope types.
	Type Type
	// Role is who wrote the message. Messages from clients are always recorded as RoleUser.
	Role Role
	// Content is the text of the message.
	Content string
	// Metadata is an optional JSON object kept as raw, validated JSON; nil when absent.
	// Encoders write it verbatim, so it must hold a single JSON object when set.
	Metadata json.RawMessage
	// Timestamp is milliseconds since the Unix epoch.
	Timestamp int64
}

// NowMillis returns the current time in milliseconds since the Unix epoch, the unit of
// Message.Timestamp.
func NowMillis() int64 { return time.Now().UnixMilli() }
