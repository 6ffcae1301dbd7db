package middleware

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chatwire/chatwire/core"
)

// HubDrainer closes every connection of a hub with a code and waits for them to end;
// *core.Hub implements it.
type HubDrainer interface {
	Drain(ctx context.Context, code core.CloseCode, reason string) error
}

// Shutdowner stops a server gracefully; *http.Server and *echo.Echo implement it (for
// Fiber, pass a func adapter around app.ShutdownWithContext).
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// ShutdownFunc adapts a function to Shutdowner.
type ShutdownFunc func(ctx context.Context) error

// Shutdown calls f.
func (f ShutdownFunc) Shutdown(ctx context.Context) error { return f(ctx) }

// DrainOptions configures NewDrainer.
type DrainOptions struct {
	// Server is shut down once the hub has drained. Default: nil (no server).
	Server Shutdowner
	// Delay is how long readiness reports 503 before connections are closed, so that load
	// balancers stop sending new clients here first (a few readiness probe periods).
	// Default: 0.
	Delay time.Duration
	// Timeout bounds the whole drain (Delay included); when it passes, the hub's remaining
	// connections are cut and Drain returns context.DeadlineExceeded at once, even if a
	// handler ignores its context (the hub stops it later; see core.Hub.Shutdown).
	// Default: 25s, under Kubernetes' default 30 s grace period.
	Timeout time.Duration
	// Code is the close code sent to every connection. Default: core.CloseServiceRestart
	// (1012), which tells clients to reconnect at once (to another instance).
	Code core.CloseCode
	// Reason is the close reason. Default: "server restarting".
	Reason string
}

// Defaults of DrainOptions.
const (
	DefaultDrainTimeout = 25 * time.Second
	defaultDrainReason  = "server restarting"
)

// Drainer takes an instance out of service gracefully, for rolling deploys and platforms
// that send SIGTERM before stopping a process: Drain turns the readiness endpoint (Ready)
// unhealthy, waits Delay, closes every connection with 1012 so clients resume on another
// instance, then shuts down the HTTP server. It is safe for concurrent use.
type Drainer struct {
	hub  HubDrainer
	opts DrainOptions

	draining atomic.Bool // set by the first Drain, which owns the drain
	done     chan struct{}
	err      error // set before done is closed
}

// NewDrainer returns a Drainer for hub.
func NewDrainer(hub HubDrainer, opts DrainOptions) *Drainer {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultDrainTimeout
	}
	if opts.Code == 0 {
		opts.Code = core.CloseServiceRestart
	}
	if opts.Reason == "" {
		opts.Reason = defaultDrainReason
	}
	return &Drainer{hub: hub, opts: opts, done: make(chan struct{})}
}

// Draining reports whether Drain has been called.
func (d *Drainer) Draining() bool { return d.draining.Load() }

// Done is closed when the drain has finished.
func (d *Drainer) Done() <-chan struct{} { return d.done }

// Ready returns the readiness endpoint: 200 "ok" while serving, 503 "draining" from the
// moment Drain is called. Mount it where your load balancer or orchestrator probes.
func (d *Drainer) Ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if d.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
}

// Drain takes the instance out of service (see Drainer) and returns once the hub and the
// server have stopped, or when Timeout or ctx ends. Only the first call drains; later calls
// wait for it (or for their own ctx) and return its result.
func (d *Drainer) Drain(ctx context.Context) error {
	if d.draining.CompareAndSwap(false, true) {
		d.err = d.drain(ctx)
		close(d.done)
		return d.err
	}
	select {
	case <-d.done:
		return d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Drainer) drain(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, d.opts.Timeout)
	defer cancel()
	if d.opts.Delay > 0 {
		t := time.NewTimer(d.opts.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	herr := d.hub.Drain(ctx, d.opts.Code, d.opts.Reason)
	var serr error
	if d.opts.Server != nil {
		serr = d.opts.Server.Shutdown(ctx)
	}
	return errors.Join(herr, serr)
}

// Notify drains when the process receives one of sig (default: SIGTERM and SIGINT). It
// starts one goroutine, which stop ends; stop also waits for a drain the signal started.
// While Notify is active those signals no longer end the process by themselves.
func (d *Drainer) Notify(sig ...os.Signal) (stop func()) {
	if len(sig) == 0 {
		sig = []os.Signal{syscall.SIGTERM, os.Interrupt}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig...)
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ch:
			_ = d.Drain(context.Background())
		case <-quit:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(quit)
			<-exited
		})
	}
}
