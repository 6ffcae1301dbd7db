package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// waitTimeout bounds every wait; loopback tests finish far faster.
const waitTimeout = 10 * time.Second

// fastBackoff keeps reconnects quick in tests.
var fastBackoff = client.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}

// server is one chatwire instance (hub + net/http) on a loopback address. Restarting it
// listens on the same address again with a new hub that shares the store, as a redeployed
// instance would.
type server struct {
	t       *testing.T
	opts    core.Options
	wsOpts  wshttp.Options
	addr    string
	hub     *core.Hub
	srv     *httptest.Server
	conns   *trackingListener
	stopped bool
}

func startServer(t *testing.T, opts core.Options) *server {
	t.Helper()
	s := &server{t: t, opts: opts, addr: "127.0.0.1:0"}
	s.start()
	t.Cleanup(func() {
		if !s.stopped {
			s.stop(func(h *core.Hub, ctx context.Context) error { return h.Shutdown(ctx) })
		}
	})
	return s
}

func (s *server) start() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("listen on %s: %v", s.addr, err)
	}
	s.addr = ln.Addr().String()
	s.conns = &trackingListener{Listener: ln}
	s.hub = core.NewHub(s.opts)
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(s.hub, s.wsOpts))
	s.srv = httptest.NewUnstartedServer(mux)
	_ = s.srv.Listener.Close()
	s.srv.Listener = s.conns
	s.srv.Start()
	s.stopped = false
}

func (s *server) url() string { return "ws://" + s.addr + "/chat" }

// stop closes the listener, then ends the hub with how (Shutdown, Drain...). It returns once
// the hub has stopped.
func (s *server) stop(how func(*core.Hub, context.Context) error) {
	s.t.Helper()
	wait := s.stopAsync(how)
	if err := wait(); err != nil {
		s.t.Fatalf("hub stop: %v", err)
	}
}

// stopAsync closes the listener and starts ending the hub, whose handlers may still run
// (a stream in session mode); the returned function waits for the hub to stop.
func (s *server) stopAsync(how func(*core.Hub, context.Context) error) (wait func() error) {
	s.srv.Close() // the listener; hijacked WebSocket connections are the hub's
	s.stopped = true
	hub := s.hub
	errc := make(chan error, 1)
	go func() { // owned by the caller, who must call wait
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		errc <- how(hub, ctx)
	}()
	return func() error { return <-errc }
}

// trackingListener remembers accepted connections so a test can drop them (1006).
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) dropAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
}

// echoBot answers every chat message with "Echo: <content>".
var echoBot = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	if req.Message.Type != core.TypeMessage {
		return nil
	}
	return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
})

// gated streams one delta per value received from gate until gate is closed; each delta
// is acknowledged on acked once the hub has taken it.
type gated struct {
	gate      chan string
	acked     chan struct{}
	cancelled chan error
}

func newGated() *gated {
	return &gated{gate: make(chan string), acked: make(chan struct{}), cancelled: make(chan error, 1)}
}

func (g *gated) feed(t *testing.T, ds ...string) {
	t.Helper()
	for _, d := range ds {
		select {
		case g.gate <- d:
		case <-time.After(waitTimeout):
			t.Fatal("the streaming handler is not running")
		}
		<-g.acked
	}
}

func (g *gated) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	for {
		select {
		case d, ok := <-g.gate:
			if !ok {
				return s.Close(ctx)
			}
			if err := s.Delta(ctx, d); err != nil {
				return err
			}
			g.acked <- struct{}{}
		case <-s.Context().Done():
			g.cancelled <- context.Cause(s.Context())
			return s.Close(context.WithoutCancel(ctx))
		}
	}
}

func words(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("w%d ", i)
	}
	return out
}

// events reads a client's events, keeping every one it read for later checks.
type events struct {
	t   *testing.T
	c   *client.Client
	all []client.Event
}

// until reads events until one satisfies match and returns it; it fails the test when the
// wait times out or the client stops first.
func (e *events) until(what string, match func(client.Event) bool) client.Event {
	e.t.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-e.c.Events():
			if !ok {
				e.t.Fatalf("client stopped (%v) while waiting for %s", e.c.Err(), what)
			}
			e.all = append(e.all, ev)
			if match(ev) {
				return ev
			}
		case <-timeout.C:
			for i, ev := range e.all {
				e.t.Logf("event %d: %v %+v", i, ev.Kind, ev)
			}
			e.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drain reads until the channel is closed (the client has stopped).
func (e *events) drain() {
	e.t.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-e.c.Events():
			if !ok {
				return
			}
			e.all = append(e.all, ev)
		case <-timeout.C:
			e.t.Fatal("timed out waiting for the client to stop")
		}
	}
}

func state(s client.State) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Kind == client.EventState && ev.State == s }
}

func message(content string) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Kind == client.EventMessage && ev.Message.Content == content }
}

func streamEnd(ev client.Event) bool { return ev.Kind == client.EventStreamEnd }

// dial connects a client whose events are read through the returned events; the client is
// closed at cleanup.
func dial(t *testing.T, url string, opts client.Options) *events {
	t.Helper()
	if opts.Backoff.Min == 0 && opts.Backoff.Max == 0 {
		opts.Backoff = fastBackoff
	}
	c, err := client.Dial(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	e := &events{t: t, c: c}
	e.until("connected", state(client.StateConnected))
	return e
}

func history(t *testing.T, store core.Store, session string) []core.Message {
	t.Helper()
	page, err := store.Read(context.Background(), session, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]core.Message, len(page.Records))
	for i, r := range page.Records {
		out[i] = r.Message
	}
	return out
}

// wshttpOptions allow one origin and require "Authorization: Bearer ok".
func wshttpOptions(*testing.T) wshttp.Options {
	return wshttp.Options{
		AllowedOrigins: []string{"https://good.example"},
		Authenticate: func(r *http.Request) (any, error) {
			if r.Header.Get("Authorization") != "Bearer ok" {
				return nil, errors.New("no credentials")
			}
			return "user", nil
		},
	}
}
