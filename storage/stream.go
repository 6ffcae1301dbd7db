package storage

import (
	"context"
	"errors"
	"time"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/internal/streamlog"
)

// ErrStreamNotFound is returned by StreamStore methods for a stream that is not running
// (never started, finished, or ended by a watcher after its producer was lost).
var ErrStreamNotFound = errors.New("chatwire: stream not running")

// StreamEventKind says what a StreamEvent reports.
type StreamEventKind int

// Kinds of StreamEvent.
const (
	// StreamDelta: text was appended to a running stream (Seq, Delta).
	StreamDelta StreamEventKind = iota + 1
	// StreamCancelled: a client asked the stream to stop; its producer cancels it.
	StreamCancelled
	// StreamEnded: the stream finished; the Notification's Record is its final message.
	StreamEnded
)

// StreamEvent is the stream part of a Notification.
type StreamEvent struct {
	Kind     StreamEventKind
	StreamID string
	// Seq is the delta's sequence within the stream (1 for the first delta).
	Seq uint64
	// Delta is the appended text (StreamDelta only).
	Delta string
	// Started is when the stream started, in ms since the Unix epoch (StreamDelta only).
	Started int64
}

// StreamState is a running stream as StreamSnapshot returns it.
type StreamState struct {
	ID string
	// Seq is the last delta included in Content.
	Seq uint64
	// Content is the text so far.
	Content string
	// Started is when the stream started, in ms since the Unix epoch.
	Started int64
	// Expired reports that the producer's lease ran out: it stopped renewing it (it died or
	// lost the store). Any instance may then finish the stream with an error state.
	Expired bool
}

// StreamStore is the part of a Store that carries streamed replies between instances: the
// text of each running stream, its deltas, cancel requests and its end. Every Store
// implements it (see Store); the store conformance suite tests it.
type StreamStore interface {
	// StreamAppend appends delta to the running stream as delta number seq, refreshes the
	// producer's lease to expire after lease, and notifies subscribers with a StreamDelta
	// event — atomically, so a snapshot and the events never disagree. seq 1 starts the
	// stream (started is its start time in ms); any other seq must be the stream's current
	// seq plus one, else ErrStreamNotFound (the stream ended meanwhile) or an error. An empty
	// delta with the current seq only refreshes the lease and notifies nobody.
	StreamAppend(ctx context.Context, sessionID, streamID string, seq uint64, delta string, started int64, lease time.Duration) error

	// StreamSnapshot returns the session's running streams.
	StreamSnapshot(ctx context.Context, sessionID string) ([]StreamState, error)

	// StreamFinish ends a running stream: it removes its state and appends final to the
	// history exactly as Append does, notifying subscribers with the final Record and a
	// StreamEnded event — atomically. It returns ErrStreamNotFound when the stream is not
	// running (another instance finished it), and appends nothing then.
	StreamFinish(ctx context.Context, sessionID, streamID string, final envelope.Message, maxLen int) (Record, error)

	// StreamCancel notifies every subscriber of the session that streamID should stop.
	StreamCancel(ctx context.Context, sessionID, streamID string) error

	// Publish delivers an ephemeral message (a typing indicator) to the session's
	// subscribers without storing it.
	Publish(ctx context.Context, sessionID string, msg envelope.Message) error
}

// StreamCompactEvery is how often (in deltas) the built-in stores compact a running
// stream's content: when a delta's seq is a multiple of it, the content is replaced by
// CompactStreamLog's result, so a long reply takes about the size of its parts in the
// store, not the size of its deltas.
const StreamCompactEvery = 256

// CompactStreamLog compacts the content of a running stream (StreamState.Content, the
// concatenated deltas, which the hub writes as a chunk log): it returns the content that
// rebuilds the same parts with the fewest chunks, and true; or false when content is not a
// chunk log the hub wrote (then it must be kept as it is). A Store may replace a running
// stream's content with the compacted one at any time between two deltas (keeping its seq):
// snapshots and resume frames stay the same, smaller. Transient data is dropped: it is
// never resumed.
func CompactStreamLog(content string) (string, bool) {
	return streamlog.Compact(content)
}
