package storetest

import (
	"errors"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

func testSeqStartsAtOne(t *testing.T, h *harness) {
	sid := session()
	recs := h.appendN(t, sid, "m", 3, 0)
	if got := seqs(recs); !equalSeqs(got, []uint64{1, 2, 3}) {
		t.Fatalf("Append seqs = %v, want [1 2 3]", got)
	}
	page := h.mustRead(t, sid, 0)
	if page.Head != 3 || page.Trimmed || len(page.Records) != 3 {
		t.Fatalf("Read(0) = head %d trimmed %v %d records, want head 3, untrimmed, 3 records",
			page.Head, page.Trimmed, len(page.Records))
	}
	for i, r := range page.Records {
		if r.Seq != recs[i].Seq || !sameMessage(r.Message, recs[i].Message) {
			t.Errorf("Read record %d = seq %d %s, want seq %d %s",
				i, r.Seq, show(r.Message), recs[i].Seq, show(recs[i].Message))
		}
	}
}

// readCase is one Read call and the page it must return (Head is checked separately).
type readCase struct {
	after   uint64
	want    []uint64
	trimmed bool
}

func checkReads(t *testing.T, h *harness, sid string, head uint64, cases []readCase) {
	t.Helper()
	for _, rc := range cases {
		page := h.mustRead(t, sid, rc.after)
		if page.Head != head || page.Trimmed != rc.trimmed || !equalSeqs(seqs(page.Records), rc.want) {
			t.Errorf("Read(after %d) = seqs %v head %d trimmed %v; want seqs %v head %d trimmed %v",
				rc.after, seqs(page.Records), page.Head, page.Trimmed, rc.want, head, rc.trimmed)
		}
	}
}

func testReadAfter(t *testing.T, h *harness) {
	sid := session()
	h.appendN(t, sid, "m", 4, 0)
	checkReads(t, h, sid, 4, []readCase{
		{after: 0, want: []uint64{1, 2, 3, 4}},
		{after: 1, want: []uint64{2, 3, 4}},
		{after: 3, want: []uint64{4}},
		{after: 4, want: nil},  // at head
		{after: 10, want: nil}, // past head (e.g. a stale client)
	})
}

func testEmptySession(t *testing.T, h *harness) {
	sid := session()
	checkReads(t, h, sid, 0, []readCase{{after: 0}, {after: 5}})
	if seq, ok, err := h.store.Lookup(h.ctx(t), sid, "nope"); err != nil || ok || seq != 0 {
		t.Fatalf("Lookup on empty session = %d, %v, %v; want 0, false, nil", seq, ok, err)
	}
}

func testTrimKeepsNewest(t *testing.T, h *harness) {
	sid := session()
	h.appendN(t, sid, "m", 6, 3) // retains 4, 5, 6
	checkReads(t, h, sid, 6, []readCase{
		{after: 0, want: []uint64{4, 5, 6}, trimmed: true},
		{after: 2, want: []uint64{4, 5, 6}, trimmed: true}, // 3 was pruned
		{after: 3, want: []uint64{4, 5, 6}},                // nothing after 3 is missing
		{after: 5, want: []uint64{6}},
		{after: 6, want: nil},
		{after: 9, want: nil},
	})
}

func testMaxLenMayChange(t *testing.T, h *harness) {
	sid := session()
	h.appendN(t, sid, "a", 4, 0) // maxLen 0: keep everything
	checkReads(t, h, sid, 4, []readCase{{after: 0, want: []uint64{1, 2, 3, 4}}})
	h.appendN(t, sid, "b", 1, 2) // a smaller maxLen trims everything older at once
	checkReads(t, h, sid, 5, []readCase{
		{after: 0, want: []uint64{4, 5}, trimmed: true},
		{after: 3, want: []uint64{4, 5}},
	})
	h.appendN(t, sid, "c", 1, 10) // a larger maxLen brings nothing back
	checkReads(t, h, sid, 6, []readCase{{after: 0, want: []uint64{4, 5, 6}, trimmed: true}})
}

func testLookup(t *testing.T, h *harness) {
	sid := session()
	h.appendN(t, sid, "m", 5, 3) // retains m-3, m-4, m-5 as seqs 3..5
	for _, tc := range []struct {
		id   string
		seq  uint64
		ok   bool
		note string
	}{
		{"m-5", 5, true, "newest"},
		{"m-3", 3, true, "oldest retained"},
		{"m-2", 0, false, "trimmed"},
		{"m-1", 0, false, "trimmed"},
		{"unknown", 0, false, "never appended"},
		{"", 0, false, "empty id"},
	} {
		seq, ok, err := h.store.Lookup(h.ctx(t), sid, tc.id)
		if err != nil || ok != tc.ok || seq != tc.seq {
			t.Errorf("Lookup(%q) (%s) = %d, %v, %v; want %d, %v, nil", tc.id, tc.note, seq, ok, err, tc.seq, tc.ok)
		}
	}
}

func testDuplicateReturnsExisting(t *testing.T, h *harness) {
	sid := session()
	first := h.mustAppend(t, sid, msg("dup", "original"), 0)
	h.appendN(t, sid, "other", 1, 0)
	again := msg("dup", "different content")
	again.Timestamp = 42
	rec, err := h.store.Append(h.ctx(t), sid, again, 0)
	if !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("second Append of id dup: err = %v, want ErrDuplicate", err)
	}
	if rec.Seq != first.Seq || !sameMessage(rec.Message, first.Message) {
		t.Fatalf("duplicate Append returned seq %d %s, want the original seq %d %s",
			rec.Seq, show(rec.Message), first.Seq, show(first.Message))
	}
	checkReads(t, h, sid, 2, []readCase{{after: 0, want: []uint64{1, 2}}})
	if next := h.mustAppend(t, sid, msg("next", "x"), 0); next.Seq != 3 {
		t.Fatalf("Append after a duplicate got seq %d, want 3 (a duplicate uses no sequence)", next.Seq)
	}
}

