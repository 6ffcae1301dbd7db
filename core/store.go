package core

import "context"

// Record is a message as a Store holds it: the message and its position in its session's
// history. Seq starts at 1 and grows by one with every appended message of the session; it is
// never reused, even after older records are trimmed.
type Record struct {
	Seq     uint64
	Message Message
}

// Notification is what a Store delivers to a subscriber.
type Notification struct {
	// Record is a record that was just appended to the session (by any instance).
	Record Record
	// Resync, when true, says notifications may have been lost (for example the store's
	// pub/sub connection was re-established). Record is then zero, and the subscriber must
	// read the history after the last sequence it delivered.
	Resync bool
	// Stream, when set, reports a stream event (see StreamStore). For StreamEnded, Record is
	// the stream's final message; for other kinds Record is zero.
	Stream *StreamEvent
	// Ephemeral, when set, is a message published with StreamStore.Publish: delivered,
	// never stored. Record is zero.
	Ephemeral *Message
}

// Page is a slice of a session's history returned by Store.Read.
type Page struct {
	// Records are the retained records with Seq greater than the requested one, in order.
	Records []Record
	// Head is the sequence of the newest record ever appended to the session (0 for none),
	// whether or not it is still retained.
	Head uint64
	// Trimmed reports that records after the requested sequence are no longer retained, so
	// Records does not start right after it.
	Trimmed bool
}

// Store keeps session histories and tells every subscribed instance about new records. It
// is what makes sessions persistent and lets several hubs (processes) serve one session.
//
// Every Store also implements streams (StreamStore): the running text of streamed replies,
// their deltas, cancel requests and ephemeral messages travel through it between instances,
// and a stream's end is appended to the history like any message.
//
// Delivery through Subscribe may be at-most-once; correctness comes from the ordered history:
// the hub detects a gap in sequence numbers (or a Resync notification) and reads the missing
// records with Read (and a gap in a stream's deltas with StreamSnapshot). Implementations must
// be safe for concurrent use. The conformance suite in package storetest holds every
// implementation to the same contract, streams included.
type Store interface {
	StreamStore

	// Append adds msg to the end of the session's history, trims the history to the newest
	// maxLen records (maxLen > 0), and notifies the session's subscribers, as one atomic step:
	// subscribers see records in sequence order. If a message with msg.ID is already retained,
	// Append stores and notifies nothing and returns that record with ErrDuplicate.
	// Backend failures wrap ErrStoreUnavailable.
	Append(ctx context.Context, sessionID string, msg Message, maxLen int) (Record, error)

	// Read returns the retained records of the session with Seq > afterSeq, in order.
	Read(ctx context.Context, sessionID string, afterSeq uint64) (Page, error)

	// Lookup returns the sequence of the retained message with the given id; ok is false
	// when no retained message has that id.
	Lookup(ctx context.Context, sessionID, messageID string) (seq uint64, ok bool, err error)

	// Subscribe calls fn for each record appended to the session from now on, in sequence
	// order, and for each stream event and ephemeral message (see Notification) in the
	// order they happened, until the returned cancel function is called. fn may be called from any
	// goroutine (including from inside Append); it must not block and must not call the store.
	// cancel waits until no call to fn is in progress, so it must not be called while holding
	// a lock fn takes. Several subscribers may watch one session.
	Subscribe(ctx context.Context, sessionID string, fn func(Notification)) (cancel func(), err error)
}
