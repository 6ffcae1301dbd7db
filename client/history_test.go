package client_test

import (
	"context"
	"testing"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// TestHistory: a client without a last message id that sets History receives the session's
// retained history first; without History it receives only what comes next.
func TestHistory(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	for _, id := range []string{"one", "two"} {
		m := core.Message{ID: id, Type: core.TypeMessage, Role: core.RoleUser, Content: id, Timestamp: 1}
		if _, err := store.Append(context.Background(), "hist", m, 100); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, core.Options{Handler: echoBot, Store: store})
	isMessage := func(ev client.Event) bool { return ev.Kind == client.EventMessage }

	e := dial(t, s.url(), client.Options{SessionID: "hist", History: true})
	for _, want := range []string{"one", "two"} {
		if ev := e.until("history "+want, isMessage); ev.Message.ID != want {
			t.Fatalf("got %q, want the stored %q", ev.Message.ID, want)
		}
	}
	if got := e.c.LastMessageID(); got != "two" {
		t.Fatalf("LastMessageID() = %q after the history, want two", got)
	}
	if page, err := store.Read(context.Background(), "hist", 0); err != nil || e.c.Epoch() != page.Epoch || page.Epoch == "" {
		t.Fatalf("Epoch() = %q, want the history's %q (from the welcome frame); %v", e.c.Epoch(), page.Epoch, err)
	}

	plain := dial(t, s.url(), client.Options{SessionID: "hist"})
	if _, err := plain.c.SendText(context.Background(), "three"); err != nil {
		t.Fatal(err)
	}
	if ev := plain.until("the new message", isMessage); ev.Message.Content != "three" {
		t.Fatalf("a client without History got %q first, want the new message", ev.Message.Content)
	}
}

// TestHistoryReset: a client resuming after a message of a history that is gone (its URL
// names an older epoch) gets EventHistoryReset, then the whole current history; it then
// resumes with the current epoch.
func TestHistoryReset(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	for _, id := range []string{"one", "two"} {
		m := core.Message{ID: id, Type: core.TypeMessage, Role: core.RoleUser, Content: id, Timestamp: 1}
		if _, err := store.Append(context.Background(), "reset", m, 100); err != nil {
			t.Fatal(err)
		}
	}
	page, err := store.Read(context.Background(), "reset", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, core.Options{Handler: echoBot, Store: store})
	e := dial(t, s.url()+"?lastMessageId=one&epoch=gone", client.Options{SessionID: "reset"})
	if ev := e.until("the reset", func(ev client.Event) bool { return ev.Kind != client.EventState }); ev.Kind != client.EventHistoryReset {
		t.Fatalf("first event %v, want history_reset", ev.Kind)
	}
	isMessage := func(ev client.Event) bool { return ev.Kind == client.EventMessage }
	for _, want := range []string{"one", "two"} {
		if ev := e.until("history "+want, isMessage); ev.Message.ID != want {
			t.Fatalf("got %q, want the stored %q", ev.Message.ID, want)
		}
	}
	if last, epoch := e.c.LastMessageID(), e.c.Epoch(); last != "two" || epoch != page.Epoch {
		t.Fatalf("LastMessageID, Epoch = %q, %q; want two, %q", last, epoch, page.Epoch)
	}
}