func testDuplicateAfterTrim(t *testing.T, h *harness) {
	sid := session()
	h.appendN(t, sid, "m", 3, 2) // m-1 trimmed
	// m-2 is retained: still a duplicate.
	if _, err := h.store.Append(h.ctx(t), sid, msg("m-2", "again"), 2); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("Append of retained id m-2: err = %v, want ErrDuplicate", err)
	}
	// m-1 is no longer retained: it is stored again as a new record.
	rec := h.mustAppend(t, sid, msg("m-1", "again"), 2)
	if rec.Seq != 4 {
		t.Fatalf("re-append of trimmed id got seq %d, want 4", rec.Seq)
	}
	if seq, ok, err := h.store.Lookup(h.ctx(t), sid, "m-1"); err != nil || !ok || seq != 4 {
		t.Fatalf("Lookup(m-1) = %d, %v, %v; want 4, true, nil", seq, ok, err)
	}
	// The trim caused by that append pruned m-2, which is now appendable again too.
	if seq, ok, err := h.store.Lookup(h.ctx(t), sid, "m-2"); err != nil || ok {
		t.Fatalf("Lookup(m-2) after it was trimmed = %d, %v, %v; want not found", seq, ok, err)
	}
}

func testEmptyIDNeverDuplicate(t *testing.T, h *harness) {
	sid := session()
	a := h.mustAppend(t, sid, msg("", "one"), 0)
	b := h.mustAppend(t, sid, msg("", "two"), 0)
	if a.Seq != 1 || b.Seq != 2 {
		t.Fatalf("appends with empty ids got seqs %d, %d; want 1, 2", a.Seq, b.Seq)
	}
}

// roundTripMessages are messages whose every field must survive storage byte for byte.
func roundTripMessages() []core.Message {
	return []core.Message{
		{ID: "plain", Type: core.TypeMessage, Role: core.RoleUser, Content: "hello", Timestamp: 1700000000123},
		{ID: "empty-content", Type: core.TypeTyping, Role: core.RoleUser, Content: "", Timestamp: 1},
		{ID: "unicode-ü-😀", Type: core.TypeMessage, Role: core.RoleAssistant,
			Content: "héllo 世界 😀 \u2028\u2029 <&> \"quoted\" \\ \t\r\n end", Timestamp: 1700000000000},
		{ID: "control", Type: core.TypeSystem, Role: core.RoleSystem,
			Content: "nul\x00byte, colon: 12:34, pipe|, newline\nx", Timestamp: 0},
		{ID: "meta", Type: core.TypeToolCall, Role: core.RoleAssistant, Content: "{}",
			Metadata:  []byte(`{ "tool" : "search", "args": {"q":"a\u00e9b","n":[1, 2.50, -3e2]}, "x":null }`),
			Timestamp: 9007199254740993}, // above 2^53: must not pass through a float
		{ID: "meta-empty-object", Type: core.TypeToolResult, Role: core.RoleAssistant,
			Content: "r", Metadata: []byte(`{}`), Timestamp: -5},
		{ID: "max-ts", Type: core.TypeError, Role: core.RoleSystem, Content: "e",
			Metadata: []byte(`{"code":"INTERNAL"}`), Timestamp: 1<<63 - 1},
		{ID: "odd-type", Type: "custom", Role: "robot", Content: "types are stored verbatim", Timestamp: 7},
		{ID: "long", Type: core.TypeMessage, Role: core.RoleUser, Content: longString(64 << 10), Timestamp: 8},
	}
}

