// Command idleserver serves a chatwire hub for the idle-connection memory benchmark
// (BenchmarkIdleMemory in bench/e2e_idle_test.go), which runs it as a separate process so
// that its memory holds only the server's side of the connections, and so that the
// connections' two ends do not share one process's file-descriptor limit.
//
// It listens on two loopback ports chosen by the kernel and prints them as one JSON line on
// standard output:
//
//	{"chat":"ws://127.0.0.1:40001/chat","stats":"http://127.0.0.1:40002"}
//
// The chat endpoint is served through the adapter chosen with -adapter (wshttp, wsecho or
// wsfiber) by a hub with every option at its default (heartbeats every 30 s) and an echo
// handler; with -store memory every connection joins its session in a MemoryStore. The stats
// port (never a chat connection) serves
//
//   - GET /stats?gc=N: runs N forced garbage collections (default 2) and answers a JSON
//     object of the hub's connection count, the goroutine count and the memory figures of
//     runtime/metrics, MemStats and /proc/self/statm (see Stats);
//   - /debug/pprof/: the usual profiles; run with -memprofilerate 1 for an exact heap
//     profile (go tool pprof -sample_index=inuse_space).
//
// It runs until its standard input reaches end of file (the parent closed the pipe or
// died) or it receives SIGINT or SIGTERM, then shuts the hub down and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/labstack/echo/v4"

	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
)

// Stats is the answer of GET /stats, read after the forced collections.
type Stats struct {
	Conns      int `json:"conns"`      // connections the hub serves (Hub.ConnCount)
	Goroutines int `json:"goroutines"` // /sched/goroutines:goroutines
	GCs        int `json:"gcs"`        // collections forced before reading

	HeapLive    uint64 `json:"heapLive"`    // /gc/heap/live:bytes: live objects marked by the last GC
	HeapObjects uint64 `json:"heapObjects"` // /memory/classes/heap/objects:bytes
	HeapUnused  uint64 `json:"heapUnused"`  // /memory/classes/heap/unused:bytes: free slots in in-use spans
	HeapStacks  uint64 `json:"heapStacks"`  // /memory/classes/heap/stacks:bytes: goroutine stacks (StackInuse)
	HeapInuse   uint64 `json:"heapInuse"`   // MemStats.HeapInuse: bytes in in-use heap spans
	Total       uint64 `json:"total"`       // /memory/classes/total:bytes: all memory the runtime mapped
	RSS         uint64 `json:"rss"`         // resident set size from /proc/self/statm (0 elsewhere)
}

var metricNames = []string{
	"/sched/goroutines:goroutines",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/memory/classes/total:bytes",
}

func readStats(hub *core.Hub, gcs int) Stats {
	for range gcs {
		runtime.GC()
	}
	samples := make([]metrics.Sample, len(metricNames))
	for i, n := range metricNames {
		samples[i].Name = n
	}
	metrics.Read(samples)
	v := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Stats{
		Conns:       hub.ConnCount(),
		Goroutines:  int(v(0)),
		GCs:         gcs,
		HeapLive:    v(1),
		HeapObjects: v(2),
		HeapUnused:  v(3),
		HeapStacks:  v(4),
		Total:       v(5),
		HeapInuse:   ms.HeapInuse,
		RSS:         rss(),
	}
}

// rss returns the resident set size of the process in bytes, or 0 where /proc is missing.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

var echoHandler = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
})

func main() {
	adapter := flag.String("adapter", "wshttp", "the adapter serving the chat endpoint: wshttp, wsecho or wsfiber")
	store := flag.String("store", "none", "none (stateless hub) or memory (every connection joins its session in a MemoryStore)")
	heartbeat := flag.Duration("heartbeat", 0, "core.Options.HeartbeatInterval (0: the default, 30s; negative: off)")
	readBuf := flag.Int("readbuf", 0, "the adapter's Options.ReadBufferSize (0: its default)")
	memProfileRate := flag.Int("memprofilerate", 0, "runtime.MemProfileRate when positive (1 records every allocation)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("idleserver: ")
	if *memProfileRate > 0 {
		runtime.MemProfileRate = *memProfileRate
	}
	if err := run(*adapter, *store, *heartbeat, *readBuf); err != nil {
		log.Fatal(err)
	}
}

func run(adapter, storeName string, heartbeat time.Duration, readBuf int) error {
	opts := core.Options{Handler: echoHandler, HeartbeatInterval: heartbeat}
	switch storeName {
	case "none":
	case "memory":
		opts.Store = core.NewMemoryStore(core.MemoryStoreOptions{})
	default:
		return fmt.Errorf("unknown -store %q", storeName)
	}
	hub := core.NewHub(opts)

	chatLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	statsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}

	// serveChat serves the chat endpoint until stopChat is called.
	var serveChat func() error
	var stopChat func(context.Context) error
	switch adapter {
	case "wshttp":
		mux := http.NewServeMux()
		mux.Handle("/chat", wshttp.New(hub, wshttp.Options{ReadBufferSize: readBuf}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		serveChat, stopChat = func() error { return srv.Serve(chatLn) }, srv.Shutdown
	case "wshttp-detached": // a prototype, not the library's adapter: see detached.go
		mux := http.NewServeMux()
		mux.Handle("/chat", newDetachedHandler(hub))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		serveChat, stopChat = func() error { return srv.Serve(chatLn) }, srv.Shutdown
	case "wsecho":
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.GET("/chat", wsecho.New(hub, wsecho.Options{ReadBufferSize: readBuf}))
		srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
		serveChat, stopChat = func() error { return srv.Serve(chatLn) }, srv.Shutdown
	case "wsfiber":
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Get("/chat", wsfiber.New(hub, wsfiber.Options{ReadBufferSize: readBuf}))
		serveChat, stopChat = func() error { return app.Listener(chatLn) }, app.ShutdownWithContext
	default:
		return fmt.Errorf("unknown -adapter %q", adapter)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		gcs := 2
		if s := r.URL.Query().Get("gc"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > 10 {
				http.Error(w, "gc: want 0 to 10", http.StatusBadRequest)
				return
			}
			gcs = n
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(readStats(hub, gcs))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	statsSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	errc := make(chan error, 2)
	go func() { errc <- serveChat() }()             // ends when stopChat is called below
	go func() { errc <- statsSrv.Serve(statsLn) }() // ends when statsSrv is closed below

	addrs, _ := json.Marshal(map[string]string{
		"chat":  "ws://" + chatLn.Addr().String() + "/chat",
		"stats": "http://" + statsLn.Addr().String(),
	})
	fmt.Printf("%s\n", addrs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { // ends the process's wait when the parent closes the pipe (or dies)
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}

	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, hub.Shutdown(sctx), stopChat(sctx), statsSrv.Close())
}
