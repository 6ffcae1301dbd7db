package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// TestStreamKeyLayout checks the documented stream keys, their TTLs and the exact pub/sub
// payloads of every kind.
func TestStreamKeyLayout(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{Prefix: "app:", SessionTTL: time.Hour})
	const sid, id, base = "room:1", "s-1", "app:{room:1}:"
	raw := client.Subscribe(ctx, base+"live")
	t.Cleanup(func() { _ = raw.Close() })
	if _, err := raw.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	before := time.Now().UnixMilli()
	for seq, delta := range []string{"", "he", "llo"} {
		if err := s.StreamAppend(ctx, sid, id, uint64(seq+1), delta, 1700000000123, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	keys := mr.Keys()
	want := []string{base + "st:" + id, base + "streams", base + "text:" + id}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	if m, _ := mr.Members(base + "streams"); !slices.Equal(m, []string{id}) {
		t.Fatalf("running set = %v", m)
	}
	if got, _ := mr.Get(base + "text:" + id); got != "hello" {
		t.Fatalf("text = %q", got)
	}
	if seq, started := mr.HGet(base+"st:"+id, "seq"), mr.HGet(base+"st:"+id, "started"); seq != "3" || started != "1700000000123" {
		t.Fatalf("state seq %q started %q", seq, started)
	}
	deadline, err := strconv.ParseInt(mr.HGet(base+"st:"+id, "deadline"), 10, 64)
	if err != nil || deadline < before+10000 || deadline > time.Now().UnixMilli()+10000 {
		t.Fatalf("lease deadline %d (%v); want now+10s in ms", deadline, err)
	}
	for _, k := range keys {
		if ttl := mr.TTL(k); ttl != time.Hour {
			t.Errorf("TTL of %s = %v, want the session TTL", k, ttl)
		}
	}
	if err := s.StreamCancel(ctx, sid, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, sid, core.Message{ID: "t", Type: core.TypeTyping, Role: core.RoleUser, Timestamp: 5}); err != nil {
		t.Fatal(err)
	}
	final := core.Message{ID: id, Type: core.TypeMessage, Role: core.RoleAssistant, Content: "hello",
		Metadata: []byte(`{"k":1}`), Timestamp: 7}
	if _, err := s.StreamFinish(ctx, sid, id, final, 10); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{
		"d1:1700000000123:3:s-1", "d2:1700000000123:3:s-1he", "d3:1700000000123:3:s-1llo",
		"cs-1",
		"e0:5:0:1:t6:typing4:user0:",
		"f3:s-11:7:<epoch>3:s-17:message9:assistant7:{\"k\":1}hello",
	} {
		m, err := raw.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if epoch := mr.HGet(base+"meta", "~epoch"); epoch != "" {
			want = strings.Replace(want, "<epoch>", fmt.Sprintf("%d:%s", len(epoch), epoch), 1)
		}
		if m.Payload != want {
			t.Errorf("payload %d = %q, want %q", i, m.Payload, want)
		}
	}
	keys = mr.Keys()
	if want := []string{base + "meta", base + "stream"}; !slices.Equal(keys, want) {
		t.Fatalf("keys after StreamFinish = %v, want only the history's %v", keys, want)
	}
}

// TestStreamRefreshesSessionTTL checks that a running stream keeps its whole session alive:
// a long stream must not let the history (and its sequence numbers) expire under it.
func TestStreamRefreshesSessionTTL(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{SessionTTL: time.Hour})
	if _, err := s.Append(ctx, "s", testMsg("q"), 0); err != nil {
		t.Fatal(err)
	}
	mr.FastForward(50 * time.Minute)
	if err := s.StreamAppend(ctx, "s", "r", 1, "", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	mr.FastForward(50 * time.Minute)
	if err := s.StreamAppend(ctx, "s", "r", 1, "", 1, time.Minute); err != nil { // a lease refresh
		t.Fatal(err)
	}
	mr.FastForward(50 * time.Minute)
	rec, err := s.StreamFinish(ctx, "s", "r", testMsg("r"), 0)
	if err != nil || rec.Seq != 2 {
		t.Fatalf("StreamFinish after 150 min of streaming = seq %d, %v; want seq 2", rec.Seq, err)
	}
}

// TestStreamIDsValidated checks that stream ids that could break key names (or are simply
// not ids the hub makes) never reach Redis: the client below cannot connect.
func TestStreamIDsValidated(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	s := newStore(t, client, redisstore.Options{})
	ctx := context.Background()
	for _, id := range []string{"", "a b", "x}:y", "{tag}", "a\nb", strings.Repeat("x", core.MaxSessionIDLen+1)} {
		if err := s.StreamAppend(ctx, "s", id, 1, "x", 1, time.Second); !errors.Is(err, storage.ErrStreamNotFound) ||
			errors.Is(err, storage.ErrStoreUnavailable) {
			t.Errorf("StreamAppend(%q): err = %v, want ErrStreamNotFound before any I/O", id, err)
		}
		if _, err := s.StreamFinish(ctx, "s", id, testMsg("f"), 0); !errors.Is(err, storage.ErrStreamNotFound) ||
			errors.Is(err, storage.ErrStoreUnavailable) {
			t.Errorf("StreamFinish(%q): err = %v, want ErrStreamNotFound before any I/O", id, err)
		}
		if err := s.StreamCancel(ctx, "s", id); err != nil {
			t.Errorf("StreamCancel(%q): err = %v, want nil (no such stream can run)", id, err)
		}
	}
}

// TestStreamStateExpiredWithSession drops a stream's state keys (as their TTL would) while
// the running set survives: the stream is no longer running, and the set is cleaned.
func TestStreamStateExpiredWithSession(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{})
	for _, id := range []string{"a", "b"} {
		if err := s.StreamAppend(ctx, "s", id, 1, "x", 1, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	mr.Del("chatwire:{s}:st:a")
	states, err := s.StreamSnapshot(ctx, "s")
	if err != nil || len(states) != 1 || states[0].ID != "b" {
		t.Fatalf("StreamSnapshot = %+v, %v; want only b", states, err)
	}
	if m, _ := mr.Members("chatwire:{s}:streams"); !slices.Equal(m, []string{"b"}) {
		t.Fatalf("running set = %v, want [b]", m)
	}
	if err := s.StreamAppend(ctx, "s", "a", 2, "y", 1, time.Minute); !errors.Is(err, storage.ErrStreamNotFound) {
		t.Fatalf("StreamAppend to the vanished stream: err = %v, want ErrStreamNotFound", err)
	}
}
