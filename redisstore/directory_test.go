package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// After the pub/sub connection is re-established, directory subscribers get a Resync (they
// read the list again), then events as before.
func TestDirectoryResyncAfterReconnect(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{})
	events := make(chan storage.DirectoryEvent, 16)
	cancel, err := s.SubscribeDirectory(ctx, "alice", func(ev storage.DirectoryEvent) { events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	next := func(what string) storage.DirectoryEvent {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(waitTimeout):
			t.Fatalf("no %s", what)
		}
		return storage.DirectoryEvent{}
	}
	if _, _, err := s.CreateConversation(ctx, "alice", storage.Conversation{ID: "c1", Created: time.Now().UnixMilli()}, 0); err != nil {
		t.Fatal(err)
	}
	if ev := next("created event"); ev.Kind != storage.ConversationCreated || ev.Conversation.ID != "c1" {
		t.Fatalf("got %+v", ev)
	}
	mr.Close()
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	if ev := next("Resync"); !ev.Resync {
		t.Fatalf("after the restart got %+v, want a Resync", ev)
	}
	title := "after"
	if _, err := s.UpdateConversation(ctx, "alice", "c1", storage.ConversationUpdate{Title: &title, Event: storage.ConversationRenamed}); err != nil {
		t.Fatal(err)
	}
	if ev := next("renamed event"); ev.Kind != storage.ConversationRenamed || ev.Conversation.Title != "after" {
		t.Fatalf("got %+v", ev)
	}
}

// Directory keys and claims expire with the sessions (SessionTTL), and an entry without
// activity for SessionTTL is gone even before its keys expire.
func TestDirectoryExpiresWithSessions(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{SessionTTL: time.Hour})
	now := time.Now()
	if _, _, err := s.CreateConversation(ctx, "alice", storage.Conversation{ID: "fresh", Created: now.UnixMilli()}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateConversation(ctx, "alice", storage.Conversation{ID: "stale", Created: now.Add(-2 * time.Hour).UnixMilli()}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConversation(ctx, "alice", "stale"); !errors.Is(err, storage.ErrConversationNotFound) {
		t.Fatalf("an entry idle past the TTL: %v", err)
	}
	page, err := s.ListConversations(ctx, "alice", "", 10)
	if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID != "fresh" {
		t.Fatalf("list = %+v, %v", page, err)
	}
	var dirKeys, claims int
	for _, k := range mr.Keys() {
		if !strings.Contains(k, "dir:{") && !strings.HasSuffix(k, ":owner") {
			continue
		}
		if strings.HasSuffix(k, ":owner") {
			claims++
		} else {
			dirKeys++
		}
		if ttl := mr.TTL(k); ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %s has TTL %v, want at most the session TTL", k, ttl)
		}
	}
	if dirKeys != 2 || claims != 2 {
		t.Fatalf("found %d directory keys and %d claims, want 2 and 2", dirKeys, claims)
	}
	mr.FastForward(2 * time.Hour)
	if len(mr.Keys()) != 0 {
		t.Fatalf("keys left after the TTL: %v", mr.Keys())
	}
}
