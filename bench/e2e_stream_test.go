package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gorilla/websocket"
)

// deltaText is the text of every delta the streaming benchmarks produce: about one token
// of an LLM's output.
const deltaText = "token "

// Shape of BenchmarkStreamDeltas100Watchers.
const (
	streamWatchers  = 100
	deltasPerStream = 1000 // b.N deltas are produced as ceil(b.N/1000) streams
)

// streamHandler answers "stream N" with N deltas of deltaText, as consecutive streams of at
// most deltasPerStream deltas each, produced as fast as the hub takes them.
var streamHandler = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	n, err := strconv.Atoi(strings.TrimPrefix(req.Message.Content, "stream "))
	if err != nil {
		return err
	}
	for n > 0 {
		k := min(n, deltasPerStream)
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		for range k {
			if err := s.Delta(ctx, deltaText); err != nil {
				return err
			}
		}
		if err := s.Close(ctx); err != nil {
			return err
		}
		n -= k
	}
	return nil
})

// watcher reads one connection's frames during BenchmarkStreamDeltas100Watchers and keeps
// count of the stream frames it received.
type watcher struct {
	frames int64          // delta frames (typing envelopes of a stream), resume frames included
	bytes  int64          // delta text received: the growth of each stream's text
	ends   int            // stream end messages received
	text   map[string]int // length of each running stream's text so far
	bad    []string       // inconsistencies: an end message whose text differs from the deltas
}

// read consumes frames until it has seen the end of streams streams.
func (w *watcher) read(c *websocket.Conn, streams int) error {
	buf := make([]byte, 0, 16<<10)
	var m core.Message
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
		case m.Type == core.TypeTyping: // a delta: "<stream>:<seq>" or "<stream>:<seq>:resume"
			id, rest, ok := strings.Cut(m.ID, ":")
			if !ok {
				continue
			}
			w.frames++
			if strings.HasSuffix(rest, ":resume") { // the whole text so far
				w.bytes += int64(len(m.Content) - w.text[id])
				w.text[id] = len(m.Content)
			} else {
				w.bytes += int64(len(m.Content))
				w.text[id] += len(m.Content)
			}
		case m.Type == core.TypeMessage && m.Role == core.RoleAssistant: // a stream's end
			if got := w.text[m.ID]; got != len(m.Content) && len(w.bad) < 3 {
				w.bad = append(w.bad, fmt.Sprintf("stream %s: deltas carried %d bytes, the final message %d", m.ID, got, len(m.Content)))
			}
			delete(w.text, m.ID)
			w.ends++
		}
	}
	return nil
}

