package wshttp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mount(t *testing.T, hub *core.Hub, cfg adaptertest.Config) string {
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{AllowedOrigins: cfg.AllowedOrigins, AllowedHosts: cfg.AllowedHosts, Authenticate: authenticate(cfg)}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
}

func TestConformance(t *testing.T) { adaptertest.Run(t, mount) }

func TestCluster(t *testing.T) {
	shared := map[*testing.T]*core.MemoryStore{}
	adaptertest.RunCluster(t, mount, func(t *testing.T, instance int) core.Store {
		if shared[t] == nil {
			shared[t] = core.NewMemoryStore(core.MemoryStoreOptions{})
		}
		return shared[t]
	})
}

// authenticate maps the suite's Authenticate onto the adapter's hook.
func authenticate(cfg adaptertest.Config) func(*http.Request) (any, error) {
	if cfg.Authenticate == nil {
		return nil
	}
	return func(*http.Request) (any, error) { return cfg.Authenticate() }
}
