package wsfiber_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp refreshes its cached Date header from one package-level goroutine, started
		// on the first response and never stopped (fasthttp's updateServerDate). It belongs to
		// no server and is the only goroutine ignored here.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}

const waitTimeout = 5 * time.Second

// acceptSignal reports the first Accept call: by then fasthttp's Serve has registered the
// listener, so a Shutdown from then on stops it.
type acceptSignal struct {
	net.Listener
	once  sync.Once
	ready chan struct{}
}

func (l *acceptSignal) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.ready) })
	return l.Listener.Accept()
}

// newApp returns a Fiber app without startup output.
func newApp() *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	// fasthttp's worker-pool cleaner notices a shutdown only after sleeping this long
	// (default 10s); keep it short so the goroutine has ended when goleak looks.
	app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
	return app
}

// serveApp serves app on a fresh loopback port until test cleanup and returns its address.
func serveApp(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	al := &acceptSignal{Listener: ln, ready: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- app.Listener(al) }() // owned by the cleanup below, which waits for it
	select {
	case <-al.ready:
	case err := <-served:
		t.Fatalf("fiber stopped at once: %v", err)
	}
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(waitTimeout); err != nil {
			t.Errorf("fiber shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("fiber listener: %v", err)
		}
	})
	return ln.Addr().String()
}

func mount(t *testing.T, hub *core.Hub, cfg adaptertest.Config) string {
	app := newApp()
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{AllowedOrigins: cfg.AllowedOrigins, AllowedHosts: cfg.AllowedHosts, Authenticate: authenticate(cfg)}))
	return "ws://" + serveApp(t, app) + "/chat"
}

func TestConformance(t *testing.T) { adaptertest.Run(t, mount) }

func TestCluster(t *testing.T) {
	shared := map[*testing.T]*core.MemoryStore{}
	adaptertest.RunCluster(t, mount, func(t *testing.T, instance int) core.Store {
		if shared[t] == nil {
			shared[t] = core.NewMemoryStore(core.MemoryStoreOptions{})
		}
		return shared[t]
	})
}

// newHub returns a hub shut down at test cleanup (after the servers registered later).
func newHub(t *testing.T, opts core.Options) *core.Hub {
	t.Helper()
	h := core.NewHub(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
	})
	return h
}

// dial performs a WebSocket handshake and returns the connection (nil when refused), the
// response status and up to 1 KiB of a refusal's body.
func dial(t *testing.T, endpoint string, query url.Values, header http.Header) (*websocket.Conn, int, string) {
	t.Helper()
	u := endpoint
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	d := websocket.Dialer{HandshakeTimeout: waitTimeout}
	c, resp, err := d.Dial(u, header)
	if resp == nil {
		t.Fatalf("dial %s: no response: %v", u, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
		adaptertest.ExpectWelcome(t, c)
	}
	return c, resp.StatusCode, string(body)
}

// roundTrip sends content and returns the next reply's content (heartbeats skipped).
func roundTrip(c *websocket.Conn, content string) (string, error) {
	_ = c.SetWriteDeadline(time.Now().Add(waitTimeout))
	if err := c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: content})); err != nil {
		return "", err
	}
	for {
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		_, b, err := c.ReadMessage()
		if err != nil {
			return "", err
		}
		var m core.Message
		if err := envelope.Decode(b, &m); errors.Is(err, envelope.ErrHeartbeat) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("undecodable frame %q: %w", b, err)
		}
		if _, ok := envelope.WelcomeOf(&m); ok {
			continue // the first frame of a connection dialed without dial
		}
		return m.Content, nil
	}
}

// whoAmI answers every message with what the hub knows about the connection.
var whoAmI = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Content: fmt.Sprintf("%s|%v|%s|%s|%s",
		req.SessionID, req.Principal, req.Header.Get("X-User"), req.Header.Get("X-Trace"), req.Message.Content)})
})

