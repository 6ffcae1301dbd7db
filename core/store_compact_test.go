package core_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// compactionDeltas returns the deltas of a long stream as the hub writes them (a chunk
// log, PROTOCOL-independent: see internal/streamlog): a head line, a text part started, then
// n short text deltas, and the whole log.
func compactionDeltas(n int) (deltas []string, full string) {
	deltas = append(deltas, `{"type":"chatwire-stream","replyTo":"ask"}`+"\n"+`{"type":"text-start","id":"t1"}`+"\n")
	for i := 1; i < n; i++ {
		deltas = append(deltas, `["t1","w "]`+"\n")
	}
	return deltas, strings.Join(deltas, "")
}

// TestMemoryStoreCompactsStreams: a long running stream's content is compacted, and folds to
// the same parts as the deltas it replaced; plain text is never touched.
func TestMemoryStoreCompactsStreams(t *testing.T) {
	ctx := context.Background()
	s := core.NewMemoryStore(core.MemoryStoreOptions{})
	deltas, full := compactionDeltas(1000)
	for i, d := range deltas {
		if err := s.StreamAppend(ctx, "sess", "st", uint64(i+1), d, 1, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	states, err := s.StreamSnapshot(ctx, "sess")
	if err != nil || len(states) != 1 {
		t.Fatalf("snapshot: %v %+v", err, states)
	}
	got := states[0].Content
	if len(got) >= len(full)/2 {
		t.Fatalf("content %d bytes for %d bytes of deltas: not compacted", len(got), len(full))
	}
	want, ok := storage.CompactStreamLog(full)
	again, ok2 := storage.CompactStreamLog(got)
	if !ok || !ok2 || want != again {
		t.Fatalf("compacted content folds differently:\n%q\n%q", want, again)
	}
	if !strings.HasPrefix(got, `{"type":"chatwire-stream","replyTo":"ask"}`) || states[0].Seq != 1000 {
		t.Fatalf("head or seq lost: seq %d, %.80q", states[0].Seq, got)
	}
	for i := 1; i <= 300; i++ { // plain text content (not a chunk log) is kept as it is
		if err := s.StreamAppend(ctx, "sess", "plain", uint64(i), "word ", 1, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	states, _ = s.StreamSnapshot(ctx, "sess")
	for _, st := range states {
		if st.ID == "plain" && st.Content != strings.Repeat("word ", 300) {
			t.Fatalf("plain content changed: %d bytes", len(st.Content))
		}
	}
	if _, ok := storage.CompactStreamLog("not a log"); ok {
		t.Fatal("plain text taken for a chunk log")
	}
}
