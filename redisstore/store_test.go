package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

func TestNewRejectsBadOptions(t *testing.T) {
	_, client := newMiniredis(t)
	for _, prefix := range []string{"a{b", "x}", "{}"} {
		if s, err := redisstore.New(client, redisstore.Options{Prefix: prefix}); err == nil {
			_ = s.Close()
			t.Errorf("New with Prefix %q succeeded; want an error (braces break hash tags)", prefix)
		}
	}
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil client) succeeded")
	}
}

// TestKeyLayout checks the documented key and channel names and the explicit entry fields.
func TestKeyLayout(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{Prefix: "app:"})
	const sid = "room:1.a_b-c"
	cancel, err := s.Subscribe(ctx, sid, func(storage.Notification) {})
	if err != nil {
		t.Fatal(err)
	}
	const channel = "app:{room:1.a_b-c}:live"
	if got := mr.PubSubChannels("app:*"); !slices.Equal(got, []string{channel}) {
		t.Fatalf("channels after Subscribe = %v, want [%s]", got, channel)
	}
	m := core.Message{ID: "m1", Type: core.TypeToolCall, Role: core.RoleAssistant, Content: "hi",
		Metadata: []byte(`{"k":1}`), Timestamp: 1700000000123}
	if _, err := s.Append(ctx, sid, m, 10); err != nil {
		t.Fatal(err)
	}
	keys := mr.Keys()
	want := []string{"app:{room:1.a_b-c}:meta", "app:{room:1.a_b-c}:stream"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	entries, err := client.XRange(ctx, "app:{room:1.a_b-c}:stream", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantFields := map[string]any{"r": `1700000000123:2:m19:tool_call9:assistant7:{"k":1}hi`}
	if len(entries) != 1 || entries[0].ID != "1-0" || !mapsEqual(entries[0].Values, wantFields) {
		t.Fatalf("stream entries = %+v, want one entry 1-0 with %v", entries, wantFields)
	}
	for field, want := range map[string]string{"m:m1": "1", "~seq": "1", "~first": "1", "~low": "1"} {
		if got := mr.HGet("app:{room:1.a_b-c}:meta", field); got != want {
			t.Fatalf("meta field %s = %q, want %q", field, got, want)
		}
	}
	if mr.HGet("app:{room:1.a_b-c}:meta", "~epoch") == "" {
		t.Fatal("meta has no epoch")
	}
	cancel()
	eventually(t, "the channel to be unsubscribed after the last cancel", func() bool {
		return len(mr.PubSubChannels("app:*")) == 0
	})
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSessionTTL checks the TTL set by Append (1.25 x SessionTTL, refreshed at most every
// SessionTTL/4), on miniredis and on a real Redis.
func TestSessionTTL(t *testing.T) {
	cases := []struct {
		name string
		ttl  time.Duration
		want time.Duration // 0: no expiry
	}{
		{"default", 0, redisstore.DefaultSessionTTL * 5 / 4},
		{"custom", 90 * time.Second, 90 * time.Second * 5 / 4},
		{"never", -1, 0},
	}
	backends := map[string]func(t *testing.T) redis.UniversalClient{
		"miniredis": func(t *testing.T) redis.UniversalClient { _, c := newMiniredis(t); return c },
		"redis":     func(t *testing.T) redis.UniversalClient { return realRedis(t) },
	}
	for _, backend := range []string{"miniredis", "redis"} {
		for _, tc := range cases {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				client := backends[backend](t)
				prefix := uniquePrefix(t, client)
				s := newStore(t, client, redisstore.Options{Prefix: prefix, SessionTTL: tc.ttl})
				if _, err := s.Append(ctx, "s1", testMsg("a"), 0); err != nil {
					t.Fatal(err)
				}
				for _, suffix := range []string{"stream", "meta"} {
					key := prefix + "{s1}:" + suffix
					pttl, err := client.PTTL(ctx, key).Result()
					if err != nil {
						t.Fatal(err)
					}
					switch {
					case tc.want == 0 && pttl != -1: // -1: key exists without expiry
						t.Errorf("%s: PTTL %v, want no expiry", key, pttl)
					case tc.want > 0 && (pttl <= tc.want-5*time.Second || pttl > tc.want):
						t.Errorf("%s: PTTL %v, want about %v", key, pttl, tc.want)
					}
				}
			})
		}
	}
}

// TestSessionExpires moves miniredis's clock: an idle session disappears and restarts at 1
// in a new epoch, while a Join (a connection joining) refreshes the TTL.
func TestSessionExpires(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{SessionTTL: time.Hour})
	epochs := map[string]string{}
	for _, sid := range []string{"idle", "watched"} {
		if _, err := s.Append(ctx, sid, testMsg("a"), 0); err != nil {
			t.Fatal(err)
		}
		page, err := s.Read(ctx, sid, 0)
		if err != nil || page.Epoch == "" {
			t.Fatalf("Read = %+v, %v; want an epoch", page, err)
		}
		epochs[sid] = page.Epoch
	}
	mr.FastForward(70 * time.Minute)
	if _, err := s.Join(ctx, "watched", storage.JoinRequest{}); err != nil {
		t.Fatal(err)
	}
	mr.FastForward(10 * time.Minute) // 80 minutes: past 1.25 x SessionTTL since the append
	for sid, wantHead := range map[string]uint64{"idle": 0, "watched": 1} {
		page, err := s.Read(ctx, sid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if page.Head != wantHead {
			t.Errorf("session %s after 80 min: head %d, want %d", sid, page.Head, wantHead)
		}
	}
	rec, err := s.Append(ctx, "idle", testMsg("a"), 0)
	if err != nil || rec.Seq != 1 {
		t.Fatalf("Append to an expired session = seq %d, %v; want seq 1, nil", rec.Seq, err)
	}
	if page, err := s.Read(ctx, "idle", 0); err != nil || page.Epoch == "" || page.Epoch == epochs["idle"] {
		t.Fatalf("after re-creation: epoch %q (was %q), %v; want a new epoch", page.Epoch, epochs["idle"], err)
	}
}

// TestKeepAliveRefreshesWatchedSessions checks the Store's TTL keeper goroutine.
func TestKeepAliveRefreshesWatchedSessions(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{SessionTTL: 3 * time.Second}) // refresh every 1s
	if _, err := s.Append(ctx, "w", testMsg("a"), 0); err != nil {
		t.Fatal(err)
	}
	cancel, err := s.Subscribe(ctx, "w", func(storage.Notification) {})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	mr.FastForward(2 * time.Second) // 1s left
	eventually(t, "the keeper to refresh the TTL", func() bool { return mr.TTL("chatwire:{w}:meta") > 2*time.Second })
}

