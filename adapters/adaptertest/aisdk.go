package adaptertest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// SSEMount serves hub's AI SDK endpoint (package aisdk, configured by opts) through the
// adapter under test, at a path and below, on a new loopback server, and returns the
// endpoint's http:// URL (its POST path; resume is URL + "/{id}/stream", stop URL +
// "/{id}/stop"). It registers the server's shutdown with t.Cleanup.
type SSEMount func(t *testing.T, hub *core.Hub, opts aisdk.Options) (url string)

// RunAISDK runs the AI SDK endpoint cases against mount: the useChat POST streaming every
// part, the refusals, resume and stop.
func RunAISDK(t *testing.T, mount SSEMount) {
	for _, tc := range sseCases() {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, mount) })
	}
}

type sseCase struct {
	name string
	run  func(t *testing.T, mount SSEMount)
}

// chatBody is useChat's POST body for one new user message after some history (which the
// endpoint must ignore).
func chatBody(chat, msgID, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id": chat, "trigger": "submit-message",
		"messages": []any{
			map[string]any{"id": "old", "role": "user", "parts": []any{map[string]any{"type": "text", "text": "earlier"}}},
			map[string]any{"id": msgID, "role": "user", "parts": []any{map[string]any{"type": "text", "text": text}}},
		},
	})
	return string(b)
}

func postJSON(t *testing.T, url, ctype, origin, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

// sseStream reads the chunks of a UI message stream.
type sseStream struct {
	t    *testing.T
	sc   *bufio.Scanner
	body io.Closer
	done bool
	raw  []string
}

func openSSE(t *testing.T, resp *http.Response) *sseStream {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Vercel-Ai-Ui-Message-Stream": "v1", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != v {
			t.Fatalf("header %s = %q, want %q", k, got, v)
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return &sseStream{t: t, sc: sc, body: resp.Body}
}

func (s *sseStream) next() (parts.Chunk, bool) {
	for !s.done && s.sc.Scan() {
		data, ok := strings.CutPrefix(s.sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			s.done = true
			break
		}
		s.raw = append(s.raw, data)
		var c parts.Chunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			s.t.Fatalf("undecodable chunk %q: %v", data, err)
		}
		return c, true
	}
	return parts.Chunk{}, false
}

// until reads chunks until a text delta ends with suffix.
func (s *sseStream) until(suffix string) []parts.Chunk {
	s.t.Helper()
	var out []parts.Chunk
	for {
		c, ok := s.next()
		if !ok {
			s.t.Fatalf("stream ended before %q: %v", suffix, s.raw)
		}
		out = append(out, c)
		if c.Type == parts.ChunkTextDelta && strings.HasSuffix(c.Delta, suffix) {
			return out
		}
	}
}

func (s *sseStream) rest() []parts.Chunk {
	var out []parts.Chunk
	for {
		c, ok := s.next()
		if !ok {
			if !s.done {
				s.t.Fatalf("stream ended without [DONE]: %v", s.raw)
			}
			return out
		}
		out = append(out, c)
	}
}

// foldSSE checks the framing (start first with a message id, finish last) and assembles
// the parts.
func foldSSE(t *testing.T, chunks []parts.Chunk) (string, *parts.Builder) {
	t.Helper()
	if len(chunks) < 2 || chunks[0].Type != parts.ChunkStart || chunks[0].MessageID == "" || chunks[len(chunks)-1].Type != parts.ChunkFinish {
		t.Fatalf("stream not framed by start (with a message id) and finish: %+v", chunks)
	}
	b := &parts.Builder{}
	for i := range chunks {
		b.Apply(&chunks[i])
	}
	return chunks[0].MessageID, b
}

// lastStored returns the newest message of a session.
func lastStored(t *testing.T, s core.Store, chat string) core.Message {
	t.Helper()
	var last core.Message
	eventually(t, "the reply is stored", func() bool {
		page, err := s.Read(t.Context(), chat, 0)
		if err != nil || len(page.Records) == 0 {
			return false
		}
		last = page.Records[len(page.Records)-1].Message
		return last.Role == core.RoleAssistant
	})
	return last
}

// storedView decodes a final message as partsView does.
func storedView(t *testing.T, m core.Message, assembled *parts.Builder) *partsView {
	t.Helper()
	v := &partsView{t: t, parts: assembled}
	if !v.apply(m) {
		t.Fatalf("not a final stream message: %+v", m)
	}
	return v
}

