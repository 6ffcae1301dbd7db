package aisdk_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// TestRegenerateAndRetry: a retried submit of a stored message is not handled again; a
// regenerate answers the stored message again (its stored text, not the body's), storing no
// second user message.
func TestRegenerateAndRetry(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	h := &partsHandler{}
	in := newInstance(t, store, h, aisdk.Options{}, nil)
	run := func(b string) []parts.Chunk {
		resp := post(t, in.srv.URL+"/api/chat", b)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		r := newSSE(t, resp)
		out := r.rest()
		if !r.done {
			t.Fatal("no [DONE]")
		}
		return out
	}
	first := run(body("regen", "u1", "world"))
	retry := run(body("regen", "u1", "world"))
	if n := h.calls.Load(); n != 1 || len(retry) != 2 || retry[0].Type != parts.ChunkStart || retry[1].Type != parts.ChunkFinish {
		t.Fatalf("a retry ran the handler (%d calls) or streamed %+v", n, retry)
	}
	regen, _ := json.Marshal(map[string]any{
		"id": "regen", "trigger": "regenerate-message", "messageId": first[0].MessageID,
		"messages": []any{map[string]any{"id": "u1", "role": "user", "parts": []any{map[string]any{"type": "text", "text": "FORGED"}}}},
	})
	again := run(string(regen))
	_, b, _ := fold(t, again)
	if n := h.calls.Load(); n != 2 || h.seen[1] != "world" || b.Text() != "Hello, world" {
		t.Fatalf("regenerate: %d calls, handler saw %q, text %q; want the stored message answered again", n, h.seen, b.Text())
	}
	if again[0].MessageID == first[0].MessageID {
		t.Fatal("the regenerated reply reuses the old message id")
	}
	hist := history(t, store, "regen")
	users := 0
	for _, m := range hist {
		if m.Role == core.RoleUser {
			users++
		}
	}
	if users != 1 || len(hist) != 3 {
		t.Fatalf("history has %d messages, %d from the user; want the user message once and two replies", len(hist), users)
	}
}