func TestCloseEndsSubscriptions(t *testing.T) {
	ctx := context.Background()
	_, client := newMiniredis(t)
	s, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := newNotes()
	cancel, err := s.Subscribe(ctx, "s", n.fn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	cancel() // must not block or panic after Close
	if _, err := s.Subscribe(ctx, "s", n.fn); !errors.Is(err, storage.ErrStoreUnavailable) {
		t.Fatalf("Subscribe after Close: err = %v, want ErrStoreUnavailable", err)
	}
	// The caller's client is still usable: Append works and nobody is notified.
	if _, err := s.Append(ctx, "s", testMsg("a"), 0); err != nil {
		t.Fatalf("Append after Close: %v", err)
	}
	if got := n.snapshot(); len(got) != 0 {
		t.Fatalf("notifications after Close: %+v", got)
	}
}

// TestLargeSequenceNumbers starts a session's counter near 2^53 (where Lua's number
// formatting would print an exponent) and checks appends, reads and delivery.
func TestLargeSequenceNumbers(t *testing.T) {
	ctx := context.Background()
	_, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{})
	const start = 1<<53 - 10
	if err := client.HSet(ctx, "chatwire:{big}:meta", "~seq", start, "~epoch", "e", "~first", start+1, "~low", start+1).Err(); err != nil {
		t.Fatal(err)
	}
	n := newNotes()
	cancel, err := s.Subscribe(ctx, "big", n.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for i := range 3 {
		rec, err := s.Append(ctx, "big", testMsg(fmt.Sprint(i)), 2)
		if err != nil || rec.Seq != start+uint64(i)+1 {
			t.Fatalf("Append %d = seq %d, %v; want %d", i, rec.Seq, err, start+i+1)
		}
	}
	n.waitFor(t, "the last record", hasSeq(start+3))
	page, err := s.Read(ctx, "big", start+1)
	if err != nil || page.Head != start+3 || page.Trimmed || len(page.Records) != 2 || page.Records[0].Seq != start+2 {
		t.Fatalf("Read = %+v, %v", page, err)
	}
	if seq, ok, err := s.Lookup(ctx, "big", "2"); err != nil || !ok || seq != start+3 {
		t.Fatalf("Lookup = %d, %v, %v", seq, ok, err)
	}
}

// TestEntriesOfEarlierVersions: stream entries written before the one-field layout (one
// field per message field) are still read, looked up, reported as duplicates and trimmed
// with their index fields.
func TestEntriesOfEarlierVersions(t *testing.T) {
	backends := map[string]func(t *testing.T) redis.UniversalClient{
		"miniredis": func(t *testing.T) redis.UniversalClient { _, c := newMiniredis(t); return c },
		"redis":     func(t *testing.T) redis.UniversalClient { return realRedis(t) },
	}
	for name, newClient := range backends {
		t.Run(name, func(t *testing.T) { testEntriesOfEarlierVersions(t, newClient(t)) })
	}
}

func testEntriesOfEarlierVersions(t *testing.T, client redis.UniversalClient) {
	ctx := context.Background()
	prefix := uniquePrefix(t, client)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	stream, meta := prefix+"{old}:stream", prefix+"{old}:meta"
	if err := client.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: "1-0", Values: []any{
		"id", "legacy", "type", "message", "role", "user", "content", "from before", "meta", `{"k":1}`, "ts", "1700000000123",
	}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.HSet(ctx, meta, "~seq", "1", "~epoch", "e0", "~first", "1", "~low", "1", "m:legacy", "1").Err(); err != nil {
		t.Fatal(err)
	}
	want := core.Message{ID: "legacy", Type: core.TypeMessage, Role: core.RoleUser, Content: "from before",
		Metadata: []byte(`{"k":1}`), Timestamp: 1700000000123}
	page, err := s.Read(ctx, "old", 0)
	if err != nil || len(page.Records) != 1 || !reflect.DeepEqual(page.Records[0].Message, want) || page.Epoch != "e0" {
		t.Fatalf("Read = %+v, %v; want the legacy record %+v", page, err, want)
	}
	if seq, ok, err := s.Lookup(ctx, "old", "legacy"); err != nil || !ok || seq != 1 {
		t.Fatalf("Lookup = %d, %v, %v", seq, ok, err)
	}
	if rec, err := s.Append(ctx, "old", want, 0); !errors.Is(err, storage.ErrDuplicate) || !reflect.DeepEqual(rec.Message, want) {
		t.Fatalf("Append of the legacy id = %+v, %v; want the stored record and ErrDuplicate", rec, err)
	}
	for i := range 8 { // trims the legacy entry, physically too (batches of maxLen/4)
		if _, err := s.Append(ctx, "old", testMsg(fmt.Sprintf("n%d", i)), 4); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := client.HExists(ctx, meta, "m:legacy").Result(); err != nil || n {
		t.Fatalf("index field of the trimmed legacy entry still there (%v, %v)", n, err)
	}
	for i := range 8 { // and those of the new layout: n0..n3 trimmed, n4..n7 retained
		if n, err := client.HExists(ctx, meta, fmt.Sprintf("m:n%d", i)).Result(); err != nil || n != (i >= 4) {
			t.Fatalf("index field m:n%d present = %v (%v), want %v", i, n, err, i >= 4)
		}
	}
	if n, err := client.XLen(ctx, stream).Result(); err != nil || n > 5 {
		t.Fatalf("stream holds %d entries after trimming to 4, %v", n, err)
	}
}
