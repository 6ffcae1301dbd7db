package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// pendingCases are the cases of storage.PendingStore; a store that does not implement it
// fails them (the hub's human-in-the-loop features need it).
func pendingCases() []tcase {
	return []tcase{
		{"PendingAddGetList", testPendingAddGetList},
		{"PendingAnswerOnceAcrossInstances", testPendingAnswerOnce},
		{"PendingAnswerNotifiesEveryone", testPendingAnswerNotifies},
		{"PendingBadAnswersChangeNothing", testPendingBadAnswers},
		{"PendingDelete", testPendingDelete},
	}
}

func pendingStore(t *testing.T, s storage.Store) storage.PendingStore {
	t.Helper()
	ps, ok := s.(storage.PendingStore)
	if !ok {
		t.Fatalf("%T does not implement storage.PendingStore", s)
	}
	return ps
}

func approvalReq(id string) storage.PendingRequest {
	return storage.PendingRequest{ID: id, Kind: storage.PendingApproval, StreamID: "s-" + id, ToolCallID: "call-" + id, ToolName: "roll", Created: 1700000000000}
}

func testPendingAddGetList(t *testing.T, h *harness) {
	ps, peer := pendingStore(t, h.store), pendingStore(t, h.peer)
	sid := session()
	ctx := h.ctx(t)
	q := storage.PendingRequest{ID: "q1", Kind: storage.PendingQuestion, StreamID: "s1", Created: 1700000000001, Expires: 1700000009999,
		Question: &storage.Question{Message: "Which size?", Schema: json.RawMessage(`{"type":"object","properties":{"size":{"type":"string","enum":["S","M"]}},"required":["size"]}`)}}
	for _, r := range []storage.PendingRequest{approvalReq("a1"), q} {
		if err := ps.PendingAdd(ctx, sid, r); err != nil {
			t.Fatalf("PendingAdd(%s): %v", r.ID, err)
		}
	}
	if err := peer.PendingAdd(ctx, sid, approvalReq("a1")); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("second PendingAdd(a1) = %v, want ErrDuplicate", err)
	}
	got, err := peer.PendingGet(ctx, sid, "q1")
	if err != nil {
		t.Fatalf("PendingGet(q1) on the peer: %v", err)
	}
	want, _ := json.Marshal(q)
	have, _ := json.Marshal(got)
	if !jsonSame(want, have) {
		t.Fatalf("PendingGet(q1) = %s, want %s", have, want)
	}
	if _, err := peer.PendingGet(ctx, sid, "nope"); !errors.Is(err, storage.ErrPendingNotFound) {
		t.Fatalf("PendingGet(unknown) = %v, want ErrPendingNotFound", err)
	}
	if _, err := peer.PendingGet(ctx, session(), "q1"); !errors.Is(err, storage.ErrPendingNotFound) {
		t.Fatalf("PendingGet in another session = %v, want ErrPendingNotFound", err)
	}
	list, err := peer.PendingList(ctx, sid)
	if err != nil || len(list) != 2 || list[0].ID != "a1" || list[1].ID != "q1" {
		t.Fatalf("PendingList = %+v, %v; want a1, q1", list, err)
	}
}

