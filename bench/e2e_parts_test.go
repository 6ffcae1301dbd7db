package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/parts"
)

// The parts benchmarks stream replies whose deltas are spread over three parts at once, as
// a thinking model with tools produces them: delta i goes to the reasoning (i%3 == 0), to
// a tool call's input (1) or to the text (2).

// partsStream writes one reply of k deltas mixed over parts, then ends every part. When
// hold is not nil it waits for it (or the stream's cancellation) before closing.
func partsStream(ctx context.Context, w *core.ReplyWriter, k int, ready chan<- struct{}, hold <-chan struct{}) error {
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	r, err := s.StartReasoning(ctx)
	if err != nil {
		return err
	}
	tc, err := s.StartToolCall(ctx, core.ToolCallInfo{Name: "search"})
	if err != nil {
		return err
	}
	t, err := s.StartText(ctx)
	if err != nil {
		return err
	}
	for i := range k {
		switch i % 3 {
		case 0:
			err = r.Delta(ctx, deltaText)
		case 1:
			err = tc.InputDelta(ctx, deltaText)
		default:
			err = t.Delta(ctx, deltaText)
		}
		if err != nil {
			return err
		}
	}
	if ready != nil {
		close(ready)
		select {
		case <-hold:
		case <-s.Context().Done():
		}
	}
	if err := r.End(ctx); err != nil {
		return err
	}
	if err := tc.Input(ctx, json.RawMessage(`{"q":"x"}`)); err != nil {
		return err
	}
	if err := tc.Output(ctx, json.RawMessage(`{"hits":3}`)); err != nil {
		return err
	}
	if err := t.End(ctx); err != nil {
		return err
	}
	return s.Close(ctx)
}

// partsHandler answers "parts N" with N deltas mixed over parts, as consecutive streams of
// at most deltasPerStream deltas each.
var partsHandler = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	n, err := strconv.Atoi(strings.TrimPrefix(req.Message.Content, "parts "))
	if err != nil {
		return err
	}
	for n > 0 {
		k := min(n, deltasPerStream)
		if err := partsStream(ctx, w, k, nil, nil); err != nil {
			return err
		}
		n -= k
	}
	return nil
})

// partsWatcher assembles the parts of every stream it receives, as a client does.
type partsWatcher struct {
	frames int64
	ends   int
	asm    map[string]*parts.Builder
	bad    []string
}

func (w *partsWatcher) read(c *websocket.Conn, streams int) error {
	buf := make([]byte, 0, 16<<10)
	var m core.Message
	var md struct {
		Stream struct {
			ID     string        `json:"id"`
			Resume bool          `json:"resume"`
			Chunks []parts.Chunk `json:"chunks"`
		} `json:"stream"`
	}
	for w.ends < streams {
		_ = c.SetReadDeadline(time.Now().Add(e2eTimeout))
		f, err := readFrame(c, &buf)
		if err != nil {
			return err
		}
		if err := envelope.Decode(f, &m); err != nil {
			return fmt.Errorf("decode %q: %w", f, err)
		}
		switch {
		case m.Type == core.TypeTyping && len(m.Metadata) > 0:
			md.Stream.Chunks = md.Stream.Chunks[:0]
			md.Stream.Resume = false
			if err := json.Unmarshal(m.Metadata, &md); err != nil || md.Stream.ID == "" {
				continue
			}
			b := w.asm[md.Stream.ID]
			if b == nil || md.Stream.Resume {
				b = &parts.Builder{}
				w.asm[md.Stream.ID] = b
			}
			for i := range md.Stream.Chunks {
				b.Apply(&md.Stream.Chunks[i])
			}
			w.frames++
		case m.Type == core.TypeMessage && m.Role == core.RoleAssistant:
			if b := w.asm[m.ID]; (b == nil || b.Text() != m.Content) && len(w.bad) < 3 {
				w.bad = append(w.bad, fmt.Sprintf("stream %s: assembled text differs from the final message", m.ID))
			}
			delete(w.asm, m.ID)
			w.ends++
		}
	}
	return nil
}

