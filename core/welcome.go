package core

import (
	"encoding/json"

	"github.com/chatwire/chatwire/envelope"
)

// welcomeMessage is the first envelope queued for c, before any replay: never stored.
func welcomeMessage(c *connection, replayed int, streams []string, epoch string) *Message {
	if streams == nil {
		streams = []string{}
	}
	w := envelope.Welcome{Code: envelope.CodeWelcome, SessionID: c.info.SessionID, ConnectionID: c.id, Stored: c.hub.store != nil, MaxMessageSize: c.hub.opts.MaxMessageSize, Replayed: replayed, Streams: streams, Epoch: epoch}
	meta, _ := json.Marshal(w) // strings and ints only: cannot fail
	return &Message{
		ID:        NewID(),
		Type:      TypeSystem,
		Role:      RoleSystem,
		Content:   envelope.WelcomeContent,
		Metadata:  meta,
		Timestamp: envelope.NowMillis(),
	}
}

// queueWelcomeLocked queues the welcome envelope; it must be c's first frame. c.mu must be
// held.
func (c *connection) queueWelcomeLocked(replayed int, streams []string, epoch string) {
	c.enqueueLocked(frameOf(welcomeMessage(c, replayed, streams, epoch)), true)
}
