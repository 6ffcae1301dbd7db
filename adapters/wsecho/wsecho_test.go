package wsecho_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitTimeout = 5 * time.Second

// newEcho returns an Echo instance without banner output.
func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	return e
}

// serveEcho serves e on a loopback test server and returns the ws:// URL of path.
func serveEcho(t testing.TB, e *echo.Echo, path string) string {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

func mount(t *testing.T, hub *core.Hub, cfg adaptertest.Config) string {
	e := newEcho()
	e.GET("/chat", wsecho.New(hub, wsecho.Options{AllowedOrigins: cfg.AllowedOrigins, AllowedHosts: cfg.AllowedHosts, Authenticate: authenticate(cfg)}))
	return serveEcho(t, e, "/chat")
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

// replyPrincipal answers every message with the request's principal and two headers.
var replyPrincipal = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Content: fmt.Sprintf("%v|%s", req.Principal, req.Header.Get("X-Auth-User"))})
})

func roundTrip(t *testing.T, c *websocket.Conn, content string) string {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(waitTimeout))
	if err := c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: content})); err != nil {
		t.Fatal(err)
	}
	for {
		_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m core.Message
		if err := envelope.Decode(b, &m); errors.Is(err, envelope.ErrHeartbeat) {
			continue
		} else if err != nil {
			t.Fatalf("undecodable frame %q: %v", b, err)
		}
		return m.Content
	}
}

// TestMiddlewareRunsBeforeUpgrade checks that route middleware (request id, auth) runs
// before the upgrade, that its values reach the chat handler, that a middleware refusing
// with 401 prevents the upgrade, and that Echo renders nothing after a hijack.
func TestMiddlewareRunsBeforeUpgrade(t *testing.T) {
	hub := newHub(t, core.Options{Handler: replyPrincipal})
	type seen struct {
		status int
		err    error
	}
	finished := make(chan seen, 4)
	var errHandlerCalls, authCalls atomic.Int32
	e := newEcho()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		errHandlerCalls.Add(1)
		e.DefaultHTTPErrorHandler(err, c)
	}
	// Outermost: records what a logging middleware would see once the handler returns.
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			finished <- seen{c.Response().Status, err}
			return err
		}
	})
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) { c.Set("rid", id) },
	}))
	auth := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok := c.QueryParam("token")
			if tok == "" {
				return echo.ErrUnauthorized
			}
			c.Set("user", "user-"+tok)
			c.Request().Header.Set("X-Auth-User", "header-"+tok)
			return next(c)
		}
	}
	e.GET("/chat", wsecho.New(hub, wsecho.Options{Authenticate: func(c echo.Context) (any, error) {
		authCalls.Add(1)
		return fmt.Sprintf("%v/%v", c.Get("user"), c.Get("rid")), nil
	}}), auth)
	ep := serveEcho(t, e, "/chat")

	tests := []struct {
		name       string
		token, rid string
		wantStatus int
		wantReply  string
	}{
		{"authenticated", "alice", "req-1", http.StatusSwitchingProtocols, "user-alice/req-1|header-alice"},
		{"second principal", "bob", "req-2", http.StatusSwitchingProtocols, "user-bob/req-2|header-bob"},
		{"middleware refuses", "", "req-3", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := authCalls.Load()
			q := url.Values{}
			if tt.token != "" {
				q.Set("token", tt.token)
			}
			c, status, _ := dial(t, ep, q, http.Header{"X-Request-Id": {tt.rid}})
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
			if c == nil {
				if authCalls.Load() != calls {
					t.Fatal("Authenticate ran although a middleware refused the request")
				}
				if got := <-finished; !errors.Is(got.err, echo.ErrUnauthorized) {
					t.Fatalf("logger saw error %v, want the middleware's 401", got.err)
				}
				return
			}
			if got := roundTrip(t, c, "hi"); got != tt.wantReply {
				t.Fatalf("handler saw %q, want %q", got, tt.wantReply)
			}
			_ = c.Close()
			select {
			case got := <-finished:
				if got.status != http.StatusSwitchingProtocols || got.err != nil {
					t.Fatalf("after the session the logger saw status %d, error %v; want 101 and nil", got.status, got.err)
				}
			case <-time.After(waitTimeout):
				t.Fatal("handler did not return after the client closed")
			}
		})
	}
	if n := errHandlerCalls.Load(); n != 1 {
		t.Fatalf("Echo's error handler ran %d times, want once (only for the 401)", n)
	}
}

// nonHijackable hides http.Hijacker and Unwrap, as a careless middleware wrapper does.
type nonHijackable struct{ http.ResponseWriter }

