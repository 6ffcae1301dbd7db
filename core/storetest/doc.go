// Package storetest is the conformance suite for storage.Store implementations. Every store
// (the in-memory one in core, redisstore, and third-party ones) runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storage.Store { return newTestStore(t) })
//	}
//
// The suite checks the contract documented on storage.Store: sequence numbers, Read pages and
// their Head and Trimmed fields, trimming to maxLen, Lookup, duplicate ids (a message id is
// a duplicate exactly while a message with that id is in the retained history), exact round
// trips of every Message field, session isolation, ordered delivery to subscribers,
// cancellation, concurrent appends, session id validation and context cancellation; and the
// stream contract of storage.StreamStore: deltas and snapshots, lease refresh and expiry,
// out-of-order deltas, StreamFinish (appending like Append, exactly once across instances),
// cancel requests and ephemeral messages.
//
// Stores that deliver notifications asynchronously are supported: the suite waits for
// expected notifications with a bounded timeout (Options.WaitTimeout) and proves that
// something was not delivered by appending a later record and waiting for that one, relying
// on ordered delivery. Every case uses fresh random session ids, so stores may share a
// backend across cases and parallel test runs.
//
// Run and RunWithOptions start subtests that may run store calls from several goroutines;
// the store under test must be safe for concurrent use. The suite itself keeps no state
// between runs.
package storetest
