package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

// TestReconnectAfterServerRestart stops the server in each way a deployment can, appends a
// message while the client is away, and starts a new instance on the same address sharing
// the store: the client reconnects by itself, resumes, and has seen every stored message
// of the session exactly once, in order.
func TestReconnectAfterServerRestart(t *testing.T) {
	tests := []struct {
		name string
		code int
		stop func(s *server)
	}{
		{"GoingAway1001", 1001, func(s *server) {
			s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
		}},
		{"ServiceRestart1012", 1012, func(s *server) {
			s.stop(func(h *core.Hub, ctx context.Context) error { return h.Drain(ctx, core.CloseServiceRestart, "deploy") })
		}},
		{"TryAgainLater1013", 1013, func(s *server) {
			s.stop(func(h *core.Hub, ctx context.Context) error { return h.Drain(ctx, core.CloseTryAgainLater, "") })
		}},
		{"Dropped1006", 1006, func(s *server) {
			s.srv.Close()
			s.conns.dropAll() // no close frame: the TCP connection just ends
			s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			const session = "restart"
			s := startServer(t, core.Options{Handler: echoBot, Store: store})
			e := dial(t, s.url(), client.Options{SessionID: session})

			if _, err := e.c.SendText(context.Background(), "one"); err != nil {
				t.Fatal(err)
			}
			e.until("the reply to one", message("Echo: one"))

			tt.stop(s)
			down := e.until("the disconnect", state(client.StateWaiting))
			if down.CloseCode != tt.code {
				t.Fatalf("disconnect reported close code %d (%v), want %d", down.CloseCode, down.Err, tt.code)
			}
			// Stored while no instance serves the client: it must arrive through the replay.
			missed := core.Message{ID: "missed", Type: core.TypeMessage, Role: core.RoleAssistant, Content: "while you were away", Timestamp: envelope.NowMillis()}
			if _, err := store.Append(context.Background(), session, missed, 100); err != nil {
				t.Fatal(err)
			}
			// A send while disconnected waits for the next connection.
			sent := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				_, err := e.c.SendText(ctx, "two")
				sent <- err
			}()
			s.start()
			e.until("the reconnect", state(client.StateConnected))
			e.until("the reply to two", message("Echo: two"))
			if err := <-sent; err != nil {
				t.Fatalf("send while reconnecting: %v", err)
			}

			var got []string
			for _, ev := range e.all {
				switch ev.Kind {
				case client.EventMessage:
					got = append(got, ev.Message.ID)
				case client.EventReplayGap, client.EventError:
					t.Fatalf("unexpected %v event after resuming from a known id: %+v", ev.Kind, ev.Message)
				}
			}
			var want []string
			for _, m := range history(t, store, session) {
				want = append(want, m.ID)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("client saw messages\n%v\nthe session holds\n%v", got, want)
			}
			if e.c.LastMessageID() != want[len(want)-1] {
				t.Fatalf("LastMessageID = %q, want %q", e.c.LastMessageID(), want[len(want)-1])
			}
		})
	}
}

