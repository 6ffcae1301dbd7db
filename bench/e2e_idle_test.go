package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The idle-connection memory benchmark. The target: at most 16 KB of server memory
// per idle connection (heap plus goroutine stacks, heartbeats on), measured with 10,000
// connections held by one 2-core machine.
//
// The server is cmd/idleserver, built by the benchmark and run as a separate process: its
// memory then holds nothing of the clients, and each side of 10,000 connections needs 10,000
// file descriptors of its own process (the limit is 20,000 per process here).
//
// Environment:
//
//	CHATWIRE_IDLE_CONNS    connections per run (default 10000; 1000 with -short)
//	CHATWIRE_IDLE_SETTLE   how long the connections stay idle before the measurement
//	                       (a duration, default 1s)
//	CHATWIRE_IDLE_PROFILE  a directory: also save the server's heap profile (recorded with
//	                       MemProfileRate 1) and goroutine dump there, for the breakdown
//	CHATWIRE_IDLE_VARIANTS the servers to measure instead of idleVariants, as
//	                       adapter:store[:readbuf],... (adapter wshttp-detached is the
//	                       prototype in cmd/idleserver/detached.go, not the library's)
//	CHATWIRE_IDLESERVER    a prebuilt idleserver binary to use instead of building one

// idleVariant is one server configuration: cmd/idleserver's -adapter, -store and -readbuf.
type idleVariant struct {
	adapter, store string
	readBuf        int // 0: the adapter's default
}

func (v idleVariant) name(conns int) string {
	s := "adapter=" + v.adapter + "/store=" + v.store
	if v.readBuf > 0 {
		s += "/readbuf=" + strconv.Itoa(v.readBuf)
	}
	return s + "/conns=" + strconv.Itoa(conns)
}

// idleVariants are the servers measured by default: each adapter with a stateless hub, and
// wshttp with every connection in its own session of a MemoryStore.
var idleVariants = []idleVariant{
	{adapter: "wshttp", store: "none"},
	{adapter: "wsecho", store: "none"},
	{adapter: "wsfiber", store: "none"},
	{adapter: "wshttp", store: "memory"},
}

// parseIdleVariants reads CHATWIRE_IDLE_VARIANTS: comma-separated adapter:store[:readbuf],
// e.g. "wsfiber:none:256,wshttp-detached:none".
func parseIdleVariants(tb testing.TB, s string) []idleVariant {
	var vs []idleVariant
	for _, item := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(item), ":")
		if len(f) < 2 || len(f) > 3 {
			tb.Fatalf("CHATWIRE_IDLE_VARIANTS: %q: want adapter:store[:readbuf]", item)
		}
		v := idleVariant{adapter: f[0], store: f[1]}
		if len(f) == 3 {
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 0 {
				tb.Fatalf("CHATWIRE_IDLE_VARIANTS: %q: bad read buffer size", item)
			}
			v.readBuf = n
		}
		vs = append(vs, v)
	}
	return vs
}

// idleStats is cmd/idleserver's Stats.
type idleStats struct {
	Conns       int    `json:"conns"`
	Goroutines  int    `json:"goroutines"`
	HeapLive    uint64 `json:"heapLive"`
	HeapObjects uint64 `json:"heapObjects"`
	HeapUnused  uint64 `json:"heapUnused"`
	HeapStacks  uint64 `json:"heapStacks"`
	HeapInuse   uint64 `json:"heapInuse"`
	Total       uint64 `json:"total"`
	RSS         uint64 `json:"rss"`
}

// BenchmarkIdleMemory measures the server's memory per idle connection. For each variant it
// starts cmd/idleserver (heartbeats on, every 30 s), measures its memory after two forced
// collections, opens 10,000 WebSocket connections to it from this process (each with a
// reader goroutine that answers heartbeats), waits until the hub serves them all and they
// have been idle for a second, measures again, and closes them. It reports, per connection:
//
//   - B/conn: live heap (/gc/heap/live:bytes, exact after a forced collection) plus
//     goroutine stacks (/memory/classes/heap/stacks:bytes), the definition;
//   - heap-B/conn and stack-B/conn: the two parts of B/conn;
//   - inuse-B/conn: heap spans in use plus stacks (MemStats.HeapInuse + StackInuse), which
//     adds the free slots of partly used spans (fragmentation);
//   - rss-B/conn: the process's resident set size (everything the runtime maps, but not the
//     kernel's socket buffers, which no process counts);
//   - goroutines/conn.
//
// One operation is one such run, server start and teardown included.
func BenchmarkIdleMemory(b *testing.B) {
	bin := idleServerBinary(b)
	n := envInt(b, "CHATWIRE_IDLE_CONNS", 10000)
	if testing.Short() && os.Getenv("CHATWIRE_IDLE_CONNS") == "" {
		n = 1000
	}
	settle := time.Second
	if s := os.Getenv("CHATWIRE_IDLE_SETTLE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("CHATWIRE_IDLE_SETTLE=%q: %v", s, err)
		}
		settle = d
	}
	profileDir := os.Getenv("CHATWIRE_IDLE_PROFILE")
	variants := idleVariants
	if s := os.Getenv("CHATWIRE_IDLE_VARIANTS"); s != "" {
		variants = parseIdleVariants(b, s)
	}
	for _, v := range variants {
		b.Run(v.name(n), func(b *testing.B) {
			var sum idleResult
			for range b.N {
				r := idleRun(b, bin, v, n, settle, profileDir)
				sum.add(r)
			}
			sum.report(b, b.N, n)
		})
	}
}