// TestContextReuse opens hundreds of concurrent connections while fasthttp recycles request
// contexts: each connection must keep its own session id, principal (from a Fiber local that
// aliases the request's bytes) and headers, before and after every handshake of its wave has
// completed, and a principal kept past its connection must not change when the second wave
// reuses the first wave's request contexts.
func TestContextReuse(t *testing.T) {
	const wave = 150  // two waves: 300 connections
	var kept sync.Map // session id -> principal, kept past the connection
	keep := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		kept.Store(req.SessionID, req.Principal)
		return whoAmI.ServeChat(ctx, req, w)
	})
	hub := newHub(t, core.Options{Handler: keep})
	app := newApp()
	app.Use(func(c *fiber.Ctx) error {
		// c.Get returns a string over fasthttp's reused buffer, as auth middleware often
		// stores it: the adapter must copy it before the context is recycled.
		c.Locals("user", c.Get("X-User"))
		return c.Next()
	})
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{Authenticate: func(c *fiber.Ctx) (any, error) {
		return c.Locals("user"), nil
	}}))
	ep := "ws://" + serveApp(t, app) + "/chat"

	runWave := func(first int) {
		conns := make([]*websocket.Conn, wave)
		var connected, wg sync.WaitGroup
		connected.Add(wave)
		allConnected := make(chan struct{})
		errs := make(chan error, 2*wave)
		for i := first; i < first+wave; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sid, user, trace := fmt.Sprintf("session-%03d", i), fmt.Sprintf("user-%03d", i), strings.Repeat(fmt.Sprint(i%10), 10+i%50)
				u := ep + "?" + url.Values{"sessionId": {sid}, "lastMessageId": {fmt.Sprint("m", i)}}.Encode()
				d := websocket.Dialer{HandshakeTimeout: waitTimeout}
				c, _, err := d.Dial(u, http.Header{"X-User": {user}, "X-Trace": {trace}})
				connected.Done()
				if err != nil {
					errs <- fmt.Errorf("conn %d: dial: %w", i, err)
					return
				}
				conns[i-first] = c
				want := func(phase string) string { return strings.Join([]string{sid, user, user, trace, phase}, "|") }
				// First while other handshakes are still running, then once all are done.
				for _, phase := range []string{"early", "late"} {
					if phase == "late" {
						<-allConnected
					}
					got, err := roundTrip(c, phase)
					if err != nil {
						errs <- fmt.Errorf("conn %d (%s): %w", i, phase, err)
						return
					}
					if got != want(phase) {
						errs <- fmt.Errorf("conn %d (%s): handler saw %q, want %q", i, phase, got, want(phase))
					}
				}
			}(i)
		}
		connected.Wait()
		close(allConnected)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := hub.ConnCount(); got != wave {
			t.Errorf("%d connections served, want %d", got, wave)
		}
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
		// Every connection has ended: fasthttp recycles their request contexts.
		waitFor(t, "the wave's connections to end", func() bool { return hub.ConnCount() == 0 })
	}
	runWave(0)
	runWave(wave)
	for i := 0; i < 2*wave; i++ {
		sid := fmt.Sprintf("session-%03d", i)
		if p, _ := kept.Load(sid); p != fmt.Sprintf("user-%03d", i) {
			t.Errorf("principal kept for %s is now %q", sid, p)
		}
	}
}

