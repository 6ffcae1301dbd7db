package main

import (
	"net/http/httptest"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/examples/internal/demo/demotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Both instances, sharing one (embedded) Redis, serve every endpoint.
func TestEndpoints(t *testing.T) {
	url, stop, err := demo.EmbeddedRedis()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	flags := demotest.Flags(t, demotest.StreamArgs...)
	for i := range 2 {
		store, closeStore, err := demo.OpenRedisStore(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeStore() })
		hub := core.NewHub(flags.HubOptions(flags.Bot(), store, nil))
		srv := httptest.NewServer(demo.Routes(hub, demo.RouteOptions{}))
		t.Cleanup(srv.Close)
		demotest.ShutdownOnCleanup(t, hub)
		t.Logf("instance %d", i+1)
		demotest.CheckFakeModel(t, demotest.Endpoints(t, srv.URL))
	}
}
