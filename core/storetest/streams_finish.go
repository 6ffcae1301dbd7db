package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// finalMsg is a stream's final message, as the hub stores it.
func finalMsg(id, content string) core.Message {
	return core.Message{
		ID: id, Type: core.TypeMessage, Role: core.RoleAssistant, Content: content,
		Metadata:  []byte(`{"stream":{"id":"` + id + `","state":"done"}}`),
		Timestamp: 1700000000999,
	}
}

func testStreamFinish(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	before := h.appendN(t, sid, "m", 2, 2)
	id := core.NewID()
	h.mustStreamAppend(t, h.store, sid, id, 1, "", longLease)
	h.mustStreamAppend(t, h.store, sid, id, 2, "Hi", longLease)
	h.mustStreamAppend(t, h.store, sid, id, 3, " there", longLease)
	final := finalMsg(id, "Hi there")
	rec, err := h.store.StreamFinish(h.ctx(t), sid, id, final, 2)
	if err != nil || rec.Seq != 3 || !sameMessage(rec.Message, final) {
		t.Fatalf("StreamFinish = seq %d %s, %v; want seq 3 %s", rec.Seq, show(rec.Message), err, show(final))
	}
	// Stored exactly as Append stores, trimming included.
	checkReads(t, h, sid, 3, []readCase{{after: 0, want: []uint64{2, 3}, trimmed: true}, {after: 2, want: []uint64{3}}})
	if page := h.mustRead(t, sid, 2); len(page.Records) != 1 || !sameMessage(page.Records[0].Message, final) {
		t.Fatalf("Read after StreamFinish = %+v, want the final message", page.Records)
	}
	for _, lk := range []struct {
		id  string
		seq uint64
		ok  bool
	}{{id, 3, true}, {"m-2", 2, true}, {"m-1", 0, false}} {
		if seq, ok, err := h.peer.Lookup(h.ctx(t), sid, lk.id); err != nil || seq != lk.seq || ok != lk.ok {
			t.Errorf("Lookup(%q) = %d, %v, %v; want %d, %v", lk.id, seq, ok, err, lk.seq, lk.ok)
		}
	}
	h.checkSnapshot(t, sid) // the state is gone

	// The end is one notification carrying the record, after every delta.
	got := sub.waitEvent(t, h.wait, "the stream's end", isEnd(id))
	checkEvents(t, "subscriber", got, []string{
		recordEvent(before[0]), recordEvent(before[1]),
		deltaEvent(id, 1, ""), deltaEvent(id, 2, "Hi"), deltaEvent(id, 3, " there"),
		endEvent(id, rec),
	})

	// A finished stream takes no more deltas, refreshes or ends, from any instance.
	for _, s := range []storage.Store{h.store, h.peer} {
		if err := s.StreamAppend(h.ctx(t), sid, id, 4, "late", started, longLease); !errors.Is(err, storage.ErrStreamNotFound) {
			t.Errorf("StreamAppend after StreamFinish: err = %v, want ErrStreamNotFound", err)
		}
		if err := s.StreamAppend(h.ctx(t), sid, id, 3, "", started, longLease); !errors.Is(err, storage.ErrStreamNotFound) {
			t.Errorf("lease refresh after StreamFinish: err = %v, want ErrStreamNotFound", err)
		}
		if _, err := s.StreamFinish(h.ctx(t), sid, id, final, 2); !errors.Is(err, storage.ErrStreamNotFound) {
			t.Errorf("second StreamFinish: err = %v, want ErrStreamNotFound", err)
		}
	}
	after := h.mustAppend(t, sid, msg("after", "x"), 2)
	if after.Seq != 4 {
		t.Fatalf("Append after the end got seq %d, want 4", after.Seq)
	}
	got = sub.waitEvent(t, h.wait, "the record after the end", isRecord(after.Seq))
	checkEvents(t, "subscriber after the end", got[6:], []string{recordEvent(after)})
}