// BenchmarkPartsStream100Watchers measures streaming parts to 100 watchers: a handler
// streams deltas mixed over reasoning, a tool call's input and text (6 bytes each, as fast
// as the hub takes them, in replies of 1,000 deltas) to a session with 100 connections,
// each of which decodes every frame and folds its chunks into parts with a
// parts.Builder. One operation is one delta produced; the run ends when every
// connection has the last reply's final message, whose text each checks against the
// parts it assembled. Deltas queued for a connection that is behind merge per part. It
// reports deltas/s, frames/s (received, summed over the 100) and frames/delta.
func BenchmarkPartsStream100Watchers(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run("store="+string(kind), func(b *testing.B) {
			store := newStore(b, kind)
			_, url := startServer(b, core.Options{Store: store, Handler: partsHandler})
			url = withSession(url, core.NewID())
			conns := dialMany(b, func(int) string { return url }, streamWatchers, 16)
			run := func(deltas int) ([]*partsWatcher, error) {
				streams := (deltas + deltasPerStream - 1) / deltasPerStream
				ws := make([]*partsWatcher, len(conns))
				errs := make([]error, len(conns))
				var wg sync.WaitGroup
				for i, c := range conns {
					ws[i] = &partsWatcher{asm: map[string]*parts.Builder{}}
					wg.Add(1)
					go func() { // owned: waited for below
						defer wg.Done()
						errs[i] = ws[i].read(c, streams)
					}()
				}
				_ = conns[0].SetWriteDeadline(time.Now().Add(e2eTimeout))
				if err := conns[0].WriteMessage(websocket.TextMessage, userFrame("parts "+strconv.Itoa(deltas))); err != nil {
					for _, c := range conns {
						closeAbrupt(c)
					}
					wg.Wait()
					return nil, err
				}
				wg.Wait()
				return ws, errors.Join(errs...)
			}
			if _, err := run(deltasPerStream); err != nil { // warm up
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			ws, err := run(b.N)
			el := time.Since(start).Seconds()
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			var frames int64
			for _, w := range ws {
				frames += w.frames
				for _, bad := range w.bad {
					b.Error(bad)
				}
			}
			b.ReportMetric(float64(b.N)/el, "deltas/s")
			b.ReportMetric(float64(frames)/el, "frames/s")
			b.ReportMetric(float64(frames)/float64(b.N)/float64(len(ws)), "frames/delta")
		})
	}
}

// startPartsServer serves hub on net/http with the WebSocket endpoint at /chat and the AI
// SDK endpoint at /api/chat; it returns the ws:// and http:// base URLs.
func startPartsServer(b *testing.B, opts core.Options) (wsURL, httpURL string) {
	b.Helper()
	hub := core.NewHub(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ep := aisdk.New(hub, aisdk.Options{})
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/api/chat", ep)
	mux.Handle("/api/chat/", ep)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: e2eTimeout}
	done := make(chan struct{})
	go func() { // owned by the cleanup below, which closes the server and waits for done
		defer close(done)
		_ = srv.Serve(ln)
	}()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			b.Errorf("hub shutdown: %v", err)
		}
		_ = srv.Close()
		<-done
	})
	addr := ln.Addr().String()
	return "ws://" + addr + "/chat", "http://" + addr + "/api/chat"
}

// BenchmarkPartsResume10000Deltas measures resuming a running reply of 10,000 deltas mixed
// over reasoning, a tool call's input and text (20 KB of text per part), which is still
// running: one operation is a client arriving (a WebSocket dial with the session id, or
// the AI SDK's GET /api/chat/{id}/stream) until its first resumed chunk: on the WebSocket
// the compacted resume frame with every part, over SSE the first chunk after start (the
// parts follow at once, compacted: it reports the chunks of the catch-up too). It reports
// p50-µs and p99-µs, and the bytes of the resume frame or of the SSE catch-up (catchup-B).
func BenchmarkPartsResume10000Deltas(b *testing.B) {
	for _, transport := range []string{"ws", "sse"} {
		for _, kind := range storeKinds {
			b.Run("transport="+transport+"/store="+string(kind), func(b *testing.B) {
				store := newStore(b, kind)
				ready := make(chan struct{})
				release := make(chan struct{})
				holder := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
					return partsStream(ctx, w, resumeDeltas, ready, release)
				})
				wsURL, httpURL := startPartsServer(b, core.Options{Store: store, Handler: holder})
				sid := core.NewID()
				b.Cleanup(func() { close(release) }) // runs before the hub's shutdown
				producer := dial(b, withSession(wsURL, sid))
				drained := make(chan struct{})
				go func() { // owned by the cleanup below, which closes the connection and waits
					defer close(drained)
					buf := make([]byte, 0, 16<<10)
					for {
						if _, err := readFrame(producer, &buf); err != nil {
							return
						}
					}
				}()
				b.Cleanup(func() { closeAbrupt(producer); <-drained })
				if err := producer.WriteMessage(websocket.TextMessage, userFrame("hold")); err != nil {
					b.Fatal(err)
				}
				select {
				case <-ready:
				case <-time.After(2 * e2eTimeout):
					b.Fatal("the reply of 10,000 deltas did not start in time")
				}
				resume := resumeWS(withSession(wsURL, sid))
				if transport == "sse" {
					resume = resumeSSE(httpURL + "/" + sid + "/stream")
				}
				for i := range 10 { // warm up; the first one checks what arrives
					if _, _, err := resume(i == 0); err != nil {
						b.Fatal(err)
					}
				}
				lat := make(latencies, 0, b.N)
				size := 0
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					d, n, err := resume(false)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, d)
					size = n
				}
				b.StopTimer()
				lat.report(b, "")
				b.ReportMetric(float64(size), "catchup-B")
			})
		}
	}
}

