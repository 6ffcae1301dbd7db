package hubport

import "github.com/chatwire/chatwire/envelope"

// HandledNotifier is implemented by connections that carry one request per call, such as
// the in-memory connection of the AI SDK endpoint (package aisdk): when the connection a
// hub serves implements it, Handled is called after each of its inbound messages was
// handled (or refused by the store, or found to be a duplicate), on the handler's
// goroutine, before the next one is handled. It must not block.
type HandledNotifier interface {
	Handled(HandledEvent)
}

// HandledEvent reports that one inbound message was handled (HandledNotifier).
type HandledEvent struct {
	// MessageID is the inbound message's id.
	MessageID string
	// Streams are the ids of the streams the handler started, in order. Each ends with a
	// final message of the same id, delivered like any stored message.
	Streams []string
	// Replies are the envelopes the handler sent with ReplyWriter.Send (typing excluded),
	// as sent.
	Replies []envelope.Message
	// ErrCode is the machine-readable code of the error envelope the connection was sent
	// for the message, "" when none.
	ErrCode string
	// Duplicate reports a message whose id the session already held: it was neither stored
	// nor handled again.
	Duplicate bool
}

// Regenerator is implemented by connections whose inbound message may ask for a new reply
// to a message already stored (the AI SDK's "regenerate"): when Regenerate reports true and
// the store already holds a user message with the inbound message's id, the hub hands the
// stored message (not the inbound one) to the handler again instead of dropping the
// inbound message as a retry. Nothing new is stored for it.
type Regenerator interface {
	Regenerate() bool
}