func testStreamFinishNotRunning(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	other := core.NewID()
	h.mustStreamAppend(t, h.store, sid, other, 1, "", longLease)
	id := core.NewID()
	for _, s := range []storage.Store{h.store, h.peer} {
		if rec, err := s.StreamFinish(h.ctx(t), sid, id, finalMsg(id, "x"), 0); !errors.Is(err, storage.ErrStreamNotFound) {
			t.Fatalf("StreamFinish of a stream that never ran = %+v, %v; want ErrStreamNotFound", rec, err)
		}
	}
	checkReads(t, h, sid, 0, []readCase{{after: 0}}) // nothing appended
	if _, ok, err := h.store.Lookup(h.ctx(t), sid, id); ok || err != nil {
		t.Fatalf("Lookup of the final message id = %v, %v; want not found", ok, err)
	}
	h.checkSnapshot(t, sid, running(other, 1, "")) // the running stream is untouched
	rec := h.mustAppend(t, sid, msg("next", "x"), 0)
	got := sub.waitEvent(t, h.wait, "the next record", isRecord(rec.Seq))
	checkEvents(t, "subscriber", got, []string{deltaEvent(other, 1, ""), recordEvent(rec)})
}

// testStreamFinishOnce ends each stream from two instances at once (the producer and a
// watcher that saw its lease run out): exactly one wins.
func testStreamFinishOnce(t *testing.T, h *harness) {
	const rounds = 10
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	winners := make([]string, rounds)
	for r := range rounds {
		id := core.NewID()
		h.mustStreamAppend(t, h.store, sid, id, 1, "text", longLease)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []storage.Store{h.store, h.peer} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.StreamFinish(context.Background(), sid, id, finalMsg(id, fmt.Sprint("by ", i)), 0)
			}()
		}
		wg.Wait()
		switch {
		case errs[0] == nil && errors.Is(errs[1], storage.ErrStreamNotFound):
			winners[r] = "by 0"
		case errs[1] == nil && errors.Is(errs[0], storage.ErrStreamNotFound):
			winners[r] = "by 1"
		default:
			t.Fatalf("round %d: concurrent StreamFinish errors %v; want exactly one nil and one ErrStreamNotFound", r, errs)
		}
	}
	page := h.mustRead(t, sid, 0)
	if page.Head != rounds || len(page.Records) != rounds {
		t.Fatalf("after %d contested ends: head %d, %d records; want one record per stream", rounds, page.Head, len(page.Records))
	}
	for r, rec := range page.Records {
		if rec.Message.Content != winners[r] {
			t.Errorf("record %d holds %q, but the winner was %q", r, rec.Message.Content, winners[r])
		}
	}
	sub.waitEvent(t, h.wait, "the last end", isEnd(page.Records[rounds-1].Message.ID))
	ends := 0
	for _, ev := range sub.events() {
		if ev.Stream != nil && ev.Stream.Kind == storage.StreamEnded {
			if ends >= rounds || ev.Record.Seq != page.Records[ends].Seq || ev.Stream.StreamID != page.Records[ends].Message.ID {
				t.Fatalf("end notification %d is %s; want the end of stream %d", ends, describe(ev), ends)
			}
			ends++
		}
	}
	if ends != rounds {
		t.Fatalf("subscriber got %d end notifications, want %d", ends, rounds)
	}
}

// testStreamFinishDuplicateID ends a stream whose final message id is already retained:
// like Append, StreamFinish returns that record with ErrDuplicate; the stream has ended.
func testStreamFinishDuplicate(t *testing.T, h *harness) {
	sid := session()
	id := core.NewID()
	first := h.mustAppend(t, sid, finalMsg(id, "stored before"), 0)
	h.mustStreamAppend(t, h.store, sid, id, 1, "new", longLease)
	rec, err := h.peer.StreamFinish(h.ctx(t), sid, id, finalMsg(id, "new"), 0)
	if !errors.Is(err, storage.ErrDuplicate) || rec.Seq != first.Seq || !sameMessage(rec.Message, first.Message) {
		t.Fatalf("StreamFinish with a retained id = seq %d %s, %v; want the retained record and ErrDuplicate", rec.Seq, show(rec.Message), err)
	}
	checkReads(t, h, sid, 1, []readCase{{after: 0, want: []uint64{1}}})
	h.checkSnapshot(t, sid)
}

