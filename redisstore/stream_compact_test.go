package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// TestStreamCompaction: a long running stream's text in Redis is compacted every
// storage.StreamCompactEvery deltas and folds to the same parts; plain text is never touched.
func TestStreamCompaction(t *testing.T) {
	for name, client := range map[string]func(t *testing.T) redis.UniversalClient{
		"miniredis": func(t *testing.T) redis.UniversalClient { _, c := newMiniredis(t); return c },
		"redis":     func(t *testing.T) redis.UniversalClient { return realRedis(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t, client(t), redisstore.Options{Prefix: "compact:" + core.NewID() + ":", SessionTTL: time.Hour})
			deltas := []string{`{"type":"chatwire-stream","replyTo":"ask"}` + "\n" + `{"type":"text-start","id":"t1"}` + "\n"}
			for i := 1; i < 1000; i++ {
				deltas = append(deltas, `["t1","w "]`+"\n")
			}
			full := strings.Join(deltas, "")
			for i, d := range deltas {
				if err := s.StreamAppend(ctx, "sess", "st", uint64(i+1), d, 1, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			for i := 1; i <= 300; i++ {
				if err := s.StreamAppend(ctx, "sess", "plain", uint64(i), "word ", 1, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			states, err := s.StreamSnapshot(ctx, "sess")
			if err != nil || len(states) != 2 {
				t.Fatalf("snapshot: %v %+v", err, states)
			}
			for _, st := range states {
				switch st.ID {
				case "st":
					if len(st.Content) >= len(full)/2 || st.Seq != 1000 {
						t.Fatalf("content %d bytes for %d bytes of deltas (seq %d): not compacted", len(st.Content), len(full), st.Seq)
					}
					want, _ := storage.CompactStreamLog(full)
					if got, ok := storage.CompactStreamLog(st.Content); !ok || got != want {
						t.Fatalf("compacted content folds differently")
					}
					// Appending goes on after a compaction, and the stream still finishes.
					if err := s.StreamAppend(ctx, "sess", "st", 1001, `["t1","end"]`+"\n", 1, time.Minute); err != nil {
						t.Fatal(err)
					}
				case "plain":
					if st.Content != strings.Repeat("word ", 300) {
						t.Fatalf("plain content changed: %d bytes", len(st.Content))
					}
				}
			}
		})
	}
}
