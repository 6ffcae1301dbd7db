package core

import "github.com/chatwire/chatwire/envelope"

// The envelope types are defined by package envelope (the wire format and its codec) and
// re-exported here, so that application code (handlers, stores) needs only this package.
// They are aliases: core.Message and envelope.Message are the same type.
type (
	// Message is the envelope exchanged in both directions, one per WebSocket text frame;
	// see envelope.Message.
	Message = envelope.Message
	// Type is the discriminant of an envelope; see envelope.Type.
	Type = envelope.Type
	// Role says who authored an envelope; see envelope.Role.
	Role = envelope.Role
)

// The six envelope types of the wire format (see envelope.Type).
const (
	TypeMessage    = envelope.TypeMessage
	TypeTyping     = envelope.TypeTyping
	TypeError      = envelope.TypeError
	TypeToolCall   = envelope.TypeToolCall
	TypeToolResult = envelope.TypeToolResult
	TypeSystem     = envelope.TypeSystem
)

// The three roles of the wire format (see envelope.Role).
const (
	RoleUser      = envelope.RoleUser
	RoleAssistant = envelope.RoleAssistant
	RoleSystem    = envelope.RoleSystem
)
