package aisdk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// partsHandler streams a reply with every kind of part. When gate is not nil it pauses
// after the first text delta until gate is closed (or the stream is cancelled).
type partsHandler struct {
	gate  chan struct{}
	calls atomic.Int32
	mu    sync.Mutex
	seen  []string // the user messages' contents
}

func (h *partsHandler) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	h.calls.Add(1)
	h.mu.Lock()
	h.seen = append(h.seen, req.Message.Content)
	h.mu.Unlock()
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	_ = s.MessageMetadata(ctx, json.RawMessage(`{"model":"fake","usage":{"in":3}}`))
	must(s.StartStep(ctx))
	r, err := s.StartReasoning(ctx)
	must(err)
	must(r.Delta(ctx, "The user "))
	must(r.Delta(ctx, "greets me."))
	must(r.End(ctx))
	tc, err := s.StartToolCall(ctx, core.ToolCallInfo{ID: "call-1", Name: "weather"})
	must(err)
	must(tc.InputDelta(ctx, `{"city":`))
	must(tc.InputDelta(ctx, `"Paris"}`))
	must(tc.Input(ctx, json.RawMessage(`{"city":"Paris"}`)))
	must(tc.Output(ctx, json.RawMessage(`{"sky":"sunny"}`)))
	bad, err := s.ToolCall(ctx, core.ToolCallInfo{ID: "call-2", Name: "search", Dynamic: true}, json.RawMessage(`{"q":"x"}`))
	must(err)
	must(bad.Fail(ctx, "search is down"))
	must(s.SourceURL(ctx, core.SourceURL{ID: "s1", URL: "https://example.com/paris", Title: "Paris"}))
	must(s.SourceDocument(ctx, core.SourceDocument{ID: "s2", MediaType: "application/pdf", Title: "Report", Filename: "r.pdf"}))
	must(s.File(ctx, core.File{MediaType: "image/png", URL: "data:image/png;base64,iVBORw0KGgo="}))
	must(s.Data(ctx, core.Data{Name: "progress", ID: "p", Value: json.RawMessage(`{"pct":10}`)}))
	must(s.Data(ctx, core.Data{Name: "notice", Value: json.RawMessage(`"transient!"`), Transient: true}))
	must(s.Delta(ctx, "Hello"))
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-s.Context().Done():
			return nil // cancelled: the stream ends "cancelled" with what it has
		}
	}
	must(s.Delta(ctx, ", "))
	must(s.Delta(ctx, req.Message.Content))
	must(s.Data(ctx, core.Data{Name: "progress", ID: "p", Value: json.RawMessage(`{"pct":100}`)}))
	must(s.FinishStep(ctx))
	s.SetFinishReason(core.FinishStop)
	return s.Close(ctx)
}

