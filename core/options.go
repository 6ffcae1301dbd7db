package core

import (
	"log/slog"
	"time"
)

// Options configures a Hub. The zero value of every field means its documented default;
// NewHub copies the struct and never modifies the caller's value.
type Options struct {
	// Handler handles inbound messages. Default: nil, which stores (with a Store) and
	// delivers inbound messages but sends no replies.
	Handler Handler

	// Store makes sessions persistent: every inbound message and reply is appended to the
	// session's history, delivered to every connection of the session (on every hub sharing
	// the store), and replayed to clients that reconnect with lastMessageId.
	// Default: nil, a stateless transport where replies go only to the sending connection.
	Store Store

	// HeartbeatInterval is how often the server sends the text frame {"type":"ping"} and a
	// WebSocket ping; a peer that answers no ping within HeartbeatInterval+PongTimeout is
	// closed. Default: 30s. A negative value disables heartbeats and dead-peer detection.
	HeartbeatInterval time.Duration

	// PongTimeout is how long past a heartbeat the server waits for any frame (a pong
	// control frame counts) before it closes the connection. Default: 10s.
	PongTimeout time.Duration

	// WriteTimeout bounds each frame write; a peer that does not drain its socket for this
	// long is closed. Default: 10s.
	WriteTimeout time.Duration

	// MaxMessageSize is the largest inbound frame, in bytes, that is handled. A larger frame
	// is discarded while it is read (the server never holds more than MaxMessageSize+1 bytes
	// of it) and answered with a MESSAGE_TOO_LARGE error envelope; the connection stays open.
	// Default: 65536.
	MaxMessageSize int

	// HardMaxMessageSize is the frame size past which the connection is closed with 1009
	// instead of the frame being discarded. Default: 16 × MaxMessageSize.
	HardMaxMessageSize int64

	// MaxStoredMessages caps each session's retained history (oldest pruned). Only used
	// with a Store. Default: 100.
	MaxStoredMessages int

	// SendQueueSize caps the frames waiting to be written to one connection. A connection
	// whose queue is full is closed with 1008 (policy violation, reason "slow consumer")
	// rather than buffering without bound; its close frame goes out ahead of the queued
	// frames. Frames of a reconnect replay do not count against it. A member of a session
	// (or a stateless client) that sends faster than the connections it feeds read is slowed
	// instead: before its next message is handled it waits, at most 250ms, for every one of
	// them to drain below half of its limits, so only a reader that does not keep up for
	// that long can reach its limit. Default: 256.
	SendQueueSize int

	// SendQueueBytes caps the bytes waiting to be written to one connection, like
	// SendQueueSize caps frames (one frame larger than it is still sent when nothing else
	// waits). Frames of a reconnect replay do not count against it. Default: 4 MiB.
	SendQueueBytes int

	// StoreTimeout bounds each Store call the hub makes. Default: 5s.
	StoreTimeout time.Duration

	// WhileReplying chooses, per session, what happens to a user message (type "message")
	// that arrives while a reply of its session is streaming on any instance: ReplyQueue
	// (handled after, as if nothing ran: today's behaviour), ReplySteer (stored and handed to
	// the running reply, see Stream.Steered), ReplyInterrupt (the running reply is cancelled,
	// then the message is handled) or ReplyReject (an error envelope with code
	// REPLY_RUNNING; nothing stored). PROTOCOL.md, "Messages while a reply runs", shows the
	// frames. Policies other than ReplyQueue need a Store (without one they act as
	// ReplyQueue) and cost one store read per user message. Default: nil, ReplyQueue for
	// every session.
	WhileReplying func(sessionID string) ReplyPolicy

	// StreamLease is how long a streamed reply may go without a sign of life from the
	// instance producing it (producers renew it every StreamLease/3, even while the model
	// is silent). A watcher on any instance that sees the lease run out ends the stream with
	// state "error" (code STREAM_LOST), so no stream hangs forever: watchers see the end
	// within about StreamLease plus one store round trip of the producer's loss.
	// Default: 10s.
	StreamLease time.Duration

	// SessionLinger is how long a session stays subscribed on this hub after its last
	// local connection left, with a Store that does network I/O (not MemoryStore): a client
	// that comes back meanwhile (a reload, a dropped network) joins without waiting for a
	// new subscription, in one store round trip. Shutdown ends lingering sessions at once.
	// Default: 2s. A negative value disables lingering.
	SessionLinger time.Duration

	// Conversations turns on the conversation directory: a live list of each owner's
	// conversations and calls to create, open, rename, clear and delete them over the
	// connection (see ConversationOptions). Default: disabled.
	Conversations ConversationOptions

	// Admit decides before the upgrade whether a connection may be made (authentication,
	// session authorization, connection caps, subprotocol choice, credential expiry); see
	// AdmitFunc. Every adapter runs it, so one function serves them all; middleware.Hooks'
	// Apply installs a middleware chain's. Default: nil (admit everyone).
	Admit AdmitFunc

	// Guards check every decoded inbound message, in order, before it is stored or handled;
	// see Guard. Default: none.
	Guards []Guard

	// OnConnect is called when a connection has joined its session (after any replay was
	// queued). Default: nil. A panic in it is recovered and logged.
	OnConnect func(ConnEvent)

	// OnDisconnect is called once when a connection has ended and its goroutines have
	// stopped. Default: nil. A panic in it is recovered and logged.
	OnDisconnect func(DisconnectEvent)

	// OnFrameIn observes inbound frames (heartbeats excluded). It is called on the
	// connection's goroutines and must be fast. Default: nil. Panics are recovered.
	OnFrameIn func(FrameIn)

	// OnFrameOut observes outbound frames (heartbeats excluded). It is called on the
	// connection's writer and must be fast. Default: nil. Panics are recovered.
	OnFrameOut func(FrameOut)

	// Logger receives the hub's diagnostics. Message contents and credentials are never
	// logged. Default: nil, which discards everything.
	Logger *slog.Logger
}

// Defaults of Options; see each field's documentation.
const (
	DefaultHeartbeatInterval = 30 * time.Second
	DefaultPongTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultMaxMessageSize    = 65536
	DefaultMaxStoredMessages = 100
	DefaultSendQueueSize     = 256
	DefaultSendQueueBytes    = 4 << 20
	DefaultStoreTimeout      = 5 * time.Second
	DefaultStreamLease       = 10 * time.Second
	DefaultSessionLinger     = 2 * time.Second
)

// withDefaults returns a copy of o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = DefaultPongTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.HardMaxMessageSize <= 0 {
		o.HardMaxMessageSize = 16 * int64(o.MaxMessageSize)
	}
	if o.HardMaxMessageSize < int64(o.MaxMessageSize)+1 {
		o.HardMaxMessageSize = int64(o.MaxMessageSize) + 1
	}
	if o.MaxStoredMessages <= 0 {
		o.MaxStoredMessages = DefaultMaxStoredMessages
	}
	if o.SendQueueSize <= 0 {
		o.SendQueueSize = DefaultSendQueueSize
	}
	if o.SendQueueBytes <= 0 {
		o.SendQueueBytes = DefaultSendQueueBytes
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = DefaultStoreTimeout
	}
	if o.StreamLease <= 0 {
		o.StreamLease = DefaultStreamLease
	}
	if o.SessionLinger == 0 {
		o.SessionLinger = DefaultSessionLinger
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