// BenchmarkStreamDeltas100Watchers measures streaming fan-out: a handler streams deltas
// ("token ", 6 bytes, as fast as the hub takes them, in streams of 1,000 deltas) to a
// session with 100 connections, which all read and decode every frame. One operation is one
// delta produced; the run ends when every connection has received the end of the last
// stream. Deltas queued for a connection that is behind are merged into one frame, so it
// reports deltas/s (produced, and delivered to all 100), delta-B/s (delta text received,
// summed over the 100 connections), frames/s (delta frames received, summed) and
// frames/delta (frames per delta per connection: 1 without merging, lower when readers
// fall behind). Every connection checks that its deltas add up to each final message.
func BenchmarkStreamDeltas100Watchers(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run("store="+string(kind), func(b *testing.B) {
			store := newStore(b, kind)
			_, url := startServer(b, core.Options{Store: store, Handler: streamHandler})
			url = withSession(url, core.NewID())
			conns := dialMany(b, func(int) string { return url }, streamWatchers, 16)

			run := func(deltas int) ([]*watcher, error) {
				streams := (deltas + deltasPerStream - 1) / deltasPerStream
				ws := make([]*watcher, len(conns))
				errs := make([]error, len(conns))
				var wg sync.WaitGroup
				for i, c := range conns {
					ws[i] = &watcher{text: make(map[string]int)}
					wg.Add(1)
					go func() { // owned: waited for below
						defer wg.Done()
						errs[i] = ws[i].read(c, streams)
					}()
				}
				_ = conns[0].SetWriteDeadline(time.Now().Add(e2eTimeout))
				if err := conns[0].WriteMessage(websocket.TextMessage, userFrame("stream "+strconv.Itoa(deltas))); err != nil {
					for _, c := range conns {
						closeAbrupt(c) // ends the readers
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
			var frames, text int64
			for _, w := range ws {
				frames += w.frames
				text += w.bytes
				for _, bad := range w.bad {
					b.Error(bad)
				}
			}
			if want := int64(b.N) * int64(len(deltaText)) * int64(len(ws)); text != want {
				b.Errorf("the connections received %d bytes of delta text, want %d", text, want)
			}
			b.ReportMetric(float64(b.N)/el, "deltas/s")
			b.ReportMetric(float64(text)/el, "delta-B/s")
			b.ReportMetric(float64(frames)/el, "frames/s")
			b.ReportMetric(float64(frames)/float64(b.N)/float64(len(ws)), "frames/delta")
		})
	}
}

// resumeDeltas is the length of the running stream BenchmarkResume10000Deltas resumes.
const resumeDeltas = 10000

// BenchmarkResume10000Deltas measures resuming a running stream: a handler has streamed
// 10,000 deltas (60 KB of text) and is still running; a new connection joins the session and
// the operation ends when its first frame, the compacted resume frame with all 60 KB, has
// been read. One operation is dial (TCP connect and WebSocket upgrade, during which the hub
// joins the session and reads the stream's state from the store) plus that first frame; the
// connection is then closed. It reports p50-µs and p99-µs of the whole, and of the handshake
// alone (dial-p50-µs, dial-p99-µs), and the size of the resume frame (frame-B).
// store=memory is the in-process store; store=redis (REDIS_URL) reads the stream's text
// from Redis.
func BenchmarkResume10000Deltas(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run("store="+string(kind), func(b *testing.B) {
			store := newStore(b, kind)
			ready := make(chan struct{})
			release := make(chan struct{})
			holder := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				s, err := w.Stream(ctx)
				if err != nil {
					return err
				}
				for range resumeDeltas {
					if err := s.Delta(ctx, deltaText); err != nil {
						return err
					}
				}
				close(ready)
				select { // keep the stream running until the benchmark is done
				case <-release:
				case <-s.Context().Done():
				}
				return s.Close(ctx)
			})
			_, url := startServer(b, core.Options{Store: store, Handler: holder})
			url = withSession(url, core.NewID())
			b.Cleanup(func() { close(release) }) // runs before the hub's shutdown

			// The producer's connection reads (and drops) the deltas, as a client would.
			producer := dial(b, url)
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
				b.Fatal("the stream of 10,000 deltas did not start in time")
			}

			wantText := resumeDeltas * len(deltaText)
			resumeMarker := []byte(`"resume":true`)
			buf := make([]byte, 0, 128<<10)
			var dialLat latencies
			resume := func(check bool) (dialed, total time.Duration, size int, err error) {
				t := time.Now()
				c, err := dialOnce(url)
				if err != nil {
					return 0, 0, 0, err
				}
				defer closeAbrupt(c)
				dialed = time.Since(t)
				_ = c.SetReadDeadline(time.Now().Add(e2eTimeout))
				f, err := readFrame(c, &buf)
				total = time.Since(t)
				if err != nil {
					return 0, 0, 0, err
				}
				if len(f) < wantText || !bytes.Contains(f, resumeMarker) {
					return 0, 0, 0, fmt.Errorf("the first frame is not the resume frame: %.200q", f)
				}
				if check {
					var m core.Message
					if err := envelope.Decode(f, &m); err != nil {
						return 0, 0, 0, err
					}
					if m.Type != core.TypeTyping || !strings.HasSuffix(m.ID, ":resume") || len(m.Content) != wantText {
						return 0, 0, 0, fmt.Errorf("resume frame: type %s, id %s, %d bytes of text, want typing, *:resume, %d bytes", m.Type, m.ID, len(m.Content), wantText)
					}
				}
				return dialed, total, len(f), nil
			}
			for i := range 20 { // warm up; the first one checks the frame thoroughly
				if _, _, _, err := resume(i == 0); err != nil {
					b.Fatal(err)
				}
			}
			lat := make(latencies, 0, b.N)
			dialLat = make(latencies, 0, b.N)
			size := 0
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				d, t, n, err := resume(false)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, t)
				dialLat = append(dialLat, d)
				size = n
			}
			b.StopTimer()
			lat.report(b, "")
			dialLat.report(b, "dial-")
			b.ReportMetric(float64(size), "frame-B")
		})
	}
}
