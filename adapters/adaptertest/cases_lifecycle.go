package adaptertest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

func lifecycleCases() []testCase {
	return []testCase{
		{"ShutdownKeepsItsDeadline", func(t *testing.T, mount Mount) {
			// A handler that ignores its context must not hold Shutdown past its deadline,
			// with or without a store; the hub still owns it and stops it once it returns
			// (goleak, in each adapter's TestMain, checks nothing is left).
			for _, store := range []core.Store{nil, core.NewMemoryStore(core.MemoryStoreOptions{})} {
				started, release := make(chan struct{}, 1), make(chan struct{})
				stubborn := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
					if store != nil { // a reply streaming when the deadline passes
						s, err := w.Stream(ctx)
						if err != nil {
							return err
						}
						defer s.Close(context.WithoutCancel(ctx))
					}
					started <- struct{}{}
					<-release // ignores ctx
					return nil
				})
				var log lockedBuffer
				h := core.NewHub(core.Options{Handler: stubborn, Store: store, Logger: slog.New(slog.NewTextHandler(&log, nil))})
				ep := mount(t, h, Config{})
				c := Dial(t, ep, url.Values{"sessionId": {"stubborn"}}, nil)
				c.Send(msg("work forever"))
				<-started
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				start := time.Now()
				err := h.Shutdown(ctx)
				took := time.Since(start)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("store %v: Shutdown = %v, want context.DeadlineExceeded", store != nil, err)
				}
				// Generous against a loaded machine; the bug it guards against blocks forever.
				if took > time.Second {
					t.Errorf("store %v: Shutdown with a 100ms deadline took %v", store != nil, took)
				}
				// The warning says what still runs: the connection (its socket is cut) and,
				// in session mode, the reply whose handler has not returned.
				wantStreams := "streams=0"
				if store != nil {
					wantStreams = "streams=1"
				}
				if got := log.String(); !strings.Contains(got, "shutdown deadline passed") || !strings.Contains(got, wantStreams) {
					t.Errorf("store %v: shutdown log %q, want the deadline warning with %s", store != nil, got, wantStreams)
				}
				close(release)
				ctx, cancel = context.WithTimeout(context.Background(), waitTimeout)
				if err := h.Shutdown(ctx); err != nil {
					t.Errorf("store %v: second Shutdown after the handler returned: %v", store != nil, err)
				}
				cancel()
			}
		}},
		{"ShutdownClosesWith1001", func(t *testing.T, mount Mount) {
			h := core.NewHub(core.Options{Handler: echo, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			ep := mount(t, h, Config{})
			var clients []*Client
			for i := 0; i < 5; i++ {
				clients = append(clients, Dial(t, ep, url.Values{"sessionId": {"s"}}, nil))
			}
			eventually(t, "connections registered", func() bool { return h.ConnCount() == 5 })
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			within(t, waitTimeout, "Shutdown", func() {
				if err := h.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			})
			for _, c := range clients {
				if code := c.ExpectClose(); code != core.CloseGoingAway {
					t.Fatalf("close code %d, want 1001", code)
				}
			}
			if h.ConnCount() != 0 {
				t.Fatalf("%d connections left after Shutdown", h.ConnCount())
			}
			late, _, err := DialRaw(ep, nil, nil)
			if err == nil {
				lc := &Client{t: t, Conn: late}
				if code := lc.ExpectClose(); code != core.CloseGoingAway {
					t.Fatalf("connection after Shutdown closed with %d, want 1001", code)
				}
				_ = late.Close()
			}
		}},
		{"SlowConsumerClosed1008", func(t *testing.T, mount Mount) {
			big := strings.Repeat("x", 64<<10)
			h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				for i := 0; i < 400; i++ {
					if err := w.Send(ctx, core.Message{Content: big}); err != nil {
						return nil // closed as a slow consumer
					}
				}
				return nil
			})
			gone := make(chan core.DisconnectEvent, 1)
			_, ep := serve(t, mount, core.Options{Handler: h, SendQueueSize: 8, WriteTimeout: 500 * time.Millisecond, OnDisconnect: func(e core.DisconnectEvent) { gone <- e }})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("flood me"))
			var ev core.DisconnectEvent
			select {
			case ev = <-gone: // the client has not read a byte
			case <-time.After(waitTimeout):
				t.Fatal("a client that does not read was not closed")
			}
			if ev.Code != core.ClosePolicyViolation || ev.Reason != "slow consumer" {
				t.Fatalf("disconnect code %d reason %q, want 1008 slow consumer", ev.Code, ev.Reason)
			}
		}},
		{"DisconnectEventCarriesPeerCode", func(t *testing.T, mount Mount) {
			gone := make(chan core.DisconnectEvent, 1)
			_, ep := serve(t, mount, core.Options{Handler: echo, OnDisconnect: func(e core.DisconnectEvent) { gone <- e }})
			c := Dial(t, ep, nil, nil)
			_ = c.Conn.WriteControl(8, websocket.FormatCloseMessage(4000, "bye"), time.Now().Add(time.Second))
			select {
			case ev := <-gone:
				if ev.Code != 4000 || ev.SessionID == "" || ev.ConnID == "" {
					t.Fatalf("disconnect event %+v, want code 4000 with ids", ev)
				}
			case <-time.After(waitTimeout):
				t.Fatal("no disconnect event")
			}
		}},
	}
}

// lockedBuffer is an io.Writer safe for the hub's goroutines to log to while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
