package adaptertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
)

// Config is the adapter configuration a case needs; every adapter maps it onto its own
// options (the same names in each).
type Config struct {
	// AllowedOrigins is passed to the adapter's AllowedOrigins option.
	AllowedOrigins []string
	// AllowedHosts is passed to the adapter's AllowedHosts option.
	AllowedHosts []string
	// Authenticate, when set, is what the adapter's Authenticate hook returns for every
	// request (each adapter wraps it in its own signature).
	Authenticate func() (principal any, err error)
}

// Mount serves hub through the adapter under test with cfg on a new loopback server and
// returns the ws:// URL of the chat endpoint. It registers the server's shutdown with
// t.Cleanup.
type Mount func(t *testing.T, hub *core.Hub, cfg Config) (endpoint string)

// Run runs every case of the suite against mount.
func Run(t *testing.T, mount Mount) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, mount) })
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, mount Mount)
}

func cases() []testCase {
	var all []testCase
	all = append(all, handshakeCases()...)
	all = append(all, framingCases()...)
	all = append(all, handlerCases()...)
	all = append(all, sessionCases()...)
	all = append(all, lifecycleCases()...)
	all = append(all, streamCases()...)
	all = append(all, partsCases()...)
	all = append(all, admitCases()...)
	all = append(all, welcomeCases()...)
	all = append(all, protocolCases()...)
	all = append(all, refusalFrameCases()...)
	all = append(all, refusalCases()...)
	all = append(all, fairnessCases()...)
	return all
}

// newHub returns a hub whose Shutdown is registered with t.Cleanup (after the server's
// cleanup, so it runs first).
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

// serve builds a hub from opts and mounts it with a default config.
func serve(t *testing.T, mount Mount, opts core.Options) (*core.Hub, string) {
	t.Helper()
	h := newHub(t, opts)
	return h, mount(t, h, Config{})
}

// recorder is an echo handler ("Echo: <content>") that remembers every request.
type recorder struct {
	mu   sync.Mutex
	reqs []core.Request
}

func (r *recorder) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	r.mu.Lock()
	r.reqs = append(r.reqs, *req)
	r.mu.Unlock()
	if req.Message.Type != core.TypeMessage {
		return nil
	}
	return w.Send(ctx, core.Message{Type: core.TypeMessage, Role: core.RoleAssistant, Content: "Echo: " + req.Message.Content})
}

func (r *recorder) requests() []core.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]core.Request(nil), r.reqs...)
}

// echo is a stateless echo handler.
var echo = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
})

func msg(content string) core.Message {
	return core.Message{Type: core.TypeMessage, Content: content}
}

func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s took longer than %v", what, d)
	}
}
