package main

import (
	"net/http/httptest"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo/demotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start serves the example's Echo routes (as main builds them) with the given flags.
func start(t *testing.T, args ...string) string {
	t.Helper()
	flags := demotest.Flags(t, args...)
	hub := core.NewHub(flags.HubOptions(flags.Bot(), core.NewMemoryStore(core.MemoryStoreOptions{}), nil))
	srv := httptest.NewServer(newEcho(hub))
	t.Cleanup(srv.Close)
	demotest.ShutdownOnCleanup(t, hub)
	return srv.URL
}

func TestEndpoints(t *testing.T) {
	t.Run("echo bot", func(t *testing.T) { demotest.CheckEcho(t, demotest.Endpoints(t, start(t))) })
	t.Run("fake model", func(t *testing.T) {
		demotest.CheckFakeModel(t, demotest.Endpoints(t, start(t, demotest.StreamArgs...)))
	})
}
