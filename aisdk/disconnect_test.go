package aisdk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// TestDisconnectEndsOnlyTheRequest: when the client goes away mid-reply, ServeHTTP returns
// at once while the reply goes on (it is not cancelled, and finishes stored).
func TestDisconnectEndsOnlyTheRequest(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	h := &partsHandler{gate: make(chan struct{})}
	hub := core.NewHub(core.Options{Handler: h, Store: store})
	returned := make(chan struct{}, 1)
	ep := aisdk.New(hub, aisdk.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	defer func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
	}()
	resp := post(t, srv.URL+"/api/chat", body("gone", "u1", "world"))
	r := newSSE(t, resp)
	for {
		c, ok := r.next()
		if !ok {
			t.Fatal("stream ended early")
		}
		if c.Type == parts.ChunkTextDelta {
			break
		}
	}
	r.close()
	select {
	case <-returned:
	case <-time.After(3 * time.Second):
		t.Fatal("ServeHTTP still runs after the client went away")
	}
	running, err := hub.RunningStreams(context.Background(), "gone")
	if err != nil || len(running) != 1 {
		t.Fatalf("the reply did not go on after the disconnect: %v %+v", err, running)
	}
	close(h.gate)
	deadline := time.Now().Add(5 * time.Second)
	for {
		hist := history(t, store, "gone")
		if len(hist) == 2 && hist[1].Content == "Hello, world" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reply not finished after the disconnect: %+v", hist)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