// TestCloseFromAnotherGoroutine checks that closes the hub starts on another goroutine end
// connections promptly: fasthttp's hijacked connection ignores Close, so without the
// adapter's socket close the reader would stay blocked.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	t.Run("Drain", func(t *testing.T) {
		hub := core.NewHub(core.Options{Handler: whoAmI})
		ep := mount(t, hub, adaptertest.Config{})
		var clients []*adaptertest.Client
		for i := 0; i < 3; i++ {
			clients = append(clients, adaptertest.Dial(t, ep, nil, nil))
		}
		waitFor(t, "connections registered", func() bool { return hub.ConnCount() == 3 })
		drained := make(chan error, 1)
		go func() { // owned by this test, which receives its result below
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			drained <- hub.Drain(ctx, core.CloseServiceRestart, "restart")
		}()
		for _, c := range clients {
			if code := c.ExpectClose(); code != core.CloseServiceRestart {
				t.Fatalf("close code %d, want 1012", code)
			}
		}
		if err := <-drained; err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if hub.ConnCount() != 0 {
			t.Fatal("connections left after Drain")
		}
	})
	t.Run("ShutdownAbortsBlockedConnection", func(t *testing.T) {
		big := strings.Repeat("x", 64<<10)
		queued := make(chan struct{})
		flood := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			defer close(queued)
			for i := 0; i < 200; i++ { // 12.5 MiB: far more than the socket buffers hold
				if err := w.Send(ctx, core.Message{Content: big}); err != nil {
					return nil
				}
			}
			return nil
		})
		gone := make(chan core.DisconnectEvent, 1)
		hub := core.NewHub(core.Options{Handler: flood, OnDisconnect: func(e core.DisconnectEvent) { gone <- e }})
		t.Cleanup(func() { _ = hub.Shutdown(context.Background()) }) // when the test fails early
		ep := mount(t, hub, adaptertest.Config{})
		// A client with a tiny receive buffer that never reads: the server's writer blocks.
		d := websocket.Dialer{HandshakeTimeout: waitTimeout, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_ = c.(*net.TCPConn).SetReadBuffer(4096)
			}
			return c, err
		}}
		c, _, err := d.Dial(ep, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","content":"flood"}`)); err != nil {
			t.Fatal(err)
		}
		<-queued
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = hub.Shutdown(ctx) // flushing cannot finish: the hub must abort the socket
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown = %v, want the deadline (the writer should have been blocked)", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Shutdown took %v after its deadline", d)
		}
		// Shutdown returns at its deadline; the socket it aborted must then end the
		// connection promptly (fasthttp's hijacked net.Conn alone would ignore Close).
		select {
		case <-gone:
		case <-time.After(2 * time.Second):
			t.Fatal("the aborted connection did not end")
		}
		if err := hub.Shutdown(context.Background()); err != nil || hub.ConnCount() != 0 {
			t.Fatalf("second Shutdown = %v with %d connections left", err, hub.ConnCount())
		}
	})
}

