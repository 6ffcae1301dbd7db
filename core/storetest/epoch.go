package storetest

import (
	"testing"
	"time"

	"github.com/chatwire/chatwire/storage"
)

func epochCases() []tcase {
	return []tcase{
		{"EpochReported", testEpochReported},
		{"JoinMatchesReads", testJoinMatchesReads},
		{"JoinOtherEpoch", testJoinOtherEpoch},
		{"EpochChangesWhenLost", testEpochChangesWhenLost},
	}
}

// testEpochReported: an empty session has no epoch; once it has history, Read, Join,
// Append's subscribers (on both instances) all report one epoch, stable across appends.
func testEpochReported(t *testing.T, h *harness) {
	sid := session()
	if page := h.mustRead(t, sid, 0); page.Epoch != "" || page.Head != 0 {
		t.Fatalf("empty session: epoch %q head %d, want none and 0", page.Epoch, page.Head)
	}
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	h.appendN(t, sid, "e", 3, 0)
	epoch := h.mustRead(t, sid, 0).Epoch
	if epoch == "" {
		t.Fatal("Read after appends reports no epoch")
	}
	j, err := h.store.Join(h.ctx(t), sid, storage.JoinRequest{})
	if err != nil || j.Page.Epoch != epoch || j.Page.Head != 3 {
		t.Fatalf("Join = epoch %q head %d, %v; want %q and 3", j.Page.Epoch, j.Page.Head, err, epoch)
	}
	sub.waitFor(t, 3, h.wait)
	for _, n := range sub.events() {
		if n.Record.Seq != 0 && n.Epoch != epoch {
			t.Fatalf("notification of seq %d has epoch %q, want %q", n.Record.Seq, n.Epoch, epoch)
		}
	}
}