func testStreamCancelPublish(t *testing.T, h *harness) {
	sid := session()
	subs := map[string]*collector{}
	subs["local"], _ = h.mustSubscribe(t, h.store, sid)
	subs["peer"], _ = h.mustSubscribe(t, h.peer, sid)
	subs["second on peer"], _ = h.mustSubscribe(t, h.peer, sid)
	osid := session()
	elsewhere, _ := h.mustSubscribe(t, h.peer, osid)
	id := core.NewID()
	typing := core.Message{ID: "t-1", Type: core.TypeTyping, Role: core.RoleUser, Content: "a:b ✓",
		Metadata: []byte(`{"k":[1,"x"]}`), Timestamp: 1700000000555}
	bare := core.Message{Type: core.TypeTyping, Role: core.RoleAssistant}
	if err := h.peer.StreamCancel(h.ctx(t), sid, id); err != nil { // delivered even if no stream runs
		t.Fatalf("StreamCancel: %v", err)
	}
	for _, m := range []core.Message{typing, bare} {
		if err := h.store.Publish(h.ctx(t), sid, m); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	want := []string{
		describe(storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamCancelled, StreamID: id}}),
		describe(storage.Notification{Ephemeral: &typing}), describe(storage.Notification{Ephemeral: &bare}),
	}
	for name, sub := range subs {
		got := sub.waitEvent(t, h.wait, "the second ephemeral message", func(n storage.Notification) bool {
			return n.Ephemeral != nil && n.Ephemeral.ID == ""
		})
		checkEvents(t, name+" subscriber", got, want)
	}
	// Nothing is stored.
	checkReads(t, h, sid, 0, []readCase{{after: 0}})
	h.checkSnapshot(t, sid)
	if _, ok, err := h.store.Lookup(h.ctx(t), sid, typing.ID); ok || err != nil {
		t.Fatalf("Lookup of a published message = %v, %v; want not found", ok, err)
	}
	// Other sessions hear nothing: their first notification is their own record.
	rec := h.mustAppend(t, osid, msg("own", "x"), 0)
	got := elsewhere.waitEvent(t, h.wait, "the other session's record", isRecord(rec.Seq))
	checkEvents(t, "subscriber of another session", got, []string{recordEvent(rec)})
}

func testStreamCallChecks(t *testing.T, h *harness) {
	id := core.NewID()
	calls := func(ctx context.Context, sid string) map[string]error {
		_, errS := h.store.StreamSnapshot(ctx, sid)
		_, errF := h.store.StreamFinish(ctx, sid, id, finalMsg(id, "x"), 0)
		return map[string]error{
			"StreamAppend":   h.store.StreamAppend(ctx, sid, id, 1, "x", started, longLease),
			"StreamSnapshot": errS,
			"StreamFinish":   errF,
			"StreamCancel":   h.store.StreamCancel(ctx, sid, id),
			"Publish":        h.store.Publish(ctx, sid, msg("m", "x")),
		}
	}
	for _, bad := range invalidSessionIDs() {
		for op, err := range calls(h.ctx(t), bad) {
			if !errors.Is(err, core.ErrInvalidSessionID) {
				t.Errorf("%s(%q): err = %v, want ErrInvalidSessionID", op, bad, err)
			}
		}
	}
	sid := session()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for op, err := range calls(ctx, sid) {
		if !errors.Is(err, context.Canceled) || errors.Is(err, storage.ErrStoreUnavailable) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled (not unavailable)", op, err)
		}
	}
	h.checkSnapshot(t, sid) // the canceled calls did nothing
	checkReads(t, h, sid, 0, []readCase{{after: 0}})
}