// wantPartText is each part's text after resumeDeltas deltas spread over three parts.
var wantPartText = resumeDeltas / 3 * len(deltaText)

// checkCatchUp verifies that chunks rebuild the three parts of the held reply.
func checkCatchUp(chunks []parts.Chunk) error {
	var b parts.Builder
	for i := range chunks {
		b.Apply(&chunks[i])
	}
	ps := b.Parts()
	if len(ps) != 3 || len(ps[0].Text) < wantPartText || len(ps[1].InputText) < wantPartText || len(ps[2].Text) < wantPartText {
		return fmt.Errorf("catch-up of %d chunks does not rebuild the parts: %d parts", len(chunks), len(ps))
	}
	if len(chunks) > 6 {
		return fmt.Errorf("catch-up of %d chunks for 3 parts: not compacted", len(chunks))
	}
	return nil
}

// resumeWS returns a resume operation over the WebSocket: dial, then read up to the resume
// frame (a welcome frame may come first).
func resumeWS(url string) func(check bool) (time.Duration, int, error) {
	buf := make([]byte, 0, 256<<10)
	return func(check bool) (time.Duration, int, error) {
		t := time.Now()
		c, err := dialOnce(url)
		if err != nil {
			return 0, 0, err
		}
		defer closeAbrupt(c)
		for {
			_ = c.SetReadDeadline(time.Now().Add(e2eTimeout))
			f, err := readFrame(c, &buf)
			if err != nil {
				return 0, 0, err
			}
			if !strings.Contains(string(f[:min(len(f), 200)]), ":resume\"") {
				continue
			}
			d := time.Since(t)
			if check {
				var m core.Message
				if err := envelope.Decode(f, &m); err != nil {
					return 0, 0, err
				}
				var md struct {
					Stream struct {
						Chunks []parts.Chunk `json:"chunks"`
					} `json:"stream"`
				}
				if err := json.Unmarshal(m.Metadata, &md); err != nil {
					return 0, 0, err
				}
				if err := checkCatchUp(md.Stream.Chunks); err != nil {
					return 0, 0, err
				}
			}
			return d, len(f), nil
		}
	}
}

// resumeSSE returns a resume operation over the AI SDK endpoint: GET, then read up to the
// first chunk after start; the catch-up (the chunks up to the text part's delta) is read
// and measured too.
func resumeSSE(url string) func(check bool) (time.Duration, int, error) {
	client := &http.Client{Timeout: e2eTimeout}
	return func(check bool) (time.Duration, int, error) {
		t := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("resume: status %d", resp.StatusCode)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var first time.Duration
		var chunks []parts.Chunk
		size := 0
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var c parts.Chunk
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				return 0, 0, err
			}
			if c.Type == parts.ChunkStart {
				continue
			}
			if first == 0 {
				first = time.Since(t)
			}
			size += len(data)
			chunks = append(chunks, c)
			if c.Type == parts.ChunkTextDelta { // the last part's text: the catch-up is complete
				if check {
					if err := checkCatchUp(chunks); err != nil {
						return 0, 0, err
					}
				}
				return first, size, nil
			}
		}
		return 0, 0, fmt.Errorf("resume stream ended early: %v", sc.Err())
	}
}
