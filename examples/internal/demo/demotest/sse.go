package demotest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
)

// Chunk is one UI message chunk of the AI SDK's stream, as JSON fields.
type Chunk map[string]any

// Type returns the chunk's type.
func (c Chunk) Type() string { s, _ := c["type"].(string); return s }

// SSEChat posts text to base's /api/chat as useChat's DefaultChatTransport does (a new user
// message in chat chatID) and returns the response's headers and every chunk up to
// "data: [DONE]".
func SSEChat(t testing.TB, base, chatID, text string) (http.Header, []Chunk) {
	t.Helper()
	res := StartChat(t, base, chatID, text)
	defer res.Body.Close()
	return res.Header, ReadSSE(t, res.Body)
}

// StartChat posts text to base's /api/chat as SSEChat does and returns the response once its
// headers arrived; its body streams the reply (see ReadSSE). The caller closes it.
func StartChat(t testing.TB, base, chatID, text string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"id":      chatID,
		"trigger": "submit-message",
		"messages": []any{map[string]any{
			"id": core.NewID(), "role": "user",
			"parts": []any{map[string]any{"type": "text", "text": text}},
		}},
	})
	res := do(t, http.MethodPost, base+"/api/chat", "application/json", body)
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		t.Fatalf("POST /api/chat: %d %s", res.StatusCode, b)
	}
	return res
}

// ReadSSE reads UI message chunks from an SSE body up to "data: [DONE]".
func ReadSSE(t testing.TB, body io.Reader) []Chunk {
	t.Helper()
	var chunks []Chunk
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			return chunks
		}
		var c Chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Errorf("chunk %q: %v", data, err)
			return chunks
		}
		chunks = append(chunks, c)
	}
	t.Errorf("the stream ended without [DONE] (%v) after %d chunks", sc.Err(), len(chunks))
	return chunks
}

// Resume asks base's AI SDK endpoint for the reply running in chat chatID (GET
// /api/chat/{id}/stream). It returns nil when nothing runs (204), else the response, whose
// body streams the reply's chunks (see ReadSSE); the caller closes it.
func Resume(t testing.TB, base, chatID string) *http.Response {
	t.Helper()
	res := do(t, http.MethodGet, base+"/api/chat/"+chatID+"/stream", "", nil)
	switch res.StatusCode {
	case http.StatusNoContent:
		_ = res.Body.Close()
		return nil
	case http.StatusOK:
		return res
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	t.Fatalf("resume: %d %s", res.StatusCode, b)
	return nil
}

// Stop asks base's AI SDK endpoint to stop the replies running in chat chatID and returns
// the ids of the stopped replies.
func Stop(t testing.TB, base, chatID string) []string {
	t.Helper()
	res := do(t, http.MethodPost, base+"/api/chat/"+chatID+"/stop", "application/json", []byte(`{}`))
	defer res.Body.Close()
	var out struct {
		Stopped []string `json:"stopped"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("stop: %d %v", res.StatusCode, err)
	}
	return out.Stopped
}

// do sends one request and returns its response.
func do(t testing.TB, method, url, contentType string, body []byte) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res
}

// status sends one request and returns its status, discarding the body.
func status(t testing.TB, method, url, contentType string, body []byte) int {
	t.Helper()
	res := do(t, method, url, contentType, body)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// SSEEndpoints checks the AI SDK endpoint at base/api/chat: a chat over SSE with the
// protocol's headers, a start chunk carrying the message id and a finish chunk; then, with
// the reply over, resume answers 204 and stop stops nothing; a cross-site style text/plain
// POST is refused. It returns the chunks of the reply.
func SSEEndpoints(t *testing.T, base string) []Chunk {
	t.Helper()
	chatID := core.NewID()
	h, chunks := SSEChat(t, base, chatID, "hello from the endpoint test")
	if h.Get("Content-Type") != "text/event-stream" || h.Get("X-Vercel-Ai-Ui-Message-Stream") != "v1" {
		t.Fatalf("SSE headers %v", h)
	}
	if len(chunks) < 2 || chunks[0].Type() != "start" || chunks[0]["messageId"] == "" || chunks[len(chunks)-1].Type() != "finish" {
		t.Fatalf("chunks %v, want start (with messageId) ... finish", chunks)
	}
	if got := status(t, http.MethodGet, base+"/api/chat/"+chatID+"/stream", "", nil); got != http.StatusNoContent {
		t.Fatalf("resume after the reply: %d, want 204", got)
	}
	if got := status(t, http.MethodPost, base+"/api/chat/"+chatID+"/stop", "application/json", []byte(`{}`)); got != http.StatusOK {
		t.Fatalf("stop: %d, want 200", got)
	}
	if got := status(t, http.MethodPost, base+"/api/chat", "text/plain", []byte(`{"id":"x","messages":[]}`)); got < 400 {
		t.Fatalf("text/plain POST: %d, want a refusal", got)
	}
	return chunks
}

// ChunkTypes returns the chunks' types, runs of one type folded into one.
func ChunkTypes(chunks []Chunk) []string {
	var out []string
	for _, c := range chunks {
		if len(out) == 0 || out[len(out)-1] != c.Type() {
			out = append(out, c.Type())
		}
	}
	return out
}

// FakeModelChunkTypes is the order of chunk types (runs folded) of a fake model's reply:
// reasoning, a tool call whose input streams in and whose output arrives, a source, text.
var FakeModelChunkTypes = []string{
	"start", "start-step",
	"reasoning-start", "reasoning-delta", "reasoning-end",
	"tool-input-start", "tool-input-delta", "tool-input-available", "tool-output-available",
	"finish-step", "start-step",
	"source-url",
	"text-start", "text-delta", "text-end",
	"finish-step", "finish",
}

// CheckFakeModelChunks checks the order of a fake model reply's chunks.
func CheckFakeModelChunks(t *testing.T, chunks []Chunk) {
	t.Helper()
	if got := ChunkTypes(chunks); strings.Join(got, " ") != strings.Join(FakeModelChunkTypes, " ") {
		t.Fatalf("chunk types\n%v\nwant\n%v", got, FakeModelChunkTypes)
	}
}

// SSEText joins the text deltas of chunks.
func SSEText(chunks []Chunk) string {
	var b strings.Builder
	for _, c := range chunks {
		if c.Type() == "text-delta" {
			d, _ := c["delta"].(string)
			b.WriteString(d)
		}
	}
	return b.String()
}
