package core

// HandledEvent reports that one inbound message was handled (ConnInfo.OnHandled).
type HandledEvent struct {
	// MessageID is the inbound message's id.
	MessageID string
	// Streams are the ids of the streams the handler started, in order. Each ends with a
	// final message of the same id, delivered like any stored message.
	Streams []string
	// Replies are the envelopes the handler sent with ReplyWriter.Send (typing excluded),
	// as sent.
	Replies []Message
	// Err is the error envelope's error the connection was sent, nil when none.
	Err *Error
	// Duplicate reports a message whose id the session already held: it was neither stored
	// nor handled again.
	Duplicate bool
}
