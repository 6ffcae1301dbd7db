package bench

// Shared plumbing of the end-to-end benchmarks (e2e_*_test.go): an in-process chatwire
// server on loopback, gorilla/websocket clients, latency percentiles, the Redis store of the
// REDIS_URL variants and the smoke-run scaling. README.md ("End to end") says what each
// benchmark measures and how to run them.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
)

// e2eTimeout bounds every wait of the end-to-end benchmarks (a dial, a reply, a fan-out, a
// server exiting), so that a bug makes a benchmark fail instead of hang.
const e2eTimeout = 30 * time.Second

// pingFrame is the server's heartbeat text frame; clients ignore it.
var pingFrame = []byte(`{"type":"ping"}`)

// startServer serves a hub configured by opts through the net/http adapter on a new
// loopback listener and returns the hub and the ws:// URL of the chat endpoint. Cleanup
// shuts the hub down (closing every connection still open) and then the HTTP server.
func startServer(tb testing.TB, opts core.Options) (*core.Hub, string) {
	tb.Helper()
	hub := core.NewHub(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: e2eTimeout}
	done := make(chan struct{})
	go func() { // owned by the cleanup below, which closes the server and waits for done
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			tb.Errorf("hub shutdown: %v", err)
		}
		_ = srv.Close()
		<-done
	})
	return hub, "ws://" + ln.Addr().String() + "/chat"
}

// withSession returns url with the sessionId query parameter set.
func withSession(url, sessionID string) string {
	return url + "?sessionId=" + sessionID
}

var dialer = websocket.Dialer{HandshakeTimeout: e2eTimeout, ReadBufferSize: 16 << 10, WriteBufferSize: 4 << 10}

// dial opens one client connection; cleanup closes it.
func dial(tb testing.TB, url string) *websocket.Conn {
	tb.Helper()
	c, err := dialOnce(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { closeAbrupt(c) })
	return c
}

func dialOnce(url string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	c, resp, err := dialer.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	// The first frame of every connection is the welcome (PROTOCOL.md): read it here so
	// that measurements start with the connection's first answer.
	_ = c.SetReadDeadline(time.Now().Add(e2eTimeout))
	_, first, err := c.ReadMessage()
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("dial %s: read the welcome: %w", url, err)
	}
	var m core.Message
	if err := envelope.Decode(first, &m); err != nil || m.Type != core.TypeSystem {
		_ = c.Close()
		return nil, fmt.Errorf("dial %s: first frame %q is not the welcome", url, first)
	}
	return c, nil
}

// dialMany opens n client connections, the i-th to urlFor(i), at most par handshakes at a
// time (the listen backlog is finite: a burst of thousands of SYNs would be dropped and
// retried a second later). Cleanup closes them.
func dialMany(tb testing.TB, urlFor func(i int) string, n, par int) []*websocket.Conn {
	tb.Helper()
	conns := make([]*websocket.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() { // owned: waited for below
			defer wg.Done()
			defer func() { <-sem }()
			conns[i], errs[i] = dialOnce(urlFor(i))
		}()
	}
	wg.Wait()
	tb.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				closeAbrupt(c)
			}
		}
	})
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		tb.Fatalf("dialing %d connections: %d failed, the first with: %v", n, failed, first)
	}
	return conns
}

// closeAbrupt closes c without the closing handshake and without leaving the socket in
// TIME_WAIT (SO_LINGER 0): benchmarks open thousands of connections on a machine whose
// ephemeral ports other processes share. The server sees a reset, which ends the
// connection as a vanished peer does.
func closeAbrupt(c *websocket.Conn) {
	if tc, ok := c.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// readFrame reads the next data frame into buf (grown as needed, reused across calls) and
// returns it, skipping heartbeat frames. Control frames (pings) are answered by gorilla
// while it reads.
func readFrame(c *websocket.Conn, buf *[]byte) ([]byte, error) {
	for {
		_, r, err := c.NextReader()
		if err != nil {
			return nil, err
		}
		b := (*buf)[:0]
		for {
			if len(b) == cap(b) {
				b = slices.Grow(b, max(4096, cap(b)))
			}
			n, err := r.Read(b[len(b):cap(b)])
			b = b[:len(b)+n]
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		*buf = b
		if !bytes.Equal(b, pingFrame) {
			return b, nil
		}
	}
}

// userFrame encodes a client message with the given content.
func userFrame(content string) []byte {
	return envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: content})
}

// latencies records one duration per operation and reports percentiles.
type latencies []time.Duration

// report adds p50-µs and p99-µs (nearest rank) to the benchmark's metrics.
func (l latencies) report(b *testing.B, prefix string) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	b.ReportMetric(micros(percentile(s, 50)), prefix+"p50-µs")
	b.ReportMetric(micros(percentile(s, 99)), prefix+"p99-µs")
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n), 1-based
	return sorted[max(rank, 1)-1]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// storeKind names the Store variants: the in-process memory store, and Redis (REDIS_URL).
type storeKind string

const (
	storeMemory storeKind = "memory"
	storeRedis  storeKind = "redis"
)

var storeKinds = []storeKind{storeMemory, storeRedis}

// newStore returns a store of the given kind. The Redis variant skips the benchmark when
// REDIS_URL is not set; its keys live under a fresh prefix, deleted at cleanup, so runs
// never see each other's sessions.
func newStore(b *testing.B, kind storeKind) core.Store {
	b.Helper()
	if kind == storeMemory {
		return core.NewMemoryStore(core.MemoryStoreOptions{})
	}
	url := os.Getenv("REDIS_URL")
	if url == "" {
		b.Skip("REDIS_URL is not set: set it (e.g. REDIS_URL=redis://127.0.0.1:6379/0) to run the Redis variant")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		b.Fatalf("REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		b.Fatalf("REDIS_URL=%s: %v", url, err)
	}
	prefix := "chatwire-bench:" + core.NewID() + ":"
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		_ = client.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { // registered before the server's cleanup, so it runs after it
		if err := s.Close(); err != nil {
			b.Errorf("redis store close: %v", err)
		}
		deleteKeys(b, client, prefix)
		_ = client.Close()
	})
	return s
}

// deleteKeys removes every key starting with prefix (made by newStore, never user input).
func deleteKeys(b *testing.B, client *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		b.Logf("listing keys %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := client.Del(ctx, keys[:n]...).Err(); err != nil {
			b.Logf("deleting keys %s*: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

// envInt returns the integer environment variable name, or def when it is unset.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// firstErr keeps the first error reported by any of a benchmark's goroutines.
type firstErr struct {
	once sync.Once
	err  error
	ch   chan struct{} // closed when err is set
}

func newFirstErr() *firstErr { return &firstErr{ch: make(chan struct{})} }

func (f *firstErr) set(err error) {
	f.once.Do(func() {
		f.err = err
		close(f.ch)
	})
}