// TestResumeMidStream restarts the server while a reply streams; the handler goes on on the
// old instance (it drains gracefully), the client reconnects to the new one and ends up with
// the whole text, once.
func TestResumeMidStream(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	g := newGated()
	s := startServer(t, core.Options{Handler: g, Store: store})
	e := dial(t, s.url(), client.Options{SessionID: "midstream"})
	ws := words(30)
	full := strings.Join(ws, "")

	if _, err := e.c.SendText(context.Background(), "tell me"); err != nil {
		t.Fatal(err)
	}
	g.feed(t, ws[:10]...)
	first := e.until("ten words", func(ev client.Event) bool {
		return ev.Kind == client.EventStream && ev.Stream.Text == strings.Join(ws[:10], "")
	})
	streamID := first.Stream.ID

	wait := s.stopAsync(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	e.until("the disconnect", state(client.StateWaiting))
	g.feed(t, ws[10:20]...) // produced while the client is away
	s.start()
	resumed := e.until("the resumed stream", func(ev client.Event) bool { return ev.Kind == client.EventStream && ev.Stream.Replaced })
	if resumed.Stream.ID != streamID || resumed.Stream.Text != strings.Join(ws[:20], "") {
		t.Fatalf("resume frame: stream %s with %q, want %s with the first 20 words", resumed.Stream.ID, resumed.Stream.Text, streamID)
	}
	g.feed(t, ws[20:]...)
	close(g.gate)
	end := e.until("the end of the stream", streamEnd)
	if err := wait(); err != nil {
		t.Fatalf("old instance shutdown: %v", err)
	}
	if end.Stream.ID != streamID || end.Stream.Text != full || end.Stream.State != core.StreamStateDone || end.Stream.Replaced {
		t.Fatalf("stream ended %+v, want the full text with state done", end.Stream)
	}
	// Every update was a consistent prefix, and the end came exactly once.
	ends := 0
	for _, ev := range e.all {
		switch ev.Kind {
		case client.EventStream:
			if !strings.HasPrefix(full, ev.Stream.Text) || (!ev.Stream.Replaced && !strings.HasSuffix(ev.Stream.Text, ev.Stream.Delta)) {
				t.Fatalf("inconsistent update %+v", ev.Stream)
			}
		case client.EventStreamEnd:
			ends++
		}
	}
	if ends != 1 {
		t.Fatalf("%d end events, want 1", ends)
	}
	// And the session holds one message for the stream, with the whole text.
	n := 0
	for _, m := range history(t, store, "midstream") {
		if m.ID == streamID {
			n++
			if m.Content != full {
				t.Fatalf("stored %q", m.Content)
			}
		}
	}
	if n != 1 {
		t.Fatalf("stream stored %d times", n)
	}
}

func TestCancelStream(t *testing.T) {
	g := newGated()
	joined := make(chan struct{}, 2)
	s := startServer(t, core.Options{Handler: g, Store: core.NewMemoryStore(core.MemoryStoreOptions{}),
		OnConnect: func(core.ConnEvent) { joined <- struct{}{} }})
	e := dial(t, s.url(), client.Options{})
	other := dial(t, s.url(), client.Options{SessionID: e.c.SessionID()}) // a second tab
	// A connection without lastMessageId receives what is stored after it joined the
	// session, which happens just after the upgrade: wait until both have.
	for range 2 {
		select {
		case <-joined:
		case <-time.After(waitTimeout):
			t.Fatal("the connections did not join the session")
		}
	}
	if _, err := e.c.SendText(context.Background(), "start"); err != nil {
		t.Fatal(err)
	}
	g.feed(t, "partial ", "answer")
	ev := e.until("the partial answer", func(ev client.Event) bool {
		return ev.Kind == client.EventStream && ev.Stream.Text == "partial answer"
	})
	if err := e.c.CancelStream(context.Background(), ev.Stream.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-g.cancelled:
		if !errors.Is(cause, core.ErrStreamCancelled) {
			t.Fatalf("handler context cause = %v", cause)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the cancel request did not reach the handler")
	}
	for _, c := range []*events{e, other} {
		end := c.until("the end", streamEnd)
		if end.Stream.ID != ev.Stream.ID || end.Stream.State != core.StreamStateCancelled || end.Stream.Text != "partial answer" {
			t.Fatalf("stream ended %+v, want cancelled with the partial answer", end.Stream)
		}
	}
	if err := e.c.CancelStream(context.Background(), ""); err == nil {
		t.Fatal("CancelStream accepted an empty id")
	}
}

// TestStopByContext ends the Dial context: the client closes the connection normally,
// reports why, closes its channel, and refuses to send. goleak (TestMain) checks that
// nothing is left running.
func TestStopByContext(t *testing.T) {
	codes := make(chan core.CloseCode, 1)
	s := startServer(t, core.Options{Handler: echoBot, OnDisconnect: func(ev core.DisconnectEvent) { codes <- ev.Code }})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := client.Dial(ctx, s.url(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &events{t: t, c: c}
	e.until("connected", state(client.StateConnected))
	cancel()
	e.drain()
	<-c.Done()
	if last := e.all[len(e.all)-1]; last.Kind != client.EventState || last.State != client.StateClosed {
		t.Fatalf("last event %+v, want the closed state", last)
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("Err() = %v, want context.Canceled", c.Err())
	}
	select {
	case code := <-codes:
		if code != 1000 {
			t.Fatalf("server saw close code %d, want 1000", code)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the server never saw the connection end")
	}
	if _, err := c.SendText(context.Background(), "late"); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("send after stop: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseWhileReconnecting closes a client that is waiting for a server that is gone.
func TestCloseWhileReconnecting(t *testing.T) {
	s := startServer(t, core.Options{Handler: echoBot})
	e := dial(t, s.url(), client.Options{Backoff: client.Backoff{Min: time.Hour}})
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	w := e.until("waiting", state(client.StateWaiting))
	if w.Attempt != 1 || w.Delay < 0 || w.Delay >= time.Hour {
		t.Fatalf("waiting %+v", w)
	}
	sendErr := make(chan error, 1)
	go func() { _, err := e.c.SendText(context.Background(), "never"); sendErr <- err }()
	if err := e.c.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(e.c.Err(), client.ErrClosed) {
		t.Fatalf("Err() = %v", e.c.Err())
	}
	if err := <-sendErr; !errors.Is(err, client.ErrClosed) {
		t.Fatalf("pending send: %v, want ErrClosed", err)
	}
	e.drain()
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	s := startServer(t, core.Options{Handler: echoBot})
	e := dial(t, s.url(), client.Options{MaxAttempts: 3})
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	e.drain()
	if !errors.Is(e.c.Err(), client.ErrGaveUp) {
		t.Fatalf("Err() = %v, want ErrGaveUp", e.c.Err())
	}
	var attempts []int
	for _, ev := range e.all {
		if ev.Kind == client.EventState && ev.State == client.StateConnecting {
			attempts = append(attempts, ev.Attempt)
		}
	}
	if len(attempts) != 3 || attempts[2] != 3 {
		t.Fatalf("connection attempts %v, want 1, 2, 3", attempts)
	}
}

func TestHandshakeRefused(t *testing.T) {
	s := startServer(t, core.Options{})
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.wsOpts = wshttpOptions(t)
	s.opts = core.Options{Handler: echoBot}
	s.start()
	tests := []struct {
		name   string
		opts   client.Options
		url    string
		status int
		body   string
	}{
		{"OriginNotAllowed", client.Options{Header: http.Header{"Origin": {"https://evil.example"}}}, s.url(), 403, "Origin not allowed"},
		{"Unauthorized", client.Options{Header: http.Header{"Origin": {"https://good.example"}}}, s.url(), 401, "Unauthorized"},
		{"InvalidLastMessageID", client.Options{Header: authorized, LastMessageID: strings.Repeat("x", 300)}, s.url(), 400, "Invalid lastMessageId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.Dial(context.Background(), tt.url, tt.opts)
			var he *client.HandshakeError
			if !errors.As(err, &he) || he.StatusCode != tt.status || he.Body != tt.body || !he.Permanent() {
				t.Fatalf("Dial = %v, %v; want a permanent %d %q", c, err, tt.status, tt.body)
			}
		})
	}
	if _, err := client.Dial(context.Background(), s.url(), client.Options{SessionID: "no spaces"}); !errors.Is(err, core.ErrInvalidSessionID) {
		t.Fatalf("invalid session id: %v", err)
	}
	if _, err := client.Dial(context.Background(), "ftp://x/chat", client.Options{}); err == nil {
		t.Fatal("ftp URL accepted")
	}
	// The session id may come from the URL, and http:// is accepted.
	e := dial(t, "http"+strings.TrimPrefix(s.url(), "ws")+"?sessionId=from-url", client.Options{Header: authorized})
	if e.c.SessionID() != "from-url" {
		t.Fatalf("SessionID() = %q", e.c.SessionID())
	}
}

// TestStopsOnPermanentRefusal: a reconnect refused with 401 ends the client instead of
// retrying for ever.
func TestStopsOnPermanentRefusal(t *testing.T) {
	s := startServer(t, core.Options{Handler: echoBot})
	e := dial(t, s.url(), client.Options{})
	s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
	s.wsOpts = wshttpOptions(t) // credentials are now required
	s.start()
	e.drain()
	var he *client.HandshakeError
	if !errors.As(e.c.Err(), &he) || he.StatusCode != 401 {
		t.Fatalf("Err() = %v, want the 401 refusal", e.c.Err())
	}
}

func TestServerErrorEvent(t *testing.T) {
	h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		return core.NewError("NOT_TODAY", "Ask again tomorrow")
	})
	s := startServer(t, core.Options{Handler: h})
	e := dial(t, s.url(), client.Options{})
	if err := e.c.Send(context.Background(), core.Message{Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	ev := e.until("the error", func(ev client.Event) bool { return ev.Kind == client.EventError })
	var se *client.ServerError
	if !errors.As(ev.Err, &se) || se.Code != "NOT_TODAY" || se.Message != "Ask again tomorrow" {
		t.Fatalf("error event %+v", ev)
	}
	if err := e.c.Send(context.Background(), core.Message{Type: "bogus", Content: "x"}); err == nil {
		t.Fatal("invalid type accepted")
	}
	if err := e.c.Send(context.Background(), core.Message{Content: "x", Metadata: []byte(`[1]`)}); err == nil {
		t.Fatal("non-object metadata accepted")
	}
}

// TestIdleTimeout: a server that sends nothing (heartbeats off) is taken for dead after
// IdleTimeout; the client reconnects.
func TestIdleTimeout(t *testing.T) {
	s := startServer(t, core.Options{Handler: echoBot, HeartbeatInterval: -1})
	e := dial(t, s.url(), client.Options{IdleTimeout: 100 * time.Millisecond})
	w := e.until("the idle drop", state(client.StateWaiting))
	if w.CloseCode != 1006 {
		t.Fatalf("idle drop reported %d (%v)", w.CloseCode, w.Err)
	}
	e.until("the reconnect", state(client.StateConnected))
}

var authorized = http.Header{"Origin": {"https://good.example"}, "Authorization": {"Bearer ok"}}
