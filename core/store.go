package core

import "github.com/chatwire/chatwire/storage"

// Store keeps session histories and tells every subscribed instance about new records: it
// is what makes sessions persistent and lets several hubs (processes) serve one session.
// Pass MemoryStore (one process) or redisstore (several) as Options.Store. What a store
// implements, and the optional parts (streams, pending requests, the conversation
// directory), are described in package storage.
type Store = storage.Store

// PendingRequest is a request a handler waits on (a tool approval or a question), as
// Hub.PendingRequests lists it; see storage.PendingRequest.
type PendingRequest = storage.PendingRequest

// Question is what a handler asks the user (Stream.Ask), in the shape of MCP's elicitation
// request; see storage.Question for its fields.
type Question = storage.Question

// Conversation is one entry of an owner's conversation directory (ReplyWriter.Conversation);
// see storage.Conversation.
type Conversation = storage.Conversation

// Errors the store reports through the hub, re-exported so that callers of Hub and Stream
// methods compare with errors.Is without importing package storage. They are the same
// values as storage's.
var (
	// ErrStoreUnavailable wraps failures of an unreachable store backend.
	ErrStoreUnavailable = storage.ErrStoreUnavailable
	// ErrStreamNotFound: Hub.CancelStream named a stream that does not run.
	ErrStreamNotFound = storage.ErrStreamNotFound
	// ErrConversationNotFound: the owner has no conversation with that id.
	ErrConversationNotFound = storage.ErrConversationNotFound
	// ErrInvalidTitle: a title breaks the rules of storage.ValidTitle.
	ErrInvalidTitle = storage.ErrInvalidTitle
	// ErrPendingNotFound: Hub.Answer named a request that does not wait.
	ErrPendingNotFound = storage.ErrPendingNotFound
	// ErrPendingAnswered: another answer (or the timeout) won.
	ErrPendingAnswered = storage.ErrPendingAnswered
	// ErrPendingExpired: the request's time to answer has passed.
	ErrPendingExpired = storage.ErrPendingExpired
)
