package aisdk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// TestGuardRefusal: a message a Guard refuses (a rate limit) is neither stored nor handled,
// and the stream ends with an error chunk naming the code.
func TestGuardRefusal(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	h := &partsHandler{}
	limited := func(ctx context.Context, req *core.Request) error {
		return core.NewError(core.CodeRateLimited, "Too many messages")
	}
	hub := core.NewHub(core.Options{Handler: h, Store: store, Guards: []core.Guard{limited}})
	ep := aisdk.New(hub, aisdk.Options{})
	srv := httptest.NewServer(ep)
	defer func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
	}()
	resp := post(t, srv.URL+"/api/chat", body("guarded", "u1", "x"))
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := newSSE(t, resp)
	chunks := r.rest()
	if !r.done || len(chunks) != 3 || chunks[1].Type != parts.ChunkError || !strings.Contains(chunks[1].ErrorText, string(core.CodeRateLimited)) || chunks[2].Type != parts.ChunkFinish {
		t.Fatalf("refused message streamed %v", r.raw)
	}
	if h.calls.Load() != 0 || len(history(t, store, "guarded")) != 0 {
		t.Fatal("a refused message was handled or stored")
	}
}