func longString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789 "[i%37]
	}
	return string(b)
}

func testRoundTrip(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	msgs := roundTripMessages()
	for _, m := range msgs {
		h.mustAppend(t, sid, m, 0) // checks the returned record
	}
	page := h.mustRead(t, sid, 0)
	live := sub.waitFor(t, uint64(len(msgs)), h.wait)
	if len(page.Records) != len(msgs) || len(live) != len(msgs) {
		t.Fatalf("read %d records and received %d, want %d each", len(page.Records), len(live), len(msgs))
	}
	for i, m := range msgs {
		if got := page.Records[i].Message; !sameMessage(got, m) {
			t.Errorf("Read: message %q came back as\n %s\nwant\n %s", m.ID, show(got), show(m))
		}
		if got := live[i].Message; !sameMessage(got, m) {
			t.Errorf("Subscribe: message %q arrived as\n %s\nwant\n %s", m.ID, show(got), show(m))
		}
	}
}

func testAppendCopiesMetadata(t *testing.T, h *harness) {
	sid := session()
	m := msg("m", "x")
	m.Metadata = []byte(`{"a":1}`)
	h.mustAppend(t, sid, m, 0)
	copy(m.Metadata, `{"b":2}`) // the caller reuses its buffer
	page := h.mustRead(t, sid, 0)
	if len(page.Records) != 1 || string(page.Records[0].Message.Metadata) != `{"a":1}` {
		t.Fatalf("stored metadata changed with the caller's buffer: %+v", page.Records)
	}
}

func testSessionsIsolated(t *testing.T, h *harness) {
	a, b := session(), session()
	subB, _ := h.mustSubscribe(t, h.peer, b)
	h.appendN(t, a, "m", 3, 0)
	recB := h.mustAppend(t, b, msg("m-1", "same id, other session"), 0) // not a duplicate
	if recB.Seq != 1 {
		t.Fatalf("first append to session b got seq %d, want 1", recB.Seq)
	}
	checkReads(t, h, a, 3, []readCase{{after: 0, want: []uint64{1, 2, 3}}})
	checkReads(t, h, b, 1, []readCase{{after: 0, want: []uint64{1}}})
	if seq, ok, _ := h.store.Lookup(h.ctx(t), b, "m-2"); ok {
		t.Fatalf("Lookup found session a's message in session b at seq %d", seq)
	}
	got := subB.waitFor(t, 1, h.wait)
	if len(got) != 1 || got[0].Message.Content != "same id, other session" {
		t.Fatalf("session b's subscriber got %d records (%v); want only b's record", len(got), seqs(got))
	}
}

func invalidSessionIDs() []string {
	long := make([]byte, core.MaxSessionIDLen+1)
	for i := range long {
		long[i] = 'a'
	}
	return []string{"", string(long), "has space", "{tag}", "star*", "q?", "slash/", "é", "nl\n"}
}

func testInvalidSessionID(t *testing.T, h *harness) {
	for _, sid := range invalidSessionIDs() {
		ctx := h.ctx(t)
		_, errA := h.store.Append(ctx, sid, msg("m", "x"), 0)
		_, errR := h.store.Read(ctx, sid, 0)
		_, _, errL := h.store.Lookup(ctx, sid, "m")
		cancel, errS := h.store.Subscribe(ctx, sid, func(storage.Notification) {})
		if cancel != nil {
			cancel()
		}
		for op, err := range map[string]error{"Append": errA, "Read": errR, "Lookup": errL, "Subscribe": errS} {
			if !errors.Is(err, core.ErrInvalidSessionID) {
				t.Errorf("%s(%q): err = %v, want ErrInvalidSessionID", op, sid, err)
			}
		}
	}
}
