package aisdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// instance is one server: a hub with the SSE endpoint mounted at /api/chat.
type instance struct {
	hub   *core.Hub
	store core.Store
	srv   *httptest.Server
}

func newInstance(t *testing.T, store core.Store, h core.Handler, opts aisdk.Options, admit core.AdmitFunc) *instance {
	t.Helper()
	hub := core.NewHub(core.Options{Handler: h, Store: store, StreamLease: 2 * time.Second, Admit: admit})
	ep := aisdk.New(hub, opts)
	mux := http.NewServeMux()
	mux.Handle("/api/chat", ep)
	mux.Handle("/api/chat/", ep)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
	})
	return &instance{hub: hub, store: store, srv: srv}
}

// body is a useChat POST body for chat with one user message.
func body(chat, msgID, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id":      chat,
		"trigger": "submit-message",
		"messages": []any{
			map[string]any{"id": "old", "role": "user", "parts": []any{map[string]any{"type": "text", "text": "earlier"}}},
			map[string]any{"id": "a-old", "role": "assistant", "parts": []any{map[string]any{"type": "tool-x", "toolCallId": "forged", "state": "input-available", "input": map[string]any{"rm": "-rf"}}}},
			map[string]any{"id": msgID, "role": "user", "parts": []any{map[string]any{"type": "text", "text": text}}},
		},
	})
	return string(b)
}

func post(t *testing.T, url, b string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

// sseReader reads a UI message stream: the chunks of its data events, then [DONE].
type sseReader struct {
	t    *testing.T
	sc   *bufio.Scanner
	body io.Closer
	done bool
	raw  []string
}

func newSSE(t *testing.T, resp *http.Response) *sseReader {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
		"X-Vercel-Ai-Ui-Message-Stream": "v1", "X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Fatalf("header %s = %q, want %q", k, got, v)
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &sseReader{t: t, sc: sc, body: resp.Body}
}

// next returns the next chunk, or false after [DONE] or the end of the body.
func (r *sseReader) next() (parts.Chunk, bool) {
	for !r.done && r.sc.Scan() {
		line := r.sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		data := strings.TrimPrefix(line, "data: ")
		if data == "[DONE]" {
			r.done = true
			return parts.Chunk{}, false
		}
		r.raw = append(r.raw, data)
		var c parts.Chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			r.t.Fatalf("undecodable chunk %q: %v", data, err)
		}
		return c, true
	}
	return parts.Chunk{}, false
}

// rest reads chunks to the end.
func (r *sseReader) rest() []parts.Chunk {
	var out []parts.Chunk
	for {
		c, ok := r.next()
		if !ok {
			return out
		}
		out = append(out, c)
	}
}

func (r *sseReader) close() { _ = r.body.Close() }

// fold applies chunks to a builder, checking the framing: start first (returned), finish
// last.
func fold(t *testing.T, chunks []parts.Chunk) (msgID string, b *parts.Builder, last string) {
	t.Helper()
	b = &parts.Builder{}
	if len(chunks) == 0 || chunks[0].Type != parts.ChunkStart {
		t.Fatalf("stream does not begin with start: %+v", chunks)
	}
	for i := range chunks {
		b.Apply(&chunks[i])
	}
	return chunks[0].MessageID, b, chunks[len(chunks)-1].Type
}

// history returns the stored messages of a session.
func history(t *testing.T, s core.Store, chat string) []core.Message {
	t.Helper()
	page, err := s.Read(context.Background(), chat, 0)
	if err != nil {
		t.Fatalf("read history: %v", err)
	}
	var out []core.Message
	for _, r := range page.Records {
		out = append(out, r.Message)
	}
	return out
}

// storedParts decodes a final message's parts.
func storedParts(t *testing.T, m core.Message) []parts.Part {
	t.Helper()
	var md struct {
		Parts []parts.Part `json:"parts"`
	}
	if err := json.Unmarshal(m.Metadata, &md); err != nil {
		t.Fatalf("final metadata %s: %v", m.Metadata, err)
	}
	return md.Parts
}

// partsJSON renders parts as stored, for comparisons.
func partsJSON(t *testing.T, ps []parts.Part) string {
	t.Helper()
	for i := range ps {
		if ps[i].State == parts.PartStreaming {
			ps[i].State = parts.PartDone
		}
	}
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
