package storage

import (
	"context"

	"github.com/chatwire/chatwire/envelope"
)

// Record is a message as a Store holds it: the message and its position in its session's
// history. Seq starts at 1 and grows by one with every appended message of the session; it is
// never reused, even after older records are trimmed.
type Record struct {
	Seq     uint64
	Message envelope.Message
}

// An epoch names one incarnation of a session's history. Sequence numbers are only
// comparable within an epoch: whenever a store may have lost a session's history and
// restarted its sequence at 1 (a Redis that restarted empty, a failover to a replica that
// lagged, a FLUSHALL, keys that expired and were created again, a core.MemoryStore session that
// was evicted or expired), the epoch changes. Epochs are opaque strings compared only for
// equality; "" means the session has no history (nothing was appended, or it was lost and
// nothing was appended since).

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
	Ephemeral *envelope.Message
	// Epoch is the epoch of Record's history (see Record) when Record is set. A subscriber
	// whose last delivered record belongs to another epoch must not compare sequence numbers
	// across them: it reads the history again (a Read tells the current epoch).
	Epoch string
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
	// Epoch is the history's epoch ("" when the session has no history); Head and Records
	// belong to it.
	Epoch string
}

// JoinRequest is what a connection that joins a session asks the store for (Store.Join).
type JoinRequest struct {
	// LastMessageID is the id of the last message the client has; "" for none.
	LastMessageID string
	// Epoch, when set, is the epoch LastMessageID belongs to. When it is not the current
	// epoch, LastMessageID is not looked up (Found is false, the replay holds every retained
	// record).
	Epoch string
	// Replay asks for the records after LastMessageID (every retained record when it is
	// "" or not retained). Without it the returned page holds no records, only its Head
	// and Epoch.
	Replay bool
}

// Joined is the state a joining connection starts from, read in one consistent step.
type Joined struct {
	// Page holds the history's Epoch and Head and, when the request asked for a replay, the
	// retained records after Anchor (Trimmed as Read reports it).
	Page Page
	// Anchor is the sequence of LastMessageID when Found, else 0.
	Anchor uint64
	// Found reports that LastMessageID is retained in the current epoch.
	Found bool
	// Streams are the session's running streams (as StreamSnapshot returns them).
	Streams []StreamState
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
	Append(ctx context.Context, sessionID string, msg envelope.Message, maxLen int) (Record, error)

	// Read returns the retained records of the session with Seq > afterSeq, in order.
	Read(ctx context.Context, sessionID string, afterSeq uint64) (Page, error)

	// Lookup returns the sequence of the retained message with the given id; ok is false
	// when no retained message has that id.
	Lookup(ctx context.Context, sessionID, messageID string) (seq uint64, ok bool, err error)

	// Join returns what a connection joining the session needs before it goes live, as one
	// consistent snapshot and, for a networked store, in one round trip: the history's
	// epoch and head, the sequence of req.LastMessageID, the records after it (req.Replay)
	// and the running streams. It may also refresh the session's expiry. It is equivalent to
	// Lookup, Read and StreamSnapshot called at one instant.
	Join(ctx context.Context, sessionID string, req JoinRequest) (Joined, error)

	// Subscribe calls fn for each record appended to the session from now on, in sequence
	// order, and for each stream event and ephemeral message (see Notification) in the
	// order they happened, until the returned cancel function is called. Records appended
	// shortly before Subscribe was called may be delivered too (subscribers skip sequences
	// they already have, within one epoch). fn may be called from any goroutine (including
	// from inside Append); it must not block and must not call the store.
	// cancel waits until no call to fn is in progress, so it must not be called while holding
	// a lock fn takes. Several subscribers may watch one session.
	Subscribe(ctx context.Context, sessionID string, fn func(Notification)) (cancel func(), err error)
}