// testJoinMatchesReads: Join answers what Lookup, Read and StreamSnapshot would.
func testJoinMatchesReads(t *testing.T, h *harness) {
	sid := session()
	if j, err := h.store.Join(h.ctx(t), sid, storage.JoinRequest{LastMessageID: "x", Replay: true}); err != nil ||
		j.Found || j.Page.Head != 0 || j.Page.Epoch != "" || len(j.Page.Records) != 0 || len(j.Streams) != 0 {
		t.Fatalf("Join of an empty session = %+v, %v; want nothing", j, err)
	}
	recs := h.appendN(t, sid, "j", 5, 3) // retained: 3, 4, 5
	h.mustStreamAppend(t, h.store, sid, "s-1", 1, "hi", time.Minute)
	cases := []struct {
		name    string
		req     storage.JoinRequest
		found   bool
		anchor  uint64
		seqs    []uint64
		trimmed bool
	}{
		{"after a retained id", storage.JoinRequest{LastMessageID: recs[3].Message.ID, Replay: true}, true, 4, []uint64{5}, false},
		{"after the newest", storage.JoinRequest{LastMessageID: recs[4].Message.ID, Replay: true}, true, 5, nil, false},
		{"after a trimmed id", storage.JoinRequest{LastMessageID: recs[0].Message.ID, Replay: true}, false, 0, []uint64{3, 4, 5}, true},
		{"everything", storage.JoinRequest{Replay: true}, false, 0, []uint64{3, 4, 5}, true},
		{"no replay", storage.JoinRequest{LastMessageID: recs[3].Message.ID}, true, 4, nil, false},
	}
	epoch := h.mustRead(t, sid, 0).Epoch
	for _, tc := range cases {
		j, err := h.store.Join(h.ctx(t), sid, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if j.Found != tc.found || j.Anchor != tc.anchor || !equalSeqs(seqs(j.Page.Records), tc.seqs) ||
			j.Page.Trimmed != tc.trimmed || j.Page.Head != 5 || j.Page.Epoch != epoch {
			t.Errorf("%s: found %v anchor %d seqs %v trimmed %v head %d epoch %q; want %v %d %v %v 5 %q",
				tc.name, j.Found, j.Anchor, seqs(j.Page.Records), j.Page.Trimmed, j.Page.Head, j.Page.Epoch,
				tc.found, tc.anchor, tc.seqs, tc.trimmed, epoch)
		}
		if len(j.Streams) != 1 || j.Streams[0].ID != "s-1" || j.Streams[0].Content != "hi" {
			t.Errorf("%s: streams %+v, want s-1 with %q", tc.name, j.Streams, "hi")
		}
		for i, r := range j.Page.Records {
			if want := recs[r.Seq-1]; !sameMessage(r.Message, want.Message) {
				t.Errorf("%s: record %d = %s, want %s", tc.name, i, show(r.Message), show(want.Message))
			}
		}
	}
}

// testJoinOtherEpoch: a lastMessageId of another epoch is not looked up.
func testJoinOtherEpoch(t *testing.T, h *harness) {
	sid := session()
	recs := h.appendN(t, sid, "o", 3, 0)
	epoch := h.mustRead(t, sid, 0).Epoch
	j, err := h.store.Join(h.ctx(t), sid, storage.JoinRequest{LastMessageID: recs[1].Message.ID, Epoch: epoch, Replay: true})
	if err != nil || !j.Found || j.Anchor != 2 || !equalSeqs(seqs(j.Page.Records), []uint64{3}) {
		t.Fatalf("Join in the current epoch = %+v, %v; want anchor 2 and [3]", j, err)
	}
	j, err = h.store.Join(h.ctx(t), sid, storage.JoinRequest{LastMessageID: recs[1].Message.ID, Epoch: "not-" + epoch, Replay: true})
	if err != nil || j.Found || !equalSeqs(seqs(j.Page.Records), []uint64{1, 2, 3}) {
		t.Fatalf("Join from another epoch = %+v, %v; want not found and every record", j, err)
	}
}

// testEpochChangesWhenLost: after the backend lost a session's history, the next append
// starts again at 1 in a new epoch, which reads, joins and notifications report.
func testEpochChangesWhenLost(t *testing.T, h *harness) {
	if h.lose == nil {
		t.Skip("the suite's Options.Lose is not set: this backend cannot be made to lose data here")
	}
	sid := session()
	recs := h.appendN(t, sid, "l", 3, 0)
	old := h.mustRead(t, sid, 0).Epoch
	h.lose(sid)
	if page := h.mustRead(t, sid, 0); page.Head != 0 || page.Epoch != "" || len(page.Records) != 0 {
		t.Fatalf("after the loss: head %d epoch %q %d records; want an empty history without epoch", page.Head, page.Epoch, len(page.Records))
	}
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	rec := h.mustAppend(t, sid, recs[0].Message, 0) // the same id: not a duplicate any more
	if rec.Seq != 1 {
		t.Fatalf("first append after the loss has seq %d, want 1", rec.Seq)
	}
	page := h.mustRead(t, sid, 0)
	if page.Epoch == "" || page.Epoch == old {
		t.Fatalf("epoch after the loss = %q (before %q), want a new one", page.Epoch, old)
	}
	// On a cluster the old epoch's records may still arrive (published before Subscribe);
	// the new record must arrive with the new epoch.
	sub.waitEvent(t, h.wait, "the new record with the new epoch", func(n storage.Notification) bool {
		return n.Record.Seq == 1 && n.Epoch == page.Epoch && n.Record.Message.ID == recs[0].Message.ID
	})
	j, err := h.store.Join(h.ctx(t), sid, storage.JoinRequest{LastMessageID: recs[2].Message.ID, Epoch: old, Replay: true})
	if err != nil || j.Found || j.Page.Epoch != page.Epoch || !equalSeqs(seqs(j.Page.Records), []uint64{1}) {
		t.Fatalf("Join with the old epoch = %+v, %v; want the new history", j, err)
	}
}