func sseCases() []sseCase {
	return []sseCase{
		{"SSEEveryPart", func(t *testing.T, mount SSEMount) {
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			url := mount(t, newHub(t, core.Options{Handler: &partsBot{}, Store: store}), aisdk.Options{})
			s := openSSE(t, postJSON(t, url, "application/json", "", chatBody("sse-1", "u1", "world")))
			id, b := foldSSE(t, s.rest())
			for _, raw := range s.raw {
				if strings.Contains(raw, "earlier") || strings.Contains(raw, "finishReason") {
					t.Fatalf("chunk %s", raw)
				}
			}
			final := lastStored(t, store, "sse-1")
			if final.ID != id {
				t.Fatalf("start message id %q, stored %q", id, final.ID)
			}
			storedView(t, final, b).checkAssembled("Hello, world")
		}},
		{"SSERefusals", func(t *testing.T, mount SSEMount) {
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			url := mount(t, newHub(t, core.Options{Handler: &partsBot{}, Store: store}), aisdk.Options{MaxBodySize: 4096})
			for _, tc := range []struct {
				name, ctype, origin, body string
				want                      int
			}{
				{"text/plain", "text/plain", "", chatBody("sse-r", "u1", "x"), http.StatusUnsupportedMediaType},
				{"form", "application/x-www-form-urlencoded", "", chatBody("sse-r", "u1", "x"), http.StatusUnsupportedMediaType},
				{"cross-site", "application/json", "https://evil.example", chatBody("sse-r", "u1", "x"), http.StatusForbidden},
				{"too large", "application/json", "", chatBody("sse-r", "u1", strings.Repeat("x", 5000)), http.StatusRequestEntityTooLarge},
				{"malformed", "application/json", "", `{"id":"sse-r",`, http.StatusBadRequest},
				{"last not from user", "application/json", "", `{"id":"sse-r","trigger":"submit-message","messages":[{"id":"a","role":"assistant","parts":[]}]}`, http.StatusBadRequest},
				{"unknown trigger", "application/json", "", `{"id":"sse-r","trigger":"x","messages":[{"id":"u","role":"user","parts":[]}]}`, http.StatusBadRequest},
			} {
				resp := postJSON(t, url, tc.ctype, tc.origin, tc.body)
				var e struct{ Error struct{ Code string } }
				err := json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				if resp.StatusCode != tc.want || err != nil || e.Error.Code == "" {
					t.Fatalf("%s: status %d (want %d), error body %v %+v", tc.name, resp.StatusCode, tc.want, err, e)
				}
			}
			page, err := store.Read(t.Context(), "sse-r", 0)
			if err != nil || len(page.Records) != 0 {
				t.Fatalf("refused requests stored %d messages (%v)", len(page.Records), err)
			}
		}},
		{"SSEResumeThenStop", func(t *testing.T, mount SSEMount) {
			store := core.NewMemoryStore(core.MemoryStoreOptions{})
			bot := &partsBot{gate: make(chan struct{}), deltas: 20}
			defer close(bot.gate)
			url := mount(t, newHub(t, core.Options{Handler: bot, Store: store}), aisdk.Options{})
			resp, err := http.Get(url + "/sse-x/stream")
			if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("resume with nothing running: %v %v", err, resp)
			}
			resp.Body.Close()
			s := openSSE(t, postJSON(t, url, "application/json", "", chatBody("sse-x", "u1", "world")))
			id := s.until("Hello")[0].MessageID
			_ = s.body.Close() // a reload: the reply goes on
			resp, err = http.Get(url + "/sse-x/stream")
			if err != nil {
				t.Fatal(err)
			}
			r := openSSE(t, resp)
			head := r.until("Hello")
			if head[0].Type != parts.ChunkStart || head[0].MessageID != id {
				t.Fatalf("resumed start %+v, want message id %q", head[0], id)
			}
			reasoning := 0
			for _, c := range head {
				if c.Type == parts.ChunkReasoningDelta {
					reasoning++
				}
			}
			if reasoning != 1 {
				t.Fatalf("resume sent %d reasoning deltas, want 1 (compacted)", reasoning)
			}
			stop := postJSON(t, url+"/sse-x/stop", "application/json", "", `{}`)
			stop.Body.Close()
			if stop.StatusCode != http.StatusOK {
				t.Fatalf("stop: %d", stop.StatusCode)
			}
			rest := r.rest()
			if len(rest) < 2 || rest[len(rest)-2].Type != parts.ChunkAbort {
				t.Fatalf("stopped stream ended with %v", r.raw)
			}
			final := lastStored(t, store, "sse-x")
			if final.ID != id || !strings.Contains(string(final.Metadata), `"state":"cancelled"`) {
				t.Fatalf("stopped reply stored as %+v", final)
			}
		}},
	}
}
