package adapterkit

import "github.com/chatwire/chatwire/internal/hubport"

// Optional interfaces a connection handed to Serve (or Pending.Serve) may implement, for
// transports that carry one request per call rather than a long-lived socket, such as the
// AI SDK endpoint in package aisdk.
type (
	// HandledNotifier: when the connection implements it, the hub calls Handled after each
	// of its inbound messages was handled (or refused by the store, or found to be a
	// duplicate), on the handler's goroutine, before the next one is handled. Handled must
	// not block.
	HandledNotifier = hubport.HandledNotifier

	// HandledEvent reports one handled inbound message: its id, the streams the handler
	// started (each ends with a stored final message of the same id), the envelopes it sent,
	// the code of the error envelope sent for it ("" when none) and whether it was a
	// duplicate that was neither stored nor handled again.
	HandledEvent = hubport.HandledEvent

	// Regenerator: when the connection implements it and Regenerate reports true for an
	// inbound message whose id the store already holds as a user message, the hub hands the
	// stored message to the handler again (the AI SDK's "regenerate") instead of dropping the
	// inbound one as a retry. Nothing new is stored for it.
	Regenerator = hubport.Regenerator
)
