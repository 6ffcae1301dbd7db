package main

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/examples/internal/demo/demotest"
	"github.com/gofiber/fiber/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp refreshes its cached Date header from one package-level goroutine that
		// belongs to no server and is never stopped (fasthttp's updateServerDate).
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}

// TestSlowlorisIsBounded runs the example's server configuration (with shorter timeouts)
// against clients that send their upgrade request a byte at a time: every one of them is
// closed once the read timeout passes, while an upgraded chat connection, idle for longer
// than the timeout with heartbeats off, stays open and answers.
func TestSlowlorisIsBounded(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	hub := core.NewHub(core.Options{HeartbeatInterval: -1, Handler: core.HandlerFunc(
		func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
		})})
	app := fiber.New(serverConfig(readTimeout, 4*readTimeout))
	app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		if err := app.ShutdownWithContext(ctx); err != nil {
			t.Errorf("app shutdown: %v", err)
		}
		<-done
	})
	addr := ln.Addr().String()

	chat := adaptertest.Dial(t, "ws://"+addr+"/chat", url.Values{"sessionId": {"kept"}}, nil)

	const attackers = 30
	request := "GET /chat HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	closed := make(chan time.Duration, attackers)
	start := time.Now()
	for range attackers {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		go func() { // ends when the server closes the connection (or at cleanup)
			for i := 0; ; i++ {
				if _, err := c.Write([]byte{request[i%len(request)]}); err != nil {
					break
				}
				_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if _, err := c.Read(make([]byte, 1)); err != nil {
					if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
						break // closed by the server (EOF or reset)
					}
				}
			}
			closed <- time.Since(start)
		}()
	}
	for range attackers {
		select {
		case d := <-closed:
			if d < readTimeout {
				t.Errorf("a slow client was closed after %v, before the read timeout", d)
			}
		case <-time.After(10 * readTimeout):
			t.Fatal("slow clients still open well past the read timeout")
		}
	}
	// The chat connection has been idle for longer than the read timeout: still served.
	chat.Send(core.Message{Type: core.TypeMessage, Content: "still here"})
	if got := chat.Read(); got.Content != "Echo: still here" {
		t.Fatalf("reply %q, want the echo", got.Content)
	}
}

// start serves the example's Fiber app (as main builds it) on a loopback port; the test's
// end drains it as SIGTERM would.
func start(t *testing.T, args ...string) string {
	t.Helper()
	flags := demotest.Flags(t, args...)
	hub := core.NewHub(flags.HubOptions(flags.Bot(), core.NewMemoryStore(core.MemoryStoreOptions{}), nil))
	drainer, app := newApp(hub, 0)
	// fasthttp's worker-pool cleaner notices a shutdown only after sleeping this long
	// (default 10s); keep it short so the goroutine has ended when goleak looks.
	app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	t.Cleanup(func() {
		if err := drainer.Drain(context.Background()); err != nil {
			t.Errorf("drain: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("app: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestEndpoints(t *testing.T) {
	t.Run("echo bot", func(t *testing.T) {
		base := start(t)
		demotest.CheckEcho(t, demotest.Endpoints(t, base))
		demotest.Get(t, base+demo.ReadyPath, 200, "", "")
	})
	t.Run("fake model", func(t *testing.T) {
		demotest.CheckFakeModel(t, demotest.Endpoints(t, start(t, demotest.StreamArgs...)))
	})
}
