// Package storage is what chatwire asks of a store, for those who write one. Applications
// pick a store (core.MemoryStore, redisstore) and pass it as core.Options.Store; they do not
// need this package, except for the few record types and constants core mentions.
//
// A store implements Store, which embeds StreamStore: session histories of Records with
// per-session sequence numbers and an epoch, a consistent snapshot for a joining connection
// (Join), and notifications to every subscribed instance (Subscribe); running streams'
// chunk logs, their cancel requests and ephemeral messages (StreamStore). Two parts are
// optional, detected with a type assertion: PendingStore holds the requests a handler
// waits on (tool approvals, questions), so that exactly one answer wins wherever it is
// given; DirectoryStore keeps each owner's conversation directory and tells every
// instance about its changes.
//
// Delivery through notifications may be at-most-once: the hub recovers from the ordered
// history (a gap in sequence numbers, a Resync notification) and from stream snapshots.
// The conformance suite in package core/storetest holds every implementation to the same
// contract; run it against a new store before anything else.
//
// The package holds only declarations and small pure helpers (ValidTitle, NormalizeTitle,
// ValidOwner, CompactStreamLog, PendingNotice, PendingNoticeID); all are safe for concurrent
// use. It imports only the standard library, the module's envelope package and its internal
// chunk-log package.
package storage
