package core

import (
	"encoding/json"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// History epochs on the hub side. A session's cursor is a sequence number of one epoch (see
// storage.Record). Whenever the hub sees another epoch — in a notification, in the page its fetcher
// reads, or in what a joining connection read — the fetcher reads the history and, if the
// epoch really changed, resetLocked starts over: every connection is told with a
// HISTORY_RESET envelope and then receives the new epoch's records from the first one, so
// nothing stored after the reset is skipped because its sequence number is low. A history
// that went back in time under the same epoch (a failover to a lagging replica, a restart
// from an older snapshot) is caught when the fetcher catches up after the pub/sub
// reconnect such events cause: it re-reads the record at its cursor and resets the same
// way when that record is gone or is another message (wentBack).

// resetMessage is the system envelope that says the history was reset to epoch:
// metadata {"code":"HISTORY_RESET","epoch":"…"}.
func resetMessage(epoch string) *Message {
	meta, _ := json.Marshal(struct {
		Code  string `json:"code"`
		Epoch string `json:"epoch"`
	}{string(CodeHistoryReset), epoch}) // two strings: cannot fail
	return &Message{
		ID:        NewID(),
		Type:      TypeSystem,
		Role:      RoleSystem,
		Content:   "The conversation history was reset; earlier messages are no longer available.",
		Metadata:  meta,
		Timestamp: envelope.NowMillis(),
	}
}

// adoptEpochLocked handles a page or notification of epoch at the session: it reports
// whether the caller may go on comparing sequence numbers with the cursor. An epoch is
// adopted silently while nothing has been delivered (cursor 0); otherwise a different
// epoch resets the session. s.mu must be held.
func (s *session) adoptEpochLocked(epoch string) bool {
	if epoch == s.epoch {
		return true
	}
	if s.cursor == 0 {
		s.epoch = epoch
		return true
	}
	s.resetLocked(epoch)
	return false
}

// wentBack reports whether page, read from the record at the cursor (from) on, shows that
// the history went back in time without a new epoch: its head is below the cursor, or the
// record at the cursor is another message than the one delivered (lastID).
func wentBack(page storage.Page, from uint64, lastID string) bool {
	if page.Head < from {
		return true
	}
	return len(page.Records) > 0 && page.Records[0].Seq == from && page.Records[0].Message.ID != lastID
}

// resetLocked moves the session to epoch: the cursor starts again at 0, every connection is
// sent HISTORY_RESET (a connection still reading its replay drops what it held back and is
// told when it goes live), and the fetcher reads the new history from its start. s.mu must
// be held.
func (s *session) resetLocked(epoch string) {
	s.hub.log.Warn("chatwire: session history was reset (store lost it)", "session", s.id)
	s.epoch = epoch
	s.cursor, s.lastID = 0, ""
	s.resetAt, s.resetUntil = true, 0
	f := frameOf(resetMessage(epoch))
	for c := range s.conns {
		c.mu.Lock()
		c.cursor = 0
		if c.replaying {
			c.pending = c.pending[:0]
			c.resetDuringJoin = true
		} else {
			c.enqueueLocked(f, true)
		}
		c.mu.Unlock()
	}
	s.needFetch = true
	s.needStreams = true
	s.startFetchLocked()
}