func TestPostStreamsEveryPart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store core.Store
	}{
		{"memory", core.NewMemoryStore(core.MemoryStoreOptions{})},
		{"stateless", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &partsHandler{}
			in := newInstance(t, tc.store, h, aisdk.Options{}, nil)
			resp := post(t, in.srv.URL+"/api/chat", body("chat-1", "u1", "world"))
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			r := newSSE(t, resp)
			chunks := r.rest()
			if !r.done {
				t.Fatalf("stream did not end with [DONE]: %v", r.raw)
			}
			id, b, last := fold(t, chunks)
			if last != parts.ChunkFinish {
				t.Fatalf("last chunk %q, want finish", last)
			}
			for _, raw := range r.raw {
				if strings.Contains(raw, "transient!") && !strings.Contains(raw, `"transient":true`) {
					t.Fatalf("transient data without the flag: %s", raw)
				}
				if strings.Contains(raw, "finishReason") || strings.Contains(raw, "forged") {
					t.Fatalf("chunk %s carries what it must not", raw)
				}
			}
			if got := b.Text(); got != "Hello, world" {
				t.Fatalf("text = %q", got)
			}
			if h.seen[0] != "world" {
				t.Fatalf("handler saw %q, want only the newest user message", h.seen[0])
			}
			if tc.store == nil {
				return
			}
			hist := history(t, tc.store, "chat-1")
			if len(hist) != 2 || hist[0].ID != "u1" || hist[0].Content != "world" || hist[0].Role != core.RoleUser {
				t.Fatalf("history = %+v, want the user message then the reply", hist)
			}
			final := hist[1]
			if final.ID != id || final.Content != "Hello, world" {
				t.Fatalf("final %q %q, start id %q", final.ID, final.Content, id)
			}
			if got, want := partsJSON(t, b.Parts()), partsJSON(t, storedParts(t, final)); got != want {
				t.Fatalf("assembled parts\n%s\nstored\n%s", got, want)
			}
			if !strings.Contains(string(final.Metadata), `"finishReason":"stop"`) || !strings.Contains(string(final.Metadata), `"replyTo":"u1"`) {
				t.Fatalf("final metadata %s", final.Metadata)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	valid := body("chat-r", "u1", "hi")
	big := `{"id":"chat-r","trigger":"submit-message","messages":[{"id":"u1","role":"user","parts":[{"type":"text","text":"` + strings.Repeat("x", 2<<20) + `"}]}]}`
	cases := []struct {
		name, ctype, origin, body string
		want                      int
	}{
		{"text/plain", "text/plain", "", valid, http.StatusUnsupportedMediaType},
		{"form", "application/x-www-form-urlencoded", "", valid, http.StatusUnsupportedMediaType},
		{"multipart", "multipart/form-data; boundary=x", "", valid, http.StatusUnsupportedMediaType},
		{"no content type", "", "", valid, http.StatusUnsupportedMediaType},
		{"cross-site origin", "application/json", "https://evil.example", valid, http.StatusForbidden},
		{"null origin", "application/json", "null", valid, http.StatusForbidden},
		{"too large", "application/json", "", big, http.StatusRequestEntityTooLarge},
		{"malformed", "application/json", "", `{"id":`, http.StatusBadRequest},
		{"not an object", "application/json", "", `[1]`, http.StatusBadRequest},
		{"missing id", "application/json", "", `{"trigger":"submit-message","messages":[{"id":"u","role":"user","parts":[]}]}`, http.StatusBadRequest},
		{"bad id", "application/json", "", `{"id":"a b","trigger":"submit-message","messages":[{"id":"u","role":"user","parts":[]}]}`, http.StatusBadRequest},
		{"missing messages", "application/json", "", `{"id":"chat-r","trigger":"submit-message"}`, http.StatusBadRequest},
		{"empty messages", "application/json", "", `{"id":"chat-r","trigger":"submit-message","messages":[]}`, http.StatusBadRequest},
		{"last from assistant", "application/json", "", `{"id":"chat-r","trigger":"submit-message","messages":[{"id":"a","role":"assistant","parts":[]}]}`, http.StatusBadRequest},
		{"last from system", "application/json", "", `{"id":"chat-r","trigger":"submit-message","messages":[{"id":"a","role":"system","parts":[]}]}`, http.StatusBadRequest},
		{"unknown trigger", "application/json", "", `{"id":"chat-r","trigger":"resume-stream","messages":[{"id":"u","role":"user","parts":[]}]}`, http.StatusBadRequest},
		{"missing trigger", "application/json", "", `{"id":"chat-r","messages":[{"id":"u","role":"user","parts":[]}]}`, http.StatusBadRequest},
	}
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	h := &partsHandler{}
	in := newInstance(t, store, h, aisdk.Options{}, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, in.srv.URL+"/api/chat", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code, Message string }
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code == "" || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("error body not JSON with a code: %v %+v", err, e)
			}
		})
	}
	if n := h.calls.Load(); n != 0 {
		t.Fatalf("handler ran %d times for refused requests", n)
	}
	if hist := history(t, store, "chat-r"); len(hist) != 0 {
		t.Fatalf("refused requests stored %d messages", len(hist))
	}
}

func TestAdmitAndOrigin(t *testing.T) {
	admit := func(_ context.Context, r *core.AdmitRequest) (core.Admission, error) {
		if r.Header.Get("Authorization") != "Bearer ok" {
			return core.Admission{}, &core.HandshakeError{Status: http.StatusUnauthorized, Body: "Unauthorized"}
		}
		if r.SessionID == "secret" {
			return core.Admission{}, &core.HandshakeError{Status: http.StatusNotFound, Body: "SESSION_NOT_FOUND"}
		}
		return core.Admission{Principal: "alice"}, nil
	}
	h := &partsHandler{}
	in := newInstance(t, core.NewMemoryStore(core.MemoryStoreOptions{}), h, aisdk.Options{AllowedOrigins: []string{"https://app.example"}}, admit)
	do := func(method, path, auth, origin, b string) *http.Response {
		req, _ := http.NewRequest(method, in.srv.URL+path, strings.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tc := range []struct {
		name, method, path, auth, origin, body string
		want                                   int
	}{
		{"post without auth", "POST", "/api/chat", "", "", body("c1", "u1", "x"), 401},
		{"resume without auth", "GET", "/api/chat/c1/stream", "", "", "", 401},
		{"stop without auth", "POST", "/api/chat/c1/stop", "", "", "", 401},
		{"resume of a chat the caller may not read", "GET", "/api/chat/secret/stream", "Bearer ok", "", "", 404},
		{"post to a chat the caller may not read", "POST", "/api/chat", "Bearer ok", "", body("secret", "u1", "x"), 404},
		{"stop of a chat the caller may not read", "POST", "/api/chat/secret/stop", "Bearer ok", "", "", 404},
		{"listed origin, nothing running", "GET", "/api/chat/c1/stream", "Bearer ok", "https://app.example", "", 204},
		{"unlisted origin", "GET", "/api/chat/c1/stream", "Bearer ok", "https://evil.example", "", 403},
		{"stop with nothing running", "POST", "/api/chat/c1/stop", "Bearer ok", "https://app.example", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(tc.method, tc.path, tc.auth, tc.origin, tc.body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if n := h.calls.Load(); n != 0 {
		t.Fatalf("handler ran %d times", n)
	}
}
