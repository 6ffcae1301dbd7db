package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// hubFunc adapts a function to middleware.HubDrainer.
type hubFunc func(ctx context.Context, code core.CloseCode, reason string) error

func (f hubFunc) Drain(ctx context.Context, code core.CloseCode, reason string) error {
	return f(ctx, code, reason)
}

func TestDrainerSequence(t *testing.T) {
	var steps []string
	release, entered := make(chan struct{}), make(chan struct{})
	var d *middleware.Drainer
	ready := func() int {
		rr := httptest.NewRecorder()
		d.Ready().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rr.Code
	}
	var shutdowns atomic.Int32
	hub := hubFunc(func(ctx context.Context, code core.CloseCode, reason string) error {
		if code != core.CloseServiceRestart || reason == "" {
			t.Errorf("drained with %d %q", code, reason)
		}
		if ready() != http.StatusServiceUnavailable {
			t.Error("connections closed while readiness still reported OK")
		}
		steps = append(steps, "hub")
		close(entered)
		<-release
		return nil
	})
	srvErr := errors.New("server stuck")
	d = middleware.NewDrainer(hub, middleware.DrainOptions{Server: middleware.ShutdownFunc(func(context.Context) error {
		shutdowns.Add(1)
		steps = append(steps, "server")
		return srvErr
	})})
	if ready() != http.StatusOK || d.Draining() {
		t.Fatal("not ready before the drain")
	}
	first := make(chan error, 1)
	go func() { first <- d.Drain(context.Background()) }()
	waitChan(t, "the hub drain", entered)
	// A second caller whose context ends gives up without waiting for the first.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Drain(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Drain with a cancelled context: %v", err)
	}
	close(release)
	if err := waitChan(t, "the drain", first); !errors.Is(err, srvErr) {
		t.Fatalf("Drain returned %v, want the server's error", err)
	}
	if err := d.Drain(context.Background()); !errors.Is(err, srvErr) || shutdowns.Load() != 1 {
		t.Fatalf("a later Drain returned %v after %d shutdowns; want the first result and one shutdown", err, shutdowns.Load())
	}
	if len(steps) != 2 || steps[0] != "hub" || steps[1] != "server" {
		t.Fatalf("steps %q, want hub then server", steps)
	}
	waitChan(t, "Done", d.Done())
}

// TestDrainerKeepsItsTimeout drains a real hub whose handler ignores its context: Drain
// returns at its Timeout with context.DeadlineExceeded instead of waiting for the handler,
// and the hub stops the handler once it returns (goleak checks it in TestMain).
func TestDrainerKeepsItsTimeout(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	stubborn := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		started <- struct{}{}
		<-release // ignores ctx
		return nil
	})
	hub := newHub(t, core.Options{Handler: stubborn})
	t.Cleanup(func() { close(release) }) // runs before the hub's cleanup Shutdown
	c, status, body, _ := dialStatus(t, mountHTTP(t, hub), nil, nil)
	if c == nil {
		t.Fatalf("refused with %d %q", status, body)
	}
	send(t, c, chat("work forever"))
	waitChan(t, "handler start", started)
	d := middleware.NewDrainer(hub, middleware.DrainOptions{Timeout: 100 * time.Millisecond})
	start := time.Now()
	err := d.Drain(context.Background())
	if took := time.Since(start); took > time.Second { // generous; the bug blocks forever
		t.Errorf("Drain with a 100ms timeout took %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain = %v, want context.DeadlineExceeded", err)
	}
}