// TestNotHijackableWriter checks that a response writer that cannot be hijacked gives a
// prompt 500 naming the cause and an error Echo's error handler sees, not a hang.
func TestNotHijackableWriter(t *testing.T) {
	tests := []struct {
		name string
		mw   echo.MiddlewareFunc
	}{
		// Deprecated upstream, but still in use: exactly the kind of writer-wrapping middleware
		// that hides http.Hijacker, which the adapter must report instead of hanging.
		//lint:ignore SA1019 the deprecated middleware is what this case is about
		{"timeout middleware", middleware.TimeoutWithConfig(middleware.TimeoutConfig{Timeout: time.Minute})},
		{"wrapping writer", func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.Response().Writer = nonHijackable{c.Response().Writer}
				return next(c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hub := newHub(t, core.Options{Handler: replyPrincipal})
			errs := make(chan error, 1)
			e := newEcho()
			e.HTTPErrorHandler = func(err error, c echo.Context) {
				errs <- err
				e.DefaultHTTPErrorHandler(err, c)
			}
			e.GET("/chat", wsecho.New(hub, wsecho.Options{}), tt.mw)
			ep := serveEcho(t, e, "/chat")
			start := time.Now()
			c, status, body := dial(t, ep, nil, nil)
			if c != nil || status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", status)
			}
			if !strings.Contains(body, "cannot be hijacked") {
				t.Fatalf("body %q does not name the cause", body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("refusal took %v", d)
			}
			select {
			case err := <-errs:
				if !errors.Is(err, wsecho.ErrNotHijackable) {
					t.Fatalf("error handler got %v, want ErrNotHijackable", err)
				}
			default:
				t.Fatal("the error was not returned to Echo")
			}
			if hub.ConnCount() != 0 {
				t.Fatal("a connection was served")
			}
		})
	}
}

// TestSkipper checks that skipped requests go to Next, or get 404 without it.
func TestSkipper(t *testing.T) {
	hub := newHub(t, core.Options{})
	skip := func(c echo.Context) bool { return c.Request().Header.Get("X-Skip") != "" }
	next := func(c echo.Context) error { return c.String(http.StatusOK, "skipped") }
	tests := []struct {
		name       string
		opts       wsecho.Options
		skip       bool
		wantStatus int
		wantBody   string
	}{
		{"skipped to Next", wsecho.Options{Skipper: skip, Next: next}, true, http.StatusOK, "skipped"},
		{"skipped without Next", wsecho.Options{Skipper: skip}, true, http.StatusNotFound, `{"message":"Not Found"}`},
		{"not skipped", wsecho.Options{Skipper: skip, Next: next}, false, http.StatusUpgradeRequired, "Expected WebSocket upgrade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEcho()
			e.GET("/chat", wsecho.New(hub, tt.opts))
			ep := serveEcho(t, e, "/chat")
			req, _ := http.NewRequest(http.MethodGet, adaptertest.HTTPURL(ep), nil)
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
}

// TestAuthenticateRefusals checks the status and text of each kind of Authenticate error.
func TestAuthenticateRefusals(t *testing.T) {
	hub := newHub(t, core.Options{Handler: replyPrincipal})
	var mu sync.Mutex
	var next error
	e := newEcho()
	e.GET("/chat", wsecho.New(hub, wsecho.Options{Authenticate: func(echo.Context) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		return "p", next
	}}))
	ep := serveEcho(t, e, "/chat")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"handshake error", &core.HandshakeError{Status: http.StatusForbidden, Body: "Banned"}, http.StatusForbidden, "Banned"},
		{"echo error", echo.NewHTTPError(http.StatusTooManyRequests, "Slow down"), http.StatusTooManyRequests, "Slow down"},
		{"wrapped echo error", fmt.Errorf("auth: %w", echo.ErrForbidden), http.StatusForbidden, "Forbidden"},
		{"other error", errors.New("token expired; db=secret"), http.StatusUnauthorized, "Unauthorized"},
		{"accepted", nil, http.StatusSwitchingProtocols, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			next = tt.err
			mu.Unlock()
			c, status, body := dial(t, ep, nil, nil)
			if status != tt.wantStatus || strings.TrimSpace(body) != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", status, body, tt.wantStatus, tt.wantBody)
			}
			if c != nil {
				if got := roundTrip(t, c, "x"); got != "p|" {
					t.Fatalf("reply %q", got)
				}
			}
		})
	}
}

// TestReleaseWhenUpgraderRefuses checks that an admitted request the upgrader refuses gives
// its admission back.
func TestReleaseWhenUpgraderRefuses(t *testing.T) {
	var admitted, released atomic.Int32
	hub := newHub(t, core.Options{Handler: replyPrincipal, Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
		admitted.Add(1)
		return core.Admission{Release: func() { released.Add(1) }}, nil
	}})
	e := newEcho()
	e.GET("/chat", wsecho.New(hub, wsecho.Options{}))
	ep := serveEcho(t, e, "/chat")
	// Asks for an upgrade but lacks Sec-WebSocket-Key: admitted, then refused by the upgrader.
	req, _ := http.NewRequest(http.MethodGet, adaptertest.HTTPURL(ep), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
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
}

// authenticate maps the suite's Authenticate onto the adapter's hook.
func authenticate(cfg adaptertest.Config) func(echo.Context) (any, error) {
	if cfg.Authenticate == nil {
		return nil
	}
	return func(echo.Context) (any, error) { return cfg.Authenticate() }
}
