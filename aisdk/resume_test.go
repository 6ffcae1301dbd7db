package aisdk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/redisstore"
)

// sharedStores returns, per backend, a function making two stores that share one session
// space, as two instances sharing a Redis do: the memory store (one store for both), Redis
// through miniredis, and the real Redis at REDIS_URL when it is set.
func sharedStores() map[string]func(t *testing.T) (a, b core.Store) {
	out := map[string]func(t *testing.T) (a, b core.Store){
		"memory": func(t *testing.T) (core.Store, core.Store) {
			s := core.NewMemoryStore(core.MemoryStoreOptions{})
			return s, s
		},
		"miniredis": func(t *testing.T) (core.Store, core.Store) {
			mr := miniredis.RunT(t)
			return redisStore(t, mr.Addr(), ""), redisStore(t, mr.Addr(), "")
		},
	}
	if url := os.Getenv("REDIS_URL"); url != "" {
		out["redis"] = func(t *testing.T) (core.Store, core.Store) {
			opt, err := redis.ParseURL(url)
			if err != nil {
				t.Fatalf("REDIS_URL: %v", err)
			}
			prefix := "aisdktest:" + core.NewID() + ":"
			return redisStore(t, opt.Addr, prefix), redisStore(t, opt.Addr, prefix)
		}
	}
	return out
}

func redisStore(t *testing.T, addr, prefix string) core.Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	s, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("redisstore: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		_ = c.Close()
	})
	return s
}

// readUntilText reads chunks until one carries text containing want; it returns them.
func readUntilText(t *testing.T, r *sseReader, want string) []parts.Chunk {
	t.Helper()
	var got []parts.Chunk
	for {
		c, ok := r.next()
		if !ok {
			t.Fatalf("stream ended before %q: %v", want, r.raw)
		}
		got = append(got, c)
		if c.Type == parts.ChunkTextDelta && strings.Contains(c.Delta, want) {
			return got
		}
	}
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp
}

func TestResumeOnOtherInstance(t *testing.T) {
	for name, mk := range sharedStores() {
		t.Run(name, func(t *testing.T) {
			sa, sb := mk(t)
			h := &partsHandler{gate: make(chan struct{})}
			a := newInstance(t, sa, h, aisdk.Options{}, nil)
			b := newInstance(t, sb, h, aisdk.Options{}, nil)
			if resp := get(t, b.srv.URL+"/api/chat/chat-x/stream"); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("resume with nothing running: %d", resp.StatusCode)
			} else {
				resp.Body.Close()
			}

			resp := post(t, a.srv.URL+"/api/chat", body("chat-x", "u1", "world"))
			r := newSSE(t, resp)
			first := readUntilText(t, r, "Hello")
			r.close() // the client goes away (useChat's stop() or a reload): the reply goes on
			msgID := first[0].MessageID

			resumed := get(t, b.srv.URL+"/api/chat/chat-x/stream")
			defer resumed.Body.Close()
			if resumed.StatusCode != http.StatusOK {
				t.Fatalf("resume status %d", resumed.StatusCode)
			}
			rr := newSSE(t, resumed)
			head := readUntilText(t, rr, "Hello")
			if head[0].Type != parts.ChunkStart || head[0].MessageID != msgID {
				t.Fatalf("resumed start %+v, want message id %q", head[0], msgID)
			}
			// Compacted: each part in as few chunks as the protocol allows.
			var reasoningDeltas, inputDeltas int
			for _, c := range head {
				switch c.Type {
				case parts.ChunkReasoningDelta:
					reasoningDeltas++
					if c.Delta != "The user greets me." {
						t.Fatalf("reasoning not compacted: %q", c.Delta)
					}
				case parts.ChunkToolInputDelta:
					inputDeltas++
				}
			}
			if reasoningDeltas != 1 || inputDeltas != 0 {
				t.Fatalf("resume sent %d reasoning deltas and %d tool input deltas, want 1 and 0: %v", reasoningDeltas, inputDeltas, rr.raw)
			}
			for _, raw := range rr.raw {
				if strings.Contains(raw, "transient!") {
					t.Fatalf("a transient data part was resumed: %s", raw)
				}
			}
			close(h.gate)
			all := append(head, rr.rest()...)
			if !rr.done {
				t.Fatalf("resumed stream did not end with [DONE]")
			}
			_, built, last := fold(t, all)
			if last != parts.ChunkFinish {
				t.Fatalf("last chunk %q", last)
			}
			hist := history(t, sb, "chat-x")
			final := hist[len(hist)-1]
			if final.ID != msgID {
				t.Fatalf("final message %q, want %q", final.ID, msgID)
			}
			if got, want := partsJSON(t, built.Parts()), partsJSON(t, storedParts(t, final)); got != want {
				t.Fatalf("resumed parts\n%s\nstored\n%s", got, want)
			}
			waitNoContent(t, b.srv.URL+"/api/chat/chat-x/stream")
		})
	}
}

// waitNoContent waits until a resume answers 204 (the store saw the stream end).
func waitNoContent(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := get(t, url)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNoContent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("resume still answers %d after the reply ended", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopOnOtherInstance(t *testing.T) {
	for name, mk := range sharedStores() {
		t.Run(name, func(t *testing.T) {
			sa, sb := mk(t)
			h := &partsHandler{gate: make(chan struct{})}
			defer close(h.gate)
			a := newInstance(t, sa, h, aisdk.Options{}, nil)
			b := newInstance(t, sb, h, aisdk.Options{}, nil)
			resp := post(t, a.srv.URL+"/api/chat", body("chat-s", "u1", "world"))
			defer resp.Body.Close()
			r := newSSE(t, resp)
			first := readUntilText(t, r, "Hello")

			stop := post(t, b.srv.URL+"/api/chat/chat-s/stop", `{}`)
			var out struct{ Stopped []string }
			_ = json.NewDecoder(stop.Body).Decode(&out)
			stop.Body.Close()
			if stop.StatusCode != http.StatusOK || len(out.Stopped) != 1 || out.Stopped[0] != first[0].MessageID {
				t.Fatalf("stop answered %d %+v", stop.StatusCode, out)
			}
			rest := r.rest()
			if !r.done || len(rest) < 2 || rest[len(rest)-2].Type != parts.ChunkAbort || rest[len(rest)-1].Type != parts.ChunkFinish {
				t.Fatalf("stopped stream ended with %v", r.raw)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for {
				hist := history(t, sa, "chat-s")
				if n := len(hist); n == 2 {
					if !strings.Contains(string(hist[1].Metadata), `"state":"cancelled"`) || hist[1].Content != "Hello" {
						t.Fatalf("stopped reply stored as %q %s", hist[1].Content, hist[1].Metadata)
					}
					break
				}
				if ctx.Err() != nil {
					t.Fatal("stopped reply not stored")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
