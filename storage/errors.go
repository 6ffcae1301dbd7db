package storage

import "errors"

// Errors every store returns. Compare with errors.Is; implementations wrap them with %w.
var (
	// ErrDuplicate is returned by Store.Append when a message with the same ID is
	// already in the session's retained history. The existing record is returned with it.
	ErrDuplicate = errors.New("chatwire: duplicate message id")
	// ErrStoreUnavailable wraps store failures caused by the backend being unreachable.
	ErrStoreUnavailable = errors.New("chatwire: store unavailable")
)

// Errors of DirectoryStore. Clients see one code for both "not found" and "not yours"
// (SESSION_NOT_FOUND), so they cannot probe which ids exist.
var (
	// ErrConversationNotFound: the owner has no conversation with that id (it never
	// existed, expired, was deleted, or belongs to another owner).
	ErrConversationNotFound = errors.New("chatwire: conversation not found")
	// ErrDirectoryFull: the owner already has the maximum number of conversations.
	ErrDirectoryFull = errors.New("chatwire: too many conversations")
	// ErrInvalidTitle: a title breaks the rules of ValidTitle.
	ErrInvalidTitle = errors.New("chatwire: invalid conversation title")
)
