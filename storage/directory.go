package storage

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Conversation is one entry of an owner's conversation directory (see DirectoryStore). Its
// id is the id of the session that holds its history and streams.
type Conversation struct {
	// ID is the session id.
	ID string `json:"id"`
	// Title is the conversation's name; "" until someone names it. See ValidTitle.
	Title string `json:"title"`
	// Created is when the conversation was created, in ms since the Unix epoch.
	Created int64 `json:"created"`
	// LastActive is when a message was last appended (or the conversation created or
	// cleared), in ms since the Unix epoch. Lists are ordered by it, newest first.
	LastActive int64 `json:"lastActive"`
	// Messages counts the messages appended since the conversation was created or cleared
	// (streamed replies count once, when they end). It keeps counting past the retained
	// history's cap.
	Messages int64 `json:"messages"`
	// Running reports that a streamed reply is being produced.
	Running bool `json:"running"`
}

// ConversationPage is one page of a directory listing, newest first.
type ConversationPage struct {
	Conversations []Conversation `json:"conversations"`
	// Next is the cursor of the following page; "" when this is the last one.
	Next string `json:"next,omitempty"`
}

// ConversationUpdate changes a directory entry (DirectoryStore.UpdateConversation). Zero
// fields change nothing.
type ConversationUpdate struct {
	// Title, when set, renames the conversation.
	Title *string
	// Active, when > 0, moves LastActive forward to it (never backwards).
	Active int64
	// AddMessages is added to the message count, unless Active is before the conversation
	// was last cleared (a message stored before the clear, say by a reply that was still
	// finishing, does not count after it).
	AddMessages int64
	// Running, when set, sets the running flag.
	Running *bool
	// Event is the kind of the DirectoryEvent published with the result. Default:
	// ConversationActivity.
	Event DirectoryEventKind
}

// DirectoryStore keeps, per owner, the directory of its conversations. A Store that
// implements it can back core.Options.Conversations; a Store without it still serves
// sessions (core.NewHub refuses Conversations without it). core.MemoryStore and
// redisstore.Store implement it, and the storetest conformance suite tests it when the store
// under test does.
//
// A session belongs to at most one owner: CreateConversation claims it, and no other owner
// can claim it while the claim lives. A deleted conversation's id is never claimed again
// (until the store's session TTL has passed since the deletion), so a client that
// reconnects to it is refused instead of bringing it back. Owners are opaque non-empty strings (see
// ValidOwner). Entries expire with their sessions: an entry without activity for the
// store's session TTL is gone. Implementations must be safe for concurrent use.
type DirectoryStore interface {
	// CreateConversation adds conv (ID, Title, Created; the rest is reset) to owner's
	// directory, claims the session conv.ID for owner and publishes ConversationCreated. If
	// owner already has it, the existing entry is returned unchanged (created is false,
	// nothing is published). If another owner has claimed the session, it returns
	// ErrConversationNotFound; if owner already has max conversations (max > 0),
	// ErrDirectoryFull.
	CreateConversation(ctx context.Context, owner string, conv Conversation, max int) (c Conversation, created bool, err error)

	// SessionClaimed reports whether the session belongs to an owner's directory or was
	// deleted from one (and may therefore not be joined without being its owner).
	SessionClaimed(ctx context.Context, sessionID string) (bool, error)

	// GetConversation returns owner's entry id, or ErrConversationNotFound.
	GetConversation(ctx context.Context, owner, id string) (Conversation, error)

	// ListConversations returns up to limit entries of owner's directory, newest
	// LastActive first (ties by id, descending), starting after cursor ("" for the first
	// page; else a ConversationPage.Next). An invalid cursor starts from the beginning.
	ListConversations(ctx context.Context, owner, cursor string, limit int) (ConversationPage, error)

	// UpdateConversation applies u to owner's entry id, publishes an event of kind u.Event
	// with the result and returns it, or returns ErrConversationNotFound (and changes
	// nothing). ErrInvalidTitle when u.Title breaks ValidTitle.
	UpdateConversation(ctx context.Context, owner, id string, u ConversationUpdate) (Conversation, error)

	// ClearConversation removes the session's retained history and running streams,
	// keeping its id and sequence numbers (records appended later continue after the old
	// ones), resets the entry's message count and running flag, moves LastActive to now and
	// publishes ConversationCleared. ErrConversationNotFound (nothing changes) when owner
	// has no such entry.
	ClearConversation(ctx context.Context, owner, id string, now int64) (Conversation, error)

	// DeleteConversation removes owner's entry and the session's history and streams,
	// turns the claim into a tombstone that refuses every later claim of the id, and
	// publishes ConversationDeleted. ErrConversationNotFound (nothing changes) when owner has
	// no such entry.
	DeleteConversation(ctx context.Context, owner, id string) error

	// SubscribeDirectory calls fn for each event of owner's directory from now on (on any
	// instance sharing the store), in the order of the changes, until cancel is called.
	// Delivery may be at-most-once: fn receives DirectoryEvent{Resync: true} when events
	// may have been lost. fn must not block and must not call the store; cancel waits for
	// a running fn.
	SubscribeDirectory(ctx context.Context, owner string, fn func(DirectoryEvent)) (cancel func(), err error)
}

// DirectoryEventKind says what changed in a directory.
type DirectoryEventKind string

// Kinds of DirectoryEvent, also the "event" values of conversation frames (PROTOCOL.md).
const (
	ConversationCreated  DirectoryEventKind = "created"
	ConversationRenamed  DirectoryEventKind = "renamed"
	ConversationCleared  DirectoryEventKind = "cleared"
	ConversationDeleted  DirectoryEventKind = "deleted"
	ConversationActivity DirectoryEventKind = "activity"
	ConversationStarted  DirectoryEventKind = "started" // a streamed reply started
	ConversationEnded    DirectoryEventKind = "ended"   // a streamed reply ended
)

// DirectoryEvent is a change to an owner's directory, published through the store.
type DirectoryEvent struct {
	Kind DirectoryEventKind `json:"event"`
	// Conversation is the entry after the change (only ID for ConversationDeleted).
	Conversation Conversation `json:"conversation"`
	// Resync, when true, says events may have been lost: read the list again. Kind and
	// Conversation are then zero.
	Resync bool `json:"-"`
}

// Bounds of directory values.
const (
	// MaxTitleLength is the longest title, in bytes of UTF-8.
	MaxTitleLength = 200
	// MaxOwnerLength is the longest owner key, in bytes.
	MaxOwnerLength = 256
)

// ValidTitle reports whether t may name a conversation: valid UTF-8, at most
// MaxTitleLength bytes, no control characters (tabs and line breaks included) and no
// Unicode format characters such as bidirectional overrides. "" is valid (untitled).
func ValidTitle(t string) bool {
	if len(t) > MaxTitleLength || !utf8.ValidString(t) {
		return false
	}
	for _, r := range t {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// NormalizeTitle trims surrounding white space from t; the result is then checked with
// ValidTitle.
func NormalizeTitle(t string) string { return strings.TrimSpace(t) }

// ValidOwner reports whether owner may key a directory: 1 to MaxOwnerLength bytes, none of
// them an ASCII control character.
func ValidOwner(owner string) bool {
	if owner == "" || len(owner) > MaxOwnerLength {
		return false
	}
	for i := 0; i < len(owner); i++ {
		if owner[i] < 0x20 || owner[i] == 0x7f {
			return false
		}
	}
	return true
}
