package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/examples/internal/demo/demotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp refreshes its cached Date header from one package-level goroutine that
		// belongs to no server and never stops (see adapters/wsfiber's tests).
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
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
		demotest.CheckEchoReply(t, demotest.Endpoints(t, base))
		demotest.Get(t, base+demo.ReadyPath, 200, "", "")
	})
	t.Run("fake model", func(t *testing.T) {
		demotest.CheckFakeModelReply(t, demotest.Endpoints(t, start(t, demotest.StreamArgs...)))
	})
}