// idleResult is the growth of the server's figures between before and after the
// connections were opened.
type idleResult struct {
	heap, stacks, inuse, rss float64
	goroutines               float64
}

func (r *idleResult) add(o idleResult) {
	r.heap += o.heap
	r.stacks += o.stacks
	r.inuse += o.inuse
	r.rss += o.rss
	r.goroutines += o.goroutines
}

func (r *idleResult) report(b *testing.B, runs, conns int) {
	per := func(v float64) float64 { return v / float64(runs) / float64(conns) }
	b.ReportMetric(per(r.heap+r.stacks), "B/conn")
	b.ReportMetric(per(r.heap), "heap-B/conn")
	b.ReportMetric(per(r.stacks), "stack-B/conn")
	b.ReportMetric(per(r.inuse), "inuse-B/conn")
	b.ReportMetric(per(r.rss), "rss-B/conn")
	b.ReportMetric(per(r.goroutines), "goroutines/conn")
	// An idle connection costs its reader goroutine only: a writer or handler goroutine
	// that outlives its work (or one started for the welcome frame that could have been
	// written inline) shows here as a second goroutine per connection. A few per thousand
	// are the server's own (listeners, timers).
	if g := per(r.goroutines); g > 1.1 {
		b.Fatalf("%.3f goroutines per idle connection, want 1 (the reader)", g)
	}
}

// idleServerBinary returns the path of an idleserver binary: CHATWIRE_IDLESERVER, or one
// built from ./cmd/idleserver into a temporary directory removed at cleanup.
func idleServerBinary(b *testing.B) string {
	if p := os.Getenv("CHATWIRE_IDLESERVER"); p != "" {
		return p
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Fatalf("building cmd/idleserver needs the go command on PATH: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "idleserver")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/idleserver")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building cmd/idleserver: %v\n%s", err, out)
	}
	return bin
}

// idleServer is a running cmd/idleserver process.
type idleServer struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	stdout *lockedBuffer
	stderr *lockedBuffer
	waited chan error // receives cmd.Wait's result once
	once   sync.Once  // stop's
	chat   string
	stats  string
}

