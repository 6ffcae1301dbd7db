package middleware_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/labstack/echo/v4"

	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
)

const waitTimeout = 5 * time.Second

// mount serves hub (whose Options.Admit admits) on a fresh loopback server and returns the
// ws:// URL of its chat endpoint; the server stops at test cleanup.
type mount func(t testing.TB, hub *core.Hub) string

// adapters are the three framework adapters every end-to-end case runs through.
var adapters = []struct {
	name  string
	mount mount
}{
	{"nethttp", mountHTTP},
	{"echo", mountEcho},
	{"fiber", mountFiber},
}

func mountHTTP(t testing.TB, hub *core.Hub) string {
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
}

func mountEcho(t testing.TB, hub *core.Hub) string {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/chat", wsecho.New(hub, wsecho.Options{}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
}

func mountFiber(t testing.TB, hub *core.Hub) string {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	// fasthttp's worker-pool cleaner notices a shutdown only after this long (default 10s).
	app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
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
	return "ws://" + ln.Addr().String() + "/chat"
}

// acceptSignal reports the first Accept call: by then fasthttp has registered the listener,
// so a shutdown from then on stops it.
type acceptSignal struct {
	net.Listener
	once  sync.Once
	ready chan struct{}
}

func (l *acceptSignal) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.ready) })
	return l.Listener.Accept()
}

// newHub returns a hub shut down at test cleanup (after the servers registered later).
func newHub(t testing.TB, opts core.Options) *core.Hub {
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

// echoBot replies "Echo: <content>" to chat messages.
var echoBot = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	if req.Message.Type != core.TypeMessage {
		return nil
	}
	return w.Send(ctx, core.Message{Type: core.TypeMessage, Role: core.RoleAssistant, Content: "Echo: " + req.Message.Content})
})

// recorder is echoBot that also remembers every request it handled.
type recorder struct {
	mu   sync.Mutex
	reqs []core.Request
}

func (r *recorder) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	r.mu.Lock()
	r.reqs = append(r.reqs, *req)
	r.mu.Unlock()
	return echoBot(ctx, req, w)
}

func (r *recorder) requests() []core.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]core.Request(nil), r.reqs...)
}

func chat(content string) core.Message {
	return core.Message{Type: core.TypeMessage, Content: content}
}

// metaCode returns the "code" of an error envelope's metadata.
func metaCode(m core.Message) string {
	s := string(m.Metadata)
	i := strings.Index(s, `"code":"`)
	if i < 0 {
		return ""
	}
	s = s[i+len(`"code":"`):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}

// waitChan waits for ch to deliver, failing t after waitTimeout.
func waitChan[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func deadline() time.Time { return time.Now().Add(waitTimeout) }