// TestNext checks Fiber's skip idiom: Next true passes the request to the next route.
func TestNext(t *testing.T) {
	hub := newHub(t, core.Options{Handler: whoAmI})
	skip := func(c *fiber.Ctx) bool { return c.Get("X-Skip") != "" }
	tests := []struct {
		name       string
		nextRoute  bool
		skip       bool
		wantStatus int
		wantBody   string
	}{
		{"skipped to next route", true, true, http.StatusOK, "skipped"},
		{"skipped without next route", false, true, http.StatusNotFound, "Cannot GET /chat"},
		{"not skipped", true, false, http.StatusUpgradeRequired, "Expected WebSocket upgrade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp()
			app.Get("/chat", wsfiber.New(hub, wsfiber.Options{Next: skip}))
			if tt.nextRoute {
				app.Get("/chat", func(c *fiber.Ctx) error { return c.SendString("skipped") })
			}
			base := "http://" + serveApp(t, app) + "/chat"
			req, _ := http.NewRequest(http.MethodGet, base, nil)
			if tt.skip {
				req.Header.Set("X-Skip", "1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || strings.TrimSpace(string(body)) != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestAuthentication checks middleware refusals before the handler and the status and text
// of each kind of Authenticate error.
func TestAuthentication(t *testing.T) {
	hub := newHub(t, core.Options{Handler: whoAmI})
	var mu sync.Mutex
	var next error
	var authCalls atomic.Int32
	app := newApp()
	app.Use(func(c *fiber.Ctx) error {
		if c.Query("token") == "" {
			return fiber.ErrUnauthorized // an auth middleware refusing: no upgrade
		}
		return c.Next()
	})
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{Authenticate: func(c *fiber.Ctx) (any, error) {
		authCalls.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return "p-" + c.Query("token"), next
	}}))
	ep := "ws://" + serveApp(t, app) + "/chat"
	tests := []struct {
		name       string
		token      string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"middleware refuses", "", nil, http.StatusUnauthorized, "Unauthorized"},
		{"handshake error", "t", &core.HandshakeError{Status: http.StatusForbidden, Body: "Banned"}, http.StatusForbidden, "Banned"},
		{"fiber error", "t", fiber.NewError(http.StatusTooManyRequests, "Slow down"), http.StatusTooManyRequests, "Slow down"},
		{"wrapped fiber error", "t", fmt.Errorf("auth: %w", fiber.ErrForbidden), http.StatusForbidden, "Forbidden"},
		{"other error", "t", errors.New("token expired; db=secret"), http.StatusUnauthorized, "Unauthorized"},
		{"accepted", "tok", nil, http.StatusSwitchingProtocols, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			next = tt.err
			mu.Unlock()
			calls := authCalls.Load()
			q := url.Values{}
			if tt.token != "" {
				q.Set("token", tt.token)
			}
			c, status, body := dial(t, ep, q, nil)
			if status != tt.wantStatus || strings.TrimSpace(body) != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", status, body, tt.wantStatus, tt.wantBody)
			}
			if tt.token == "" && authCalls.Load() != calls {
				t.Fatal("Authenticate ran although the middleware refused")
			}
			if c != nil {
				got, err := roundTrip(c, "x")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(got, "|p-tok|") {
					t.Fatalf("reply %q lacks the principal", got)
				}
			}
		})
	}
}

// waitFor polls cond until it holds or the wait times out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUpgradeEdgeCases checks upgrades fasthttp would otherwise mishandle: with
// DisableKeepalive fasthttp never runs a hijack handler after writing the response itself,
// and an admitted request the upgrader refuses must still give its admission back.
func TestUpgradeEdgeCases(t *testing.T) {
	t.Run("DisableKeepalive", func(t *testing.T) {
		hub := newHub(t, core.Options{Handler: whoAmI})
		app := fiber.New(fiber.Config{DisableStartupMessage: true, DisableKeepalive: true})
		app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
		app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
		c, status, _ := dial(t, "ws://"+serveApp(t, app)+"/chat", url.Values{"sessionId": {"ka"}}, nil)
		if status != http.StatusSwitchingProtocols {
			t.Fatalf("status %d, want 101", status)
		}
		if got, err := roundTrip(c, "x"); err != nil || !strings.HasPrefix(got, "ka|") {
			t.Fatalf("reply %q, %v", got, err)
		}
	})
	t.Run("ReleaseWhenUpgraderRefuses", func(t *testing.T) {
		var admitted, released atomic.Int32
		hub := newHub(t, core.Options{Handler: whoAmI, Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
			admitted.Add(1)
			return core.Admission{Release: func() { released.Add(1) }}, nil
		}})
		app := newApp()
		app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
		base := "http://" + serveApp(t, app) + "/chat"
		// Asks for an upgrade but lacks Sec-WebSocket-Key: admitted, then refused by the upgrader.
		req, _ := http.NewRequest(http.MethodGet, base, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		http.DefaultClient.CloseIdleConnections()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
		if admitted.Load() != 1 || released.Load() != 1 {
			t.Fatalf("admitted %d, released %d; want 1 and 1", admitted.Load(), released.Load())
		}
	})
}

// authenticate maps the suite's Authenticate onto the adapter's hook.
func authenticate(cfg adaptertest.Config) func(*fiber.Ctx) (any, error) {
	if cfg.Authenticate == nil {
		return nil
	}
	return func(*fiber.Ctx) (any, error) { return cfg.Authenticate() }
}