// startIdleServer starts bin and reads the addresses it prints. Cleanup stops it.
func startIdleServer(b *testing.B, bin string, args ...string) *idleServer {
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	s := &idleServer{cmd: cmd, stdin: stdin, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, waited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { s.waited <- cmd.Wait() }() // ends with the process, which stop ends
	b.Cleanup(func() { s.stop(b) })

	// The first line of its output has the addresses.
	deadline := time.Now().Add(e2eTimeout)
	for {
		if line, _, ok := strings.Cut(s.stdout.String(), "\n"); ok {
			var a struct{ Chat, Stats string }
			if err := json.Unmarshal([]byte(line), &a); err != nil || a.Chat == "" || a.Stats == "" {
				b.Fatalf("idleserver printed %q, not its addresses; stderr:\n%s", line, s.stderr)
			}
			s.chat, s.stats = a.Chat, a.Stats
			return s
		}
		if time.Now().After(deadline) {
			b.Fatalf("idleserver did not print its addresses in time; stderr:\n%s", s.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop closes the server's standard input, which makes it shut down, and kills it if it
// has not exited within e2eTimeout. Calls after the first do nothing.
func (s *idleServer) stop(b *testing.B) {
	s.once.Do(func() {
		_ = s.stdin.Close()
		select {
		case err := <-s.waited:
			if err != nil {
				b.Errorf("idleserver: %v; stderr:\n%s", err, s.stderr)
			}
		case <-time.After(e2eTimeout):
			_ = s.cmd.Process.Kill()
			<-s.waited
			b.Errorf("idleserver did not exit in time and was killed; stderr:\n%s", s.stderr)
		}
	})
}

var statsClient = &http.Client{Timeout: e2eTimeout}

// read fetches /stats after gcs forced collections.
func (s *idleServer) read(gcs int) (idleStats, error) {
	var st idleStats
	resp, err := statsClient.Get(s.stats + "/stats?gc=" + strconv.Itoa(gcs))
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitFor polls /stats (without collections) until ok accepts it or e2eTimeout passes.
func (s *idleServer) waitFor(what string, ok func(idleStats) bool) (idleStats, error) {
	deadline := time.Now().Add(e2eTimeout)
	for {
		st, err := s.read(0)
		if err != nil {
			return st, err
		}
		if ok(st) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("timed out waiting for %s (conns %d, goroutines %d)", what, st.Conns, st.Goroutines)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// save writes the server's profile at path (under /debug/pprof/) to file.
func (s *idleServer) save(path, file string) error {
	resp, err := statsClient.Get(s.stats + "/debug/pprof/" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/%s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// idleDialer keeps the client side lean: 10,000 connections of this process read nothing
// but heartbeats.
var idleDialer = websocket.Dialer{HandshakeTimeout: e2eTimeout, ReadBufferSize: 1024, WriteBufferSize: 1024}

// idleRun starts a server, measures it, holds n idle connections, measures again, and
// tears everything down.
func idleRun(b *testing.B, bin string, v idleVariant, n int, settle time.Duration, profileDir string) idleResult {
	args := []string{"-adapter", v.adapter, "-store", v.store, "-readbuf", strconv.Itoa(v.readBuf)}
	if profileDir != "" {
		args = append(args, "-memprofilerate", "1")
	}
	srv := startIdleServer(b, bin, args...)
	before, err := srv.read(2)
	if err != nil {
		b.Fatal(err)
	}

	// Open the connections, each with a reader that answers heartbeats until it is closed.
	conns := make([]*websocket.Conn, n)
	errs := make([]error, n)
	var dialed, readers sync.WaitGroup
	var closing sync.Once
	closeAll := func() {
		closing.Do(func() {
			dialed.Wait()
			for _, c := range conns {
				if c != nil {
					closeAbrupt(c)
				}
			}
			readers.Wait()
		})
	}
	b.Cleanup(closeAll) // runs before the server's stop, registered earlier
	sem := make(chan struct{}, 32)
	for i := range conns {
		sem <- struct{}{}
		dialed.Add(1)
		go func() { // owned: waited for by dialed
			defer dialed.Done()
			defer func() { <-sem }()
			url := srv.chat
			if v.store != "none" {
				url = withSession(url, fmt.Sprintf("idle-%d", i))
			}
			ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
			defer cancel()
			c, resp, err := idleDialer.DialContext(ctx, url, nil)
			if resp != nil && resp.Body != nil {
				_ = resp.Body.Close()
			}
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = c
			readers.Add(1)
			go func() { // owned: closeAll closes c and waits
				defer readers.Done()
				for {
					if _, _, err := c.NextReader(); err != nil {
						return
					}
				}
			}()
		}()
	}
	dialed.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed > 0 {
		b.Fatalf("%d of %d connections failed, the first with: %v", failed, n, first)
	}
	if _, err := srv.waitFor("every connection to be served", func(st idleStats) bool { return st.Conns == n }); err != nil {
		b.Fatal(err)
	}
	time.Sleep(settle)
	after, err := srv.read(2)
	if err != nil {
		b.Fatal(err)
	}
	if after.Conns != n {
		b.Fatalf("the server serves %d connections, want %d", after.Conns, n)
	}
	if profileDir != "" {
		name := strings.ReplaceAll(strings.TrimSuffix(v.name(n), "/conns="+strconv.Itoa(n)), "/", "-")
		for path, file := range map[string]string{
			"heap?gc=1":         "heap-" + name + ".pb.gz",
			"goroutine?debug=1": "goroutines-" + name + ".txt",
		} {
			if err := srv.save(path, filepath.Join(profileDir, file)); err != nil {
				b.Errorf("saving %s: %v", file, err)
			}
		}
	}

	// Close the connections; the server must let go of all of them. (The slack allows for
	// fasthttp's idle workers, which linger for 10 s after the handshakes.)
	closeAll()
	if _, err := srv.waitFor("the connections to end", func(st idleStats) bool {
		return st.Conns == 0 && st.Goroutines <= before.Goroutines+64
	}); err != nil {
		b.Errorf("after closing every connection: %v", err)
	}
	srv.stop(b)

	return idleResult{
		heap:       float64(after.HeapLive) - float64(before.HeapLive),
		stacks:     float64(after.HeapStacks) - float64(before.HeapStacks),
		inuse:      float64(after.HeapInuse+after.HeapStacks) - float64(before.HeapInuse+before.HeapStacks),
		rss:        float64(after.RSS) - float64(before.RSS),
		goroutines: float64(after.Goroutines - before.Goroutines),
	}
}

// lockedBuffer is a bytes.Buffer that exec's output copier may write while it is read.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
