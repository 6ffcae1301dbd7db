package aisdkfiber_test

import (
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/goleak"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/aisdk/aisdkfiber"
	"github.com/chatwire/chatwire/core"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// fasthttp refreshes its cached Date header from one package-level goroutine, started
		// on the first response and never stopped (fasthttp's updateServerDate). It belongs to
		// no server and is the only goroutine ignored here.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}

// TestAISDK runs the AI SDK endpoint cases with the endpoint served natively by Fiber.
func TestAISDK(t *testing.T) {
	adaptertest.RunAISDK(t, func(t *testing.T, hub *core.Hub, opts aisdk.Options) string {
		h := aisdkfiber.New(aisdk.New(hub, opts))
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		// fasthttp's worker-pool cleaner notices a shutdown only after sleeping this long
		// (default 10s); keep it short so the goroutine has ended when goleak looks.
		app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond
		app.All("/api/chat", h)
		app.All("/api/chat/*", h)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- app.Listener(ln) }() // owned by the cleanup below, which waits for it
		t.Cleanup(func() {
			if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
				t.Errorf("fiber shutdown: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("fiber listener: %v", err)
			}
		})
		return "http://" + ln.Addr().String() + "/api/chat"
	})
}
