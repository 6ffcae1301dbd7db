package client_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
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

// TestRefusalFrames: with refusal=close in the URL the server refuses over the WebSocket;
// Dial reports a *RefusalError, and a reconnect refused for good stops the client while one
// that may clear (too many connections) is retried.
func TestRefusalFrames(t *testing.T) {
	s := startServer(t, core.Options{Handler: echoBot})
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.wsOpts = wshttpOptions(t)
	s.start()
	_, err := client.Dial(context.Background(), s.url()+"?refusal=close", client.Options{})
	var re *client.RefusalError
	if !errors.As(err, &re) || re.Code != core.CodeUnauthenticated || re.Status != 401 || re.CloseCode != 4401 || re.Message != "Unauthorized" || !re.Permanent() {
		t.Fatalf("Dial = %v, want a permanent UNAUTHENTICATED refusal", err)
	}

	// A client that was in, then refused for good on its reconnect, stops.
	e := dial(t, s.url()+"?refusal=close", client.Options{Header: authorized})
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.wsOpts.Authenticate = func(*http.Request) (any, error) {
		return nil, &core.HandshakeError{Status: http.StatusForbidden, Body: "Forbidden"}
	}
	s.start()
	e.drain()
	if !errors.As(e.c.Err(), &re) || re.Code != core.CodeForbidden {
		t.Fatalf("Err() = %v, want the FORBIDDEN refusal", e.c.Err())
	}

	// Too many connections may clear: the client retries until it gets in.
	var full atomic.Bool
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.wsOpts.Authenticate = func(*http.Request) (any, error) {
		if full.Load() {
			return nil, &core.HandshakeError{Status: http.StatusTooManyRequests, Body: "Too many connections"}
		}
		return "user", nil
	}
	s.start()
	e = dial(t, s.url()+"?refusal=close", client.Options{})
	full.Store(true)
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.start()
	e.until("a refused reconnect", func(ev client.Event) bool {
		return ev.Kind == client.EventState && ev.State == client.StateWaiting && errors.As(ev.Err, &re) && re.Code == core.CodeTooManyConnections
	})
	full.Store(false)
	e.until("the reconnect once a slot is free", state(client.StateConnected))
}
