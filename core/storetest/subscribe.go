package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/storage"
)

func testContextCanceled(t *testing.T, h *harness) {
	sid := session()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errA := h.store.Append(ctx, sid, msg("m", "x"), 0)
	_, errR := h.store.Read(ctx, sid, 0)
	_, _, errL := h.store.Lookup(ctx, sid, "m")
	unsub, errS := h.store.Subscribe(ctx, sid, func(storage.Notification) {})
	if unsub != nil {
		unsub()
	}
	for op, err := range map[string]error{"Append": errA, "Read": errR, "Lookup": errL, "Subscribe": errS} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", op, err)
		}
		if errors.Is(err, storage.ErrStoreUnavailable) {
			t.Errorf("%s with a canceled context: err = %v must not claim the store is unavailable", op, err)
		}
	}
	checkReads(t, h, sid, 0, []readCase{{after: 0}}) // the canceled Append stored nothing
}

func testSubscribeInOrder(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	recs := h.appendN(t, sid, "m", 20, 0)
	got := sub.waitFor(t, 20, h.wait)
	if !equalSeqs(seqs(got), seqRange(1, 20)) {
		t.Fatalf("subscriber got seqs %v, want 1..20 in order", seqs(got))
	}
	for i := range got {
		if !sameMessage(got[i].Message, recs[i].Message) {
			t.Errorf("notification %d = %s, want %s", i, show(got[i].Message), show(recs[i].Message))
		}
	}
}

func testSubscribeFromNowOn(t *testing.T, h *harness) {
	sid := session()
	h.appendN(t, sid, "before", 2, 0)
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	h.appendN(t, sid, "after", 1, 0)
	// Records appended before Subscribe may still arrive (on a Redis Cluster, PUBLISH
	// travels over the cluster bus), but in order, and the new one must.
	got := seqs(sub.waitFor(t, 3, h.wait))
	if len(got) == 0 || got[len(got)-1] != 3 || !equalSeqs(got, seqRange(4-uint64(len(got)), 3)) {
		t.Fatalf("subscriber got seqs %v, want [3] possibly preceded by [1 2] or [2]", got)
	}
}

func testTwoSubscribers(t *testing.T, h *harness) {
	sid := session()
	local, _ := h.mustSubscribe(t, h.store, sid)
	remote, _ := h.mustSubscribe(t, h.peer, sid)
	remote2, _ := h.mustSubscribe(t, h.peer, sid)
	h.appendN(t, sid, "m", 5, 0)
	for name, c := range map[string]*collector{"local": local, "peer": remote, "second on peer": remote2} {
		if got := c.waitFor(t, 5, h.wait); !equalSeqs(seqs(got), seqRange(1, 5)) {
			t.Errorf("%s subscriber got seqs %v, want 1..5", name, seqs(got))
		}
	}
}

func testCancelStopsDelivery(t *testing.T, h *harness) {
	sid := session()
	gone, cancelGone := h.mustSubscribe(t, h.peer, sid)
	stay, _ := h.mustSubscribe(t, h.peer, sid)
	h.appendN(t, sid, "a", 1, 0)
	gone.waitFor(t, 1, h.wait)
	cancelGone()
	cancelGone() // cancel is idempotent
	h.appendN(t, sid, "b", 3, 0)
	if got := stay.waitFor(t, 4, h.wait); !equalSeqs(seqs(got), seqRange(1, 4)) {
		t.Fatalf("remaining subscriber got seqs %v, want 1..4", seqs(got))
	}
	if got := gone.records(); !equalSeqs(seqs(got), []uint64{1}) {
		t.Fatalf("canceled subscriber got seqs %v, want only [1] (nothing after cancel)", seqs(got))
	}
}

