package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Directory entries expire with their sessions: SessionTTL after their last activity, and
// the claim goes with them.
func TestMemoryDirectoryExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	s := core.NewMemoryStore(core.MemoryStoreOptions{SessionTTL: time.Hour, Now: clock})
	ctx := context.Background()
	ms := func() int64 { return clock().UnixMilli() }
	if _, _, err := s.CreateConversation(ctx, "alice", core.Conversation{ID: "old", Created: ms()}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateConversation(ctx, "alice", core.Conversation{ID: "busy", Created: ms()}, 0); err != nil {
		t.Fatal(err)
	}
	advance(50 * time.Minute)
	if _, err := s.UpdateConversation(ctx, "alice", "busy", storage.ConversationUpdate{Active: ms(), AddMessages: 1}); err != nil {
		t.Fatal(err)
	}
	advance(20 * time.Minute) // "old" idle for 70 min, "busy" for 20
	if _, err := s.GetConversation(ctx, "alice", "old"); !errors.Is(err, core.ErrConversationNotFound) {
		t.Fatalf("an expired entry: %v", err)
	}
	page, err := s.ListConversations(ctx, "alice", "", 10)
	if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID != "busy" {
		t.Fatalf("list = %+v, %v; want only the active one", page, err)
	}
	if _, isNew, err := s.CreateConversation(ctx, "bob", core.Conversation{ID: "old", Created: ms()}, 0); err != nil || !isNew {
		t.Fatalf("the expired claim still holds: new=%v %v", isNew, err)
	}
	// An owner who never comes back: the sweep run by others' creates frees the claim.
	if _, _, err := s.CreateConversation(ctx, "carol", core.Conversation{ID: "gone", Created: ms()}, 0); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Hour)
	if _, isNew, err := s.CreateConversation(ctx, "dave", core.Conversation{ID: "gone", Created: ms()}, 0); err != nil || !isNew {
		t.Fatalf("an expired claim of an owner who left still holds: new=%v %v", isNew, err)
	}
	// A deleted id stays refused for a TTL, then the tombstone goes too.
	if err := s.DeleteConversation(ctx, "dave", "gone"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateConversation(ctx, "dave", core.Conversation{ID: "gone", Created: ms()}, 0); !errors.Is(err, core.ErrConversationNotFound) {
		t.Fatalf("claiming a just deleted id: %v", err)
	}
	advance(2 * time.Hour)
	if _, isNew, err := s.CreateConversation(ctx, "dave", core.Conversation{ID: "gone", Created: ms()}, 0); err != nil || !isNew {
		t.Fatalf("the tombstone outlived the TTL: new=%v %v", isNew, err)
	}
}