func jsonSame(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func testPendingAnswerOnce(t *testing.T, h *harness) {
	stores := []storage.PendingStore{pendingStore(t, h.store), pendingStore(t, h.peer)}
	sid := session()
	ctx := h.ctx(t)
	if err := stores[0].PendingAdd(ctx, sid, approvalReq("a1")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = stores[i%2].PendingAnswer(ctx, sid, "a1", storage.PendingAnswer{Approved: i%2 == 0, By: string(rune('a' + i)), At: int64(1700000000100 + i)}, 1700000000100)
		}(i)
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("answers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrPendingAnswered):
			t.Fatalf("losing answer %d: %v, want ErrPendingAnswered", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no answer won")
	}
	got, err := stores[1].PendingGet(ctx, sid, "a1")
	if err != nil || got.Answer == nil || got.Answer.By != string(rune('a'+winner)) || got.Answer.Approved != (winner%2 == 0) {
		t.Fatalf("PendingGet after the race = %+v, %v; want the answer of %d", got, err, winner)
	}
}

func testPendingAnswerNotifies(t *testing.T, h *harness) {
	ps := pendingStore(t, h.store)
	sid := session()
	ctx := h.ctx(t)
	col, cancel := h.mustSubscribe(t, h.peer, sid)
	defer cancel()
	if err := ps.PendingAdd(ctx, sid, approvalReq("a1")); err != nil {
		t.Fatal(err)
	}
	got, err := ps.PendingAnswer(ctx, sid, "a1", storage.PendingAnswer{Approved: true, Reason: "ok", By: "alice", At: 1700000000200}, 1700000000200)
	if err != nil || got.Answer == nil || !got.Answer.Approved || got.Answer.Reason != "ok" || got.ID != "a1" || got.ToolCallID != "call-a1" {
		t.Fatalf("PendingAnswer = %+v, %v", got, err)
	}
	want := storage.PendingNotice("a1")
	col.waitEvent(t, h.wait, "the pending notice", func(n storage.Notification) bool {
		return n.Ephemeral != nil && n.Ephemeral.Type == want.Type && string(n.Ephemeral.Metadata) == string(want.Metadata)
	})
}

func testPendingBadAnswers(t *testing.T, h *harness) {
	ps, peer := pendingStore(t, h.store), pendingStore(t, h.peer)
	sid := session()
	ctx := h.ctx(t)
	exp := approvalReq("old")
	exp.Expires = 1700000000500
	for _, r := range []storage.PendingRequest{approvalReq("a1"), exp} {
		if err := ps.PendingAdd(ctx, sid, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := peer.PendingAnswer(ctx, sid, "a1", storage.PendingAnswer{Approved: true, At: 1}, 1700000000100); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, sid, id string
		now           int64
		want          error
	}{
		{"unknown", sid, "nope", 1700000000100, storage.ErrPendingNotFound},
		{"other session", session(), "a1", 1700000000100, storage.ErrPendingNotFound},
		{"answered", sid, "a1", 1700000000100, storage.ErrPendingAnswered},
		{"expired", sid, "old", 1700000000500, storage.ErrPendingExpired},
	} {
		if _, err := peer.PendingAnswer(ctx, c.sid, c.id, storage.PendingAnswer{Approved: false, By: "mallory", At: 2}, c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: PendingAnswer = %v, want %v", c.name, err, c.want)
		}
	}
	a1, _ := ps.PendingGet(ctx, sid, "a1")
	old, _ := ps.PendingGet(ctx, sid, "old")
	if a1.Answer == nil || !a1.Answer.Approved || a1.Answer.By != "" || old.Answer != nil {
		t.Fatalf("bad answers changed the store: a1 %+v, old %+v", a1.Answer, old.Answer)
	}
	// now = 0 skips the expiry check: the waiting handler's own timeout answers.
	if _, err := peer.PendingAnswer(ctx, sid, "old", storage.PendingAnswer{Timeout: true, By: core.TimeoutAnswerer, At: 3}, 0); err != nil {
		t.Fatalf("timeout answer of an expired request: %v", err)
	}
}

func testPendingDelete(t *testing.T, h *harness) {
	ps, peer := pendingStore(t, h.store), pendingStore(t, h.peer)
	sid := session()
	ctx := h.ctx(t)
	for _, id := range []string{"a1", "a2"} {
		if err := ps.PendingAdd(ctx, sid, approvalReq(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := peer.PendingDelete(ctx, sid, "a1"); err != nil {
		t.Fatal(err)
	}
	if err := peer.PendingDelete(ctx, sid, "a1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := ps.PendingAnswer(ctx, sid, "a1", storage.PendingAnswer{Approved: true}, 1); !errors.Is(err, storage.ErrPendingNotFound) {
		t.Fatalf("answer after delete = %v, want ErrPendingNotFound", err)
	}
	list, err := ps.PendingList(ctx, sid)
	if err != nil || len(list) != 1 || list[0].ID != "a2" {
		t.Fatalf("PendingList = %+v, %v; want a2", list, err)
	}
	if err := ps.PendingAdd(ctx, sid, approvalReq("a1")); err != nil {
		t.Fatalf("re-adding a deleted id: %v", err)
	}
}
