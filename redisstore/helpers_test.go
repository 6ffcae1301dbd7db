package redisstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

const waitTimeout = 10 * time.Second

// eventually polls cond until it holds, failing t after waitTimeout. It is for state that
// has no event to wait on (a key's TTL, the server's list of channels).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		<-tick.C
	}
}

// notes collects a subscription's notifications; fn never blocks.
type notes struct {
	mu      sync.Mutex
	list    []storage.Notification
	changed chan struct{}
}

func newNotes() *notes { return &notes{changed: make(chan struct{}, 1)} }

func (n *notes) fn(x storage.Notification) {
	n.mu.Lock()
	n.list = append(n.list, x)
	n.mu.Unlock()
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

func (n *notes) snapshot() []storage.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]storage.Notification(nil), n.list...)
}

// waitFor waits until some notification satisfies match and returns its index.
func (n *notes) waitFor(t *testing.T, what string, match func(storage.Notification) bool) int {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		for i, x := range n.snapshot() {
			if match(x) {
				return i
			}
		}
		select {
		case <-n.changed:
		case <-timer.C:
			t.Fatalf("timed out after %v waiting for %s; got %+v", waitTimeout, what, n.snapshot())
		}
	}
}

func isResync(x storage.Notification) bool { return x.Resync }

func hasSeq(seq uint64) func(storage.Notification) bool {
	return func(x storage.Notification) bool { return !x.Resync && x.Record.Seq == seq }
}

func testMsg(id string) core.Message {
	return core.Message{ID: id, Type: core.TypeMessage, Role: core.RoleUser, Content: "c-" + id, Timestamp: 1}
}
