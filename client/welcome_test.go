package client_test

import (
	"context"
	"testing"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// TestResumesASessionItDidNotName: a client that names no session joins the one the server
// makes, learns it from the welcome frame, and resumes it after the server restarts.
func TestResumesASessionItDidNotName(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	s := startServer(t, core.Options{Handler: echoBot, Store: store})
	e := dial(t, s.url(), client.Options{})
	sid := e.c.SessionID()
	if !core.ValidSessionID(sid) || e.c.ConnectionID() == "" {
		t.Fatalf("after Dial: session %q, connection %q; want the welcome's", sid, e.c.ConnectionID())
	}
	isReply := func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Role == core.RoleAssistant
	}
	if _, err := e.c.SendText(context.Background(), "one"); err != nil {
		t.Fatal(err)
	}
	e.until("the first reply", isReply)
	firstConn := e.c.ConnectionID()

	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.start()
	e.until("the reconnect", state(client.StateConnected))
	if got := e.c.SessionID(); got != sid {
		t.Fatalf("reconnected into %q, want the welcome's %q", got, sid)
	}
	if e.c.ConnectionID() == firstConn {
		t.Fatal("the connection id did not change with the connection")
	}
	if _, err := e.c.SendText(context.Background(), "two"); err != nil {
		t.Fatal(err)
	}
	e.until("the second reply", isReply)
	page, err := store.Read(context.Background(), sid, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 4 {
		t.Fatalf("session %s holds %d messages, want both turns (4)", sid, len(page.Records))
	}
	for _, ev := range e.all {
		if ev.Kind == client.EventMessage && ev.Message.Type == core.TypeSystem {
			t.Fatalf("the welcome frame reached the caller as a message: %+v", ev.Message)
		}
	}
}