// testCancelWaits checks that cancel does not return while a call to fn is in progress.
func testCancelWaits(t *testing.T, h *harness) {
	sid := session()
	entered, release := make(chan struct{}), make(chan struct{})
	var inFn, calls atomic.Int32
	cancel, err := h.peer.Subscribe(h.ctx(t), sid, func(storage.Notification) {
		if calls.Add(1) != 1 {
			return
		}
		inFn.Store(1)
		close(entered)
		<-release // deliberately slow subscriber, released by the test below
		inFn.Store(0)
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(cancel)
	appended := make(chan error, 1)
	go func() { _, err := h.store.Append(context.Background(), sid, msg("m", "x"), 0); appended <- err }()
	select {
	case <-entered:
	case <-time.After(h.wait):
		close(release)
		t.Fatalf("fn was not called within %v", h.wait)
	}
	canceled := make(chan int32, 1)
	go func() { cancel(); canceled <- inFn.Load() }()
	// Give a broken cancel a moment to return early; a correct one blocks until release.
	select {
	case v := <-canceled:
		close(release)
		t.Fatalf("cancel returned while fn was running (inFn=%d)", v)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if v := <-canceled; v != 0 {
		t.Fatalf("cancel returned while fn was running")
	}
	if err := <-appended; err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func testResubscribe(t *testing.T, h *harness) {
	sid := session()
	for round := 1; round <= 3; round++ {
		sub, cancel := h.mustSubscribe(t, h.peer, sid)
		h.appendN(t, sid, fmt.Sprintf("r%d", round), 1, 0)
		if got := sub.waitFor(t, uint64(round), h.wait); !equalSeqs(seqs(got), []uint64{uint64(round)}) {
			t.Fatalf("round %d: subscriber got seqs %v, want [%d]", round, seqs(got), round)
		}
		cancel()
	}
}

func testDuplicateDoesNotNotify(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	h.mustAppend(t, sid, msg("dup", "x"), 0)
	if _, err := h.store.Append(h.ctx(t), sid, msg("dup", "x"), 0); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("second Append: err = %v, want ErrDuplicate", err)
	}
	h.mustAppend(t, sid, msg("after", "y"), 0)
	// Delivery is ordered, so once seq 2 arrived a notification for the duplicate would have too.
	if got := sub.waitFor(t, 2, h.wait); !equalSeqs(seqs(got), []uint64{1, 2}) {
		t.Fatalf("subscriber got seqs %v, want [1 2] (no notification for the duplicate)", seqs(got))
	}
}

func testConcurrentAppends(t *testing.T, h *harness) {
	const writers, each = 8, 25
	const total = writers * each
	sid := session()
	subs := []*collector{}
	for _, s := range []storage.Store{h.store, h.peer} {
		c, _ := h.mustSubscribe(t, s, sid)
		subs = append(subs, c)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := make(map[uint64]string, total)
	errs := make(chan error, total)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				rec, err := h.store.Append(context.Background(), sid, msg(id, id), 0)
				if err != nil {
					errs <- fmt.Errorf("append %s: %w", id, err)
					return
				}
				mu.Lock()
				if prev, dup := seen[rec.Seq]; dup {
					errs <- fmt.Errorf("seq %d given to both %s and %s", rec.Seq, prev, id)
				}
				seen[rec.Seq] = id
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for s := uint64(1); s <= total; s++ {
		if _, ok := seen[s]; !ok {
			t.Fatalf("seqs are not contiguous: %d missing among %d appends", s, total)
		}
	}
	page := h.mustRead(t, sid, 0)
	if page.Head != total || !equalSeqs(seqs(page.Records), seqRange(1, total)) {
		t.Fatalf("Read after concurrent appends: head %d, %d records; want head %d and 1..%d",
			page.Head, len(page.Records), total, total)
	}
	for i, r := range page.Records {
		if r.Message.ID != seen[r.Seq] {
			t.Fatalf("record %d has message %q, but Append returned that seq for %q", i, r.Message.ID, seen[r.Seq])
		}
	}
	for i, c := range subs {
		got := c.waitFor(t, total, h.wait)
		if !equalSeqs(seqs(got), seqRange(1, total)) {
			t.Fatalf("subscriber %d got %d notifications, not 1..%d in increasing order", i, len(got), total)
		}
		for _, r := range got {
			if r.Message.ID != seen[r.Seq] {
				t.Fatalf("subscriber %d: seq %d carries %q, want %q", i, r.Seq, r.Message.ID, seen[r.Seq])
			}
		}
	}
}
