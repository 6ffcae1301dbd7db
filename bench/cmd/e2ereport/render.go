package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// idleTarget is the memory budget per idle connection: 16 KB, taken as 16 KiB.
const idleTarget = 16 << 10

// siteNotes explain the allocation sites that dominate an idle connection's heap.
var siteNotes = map[string]string{
	"bufio.NewReaderSize":                                             "read buffers: with wshttp and wsecho, the 1 KiB `bufio.Reader` gorilla allocates for the connection (`DefaultReadBufferSize`; net/http's 4 KiB reader is not reused); with wsfiber, fasthttp's 4 KiB reader (kept by the hijacked connection) plus fasthttp/websocket's own `ReadBufferSize` (256 B by default) on top of it",
	"bufio.NewWriterSize":                                             "net/http's 4 KiB `bufio.Writer` of the connection: it writes the 101, then sits unused (gorilla writes through its `WriteBufferPool`), but stays reachable because the handler, and with it net/http's `conn`, runs for the connection's whole life",
	"net/textproto.readMIMEHeader":                                    "the upgrade request's header strings, shared by the header copy in `ConnInfo.Header`",
	"net/http.Header.Clone":                                           "`ConnInfo.Header`, the copy of the request header handed to handlers",
	"github.com/chatwire/chatwire/core.newConnection":                 "the hub's `connection` (and its inbox-slot channel)",
	"github.com/gorilla/websocket.newConn":                            "gorilla's `Conn`",
	"github.com/fasthttp/websocket.newConn":                           "fasthttp/websocket's `Conn`",
	"runtime.mallocgc":                                                "runtime-internal allocations without a caller frame, mostly the goroutine descriptors (`g`)",
	"context.(*cancelCtx).propagateCancel":                            "the children maps of the request's and connection's contexts",
	"context.withCancel":                                              "cancellable contexts (net/http's per connection and request, the hub's per connection)",
	"net/http.readRequest":                                            "the `http.Request`, kept while a handler references it",
	"net/http.(*conn).readRequest":                                    "net/http's `response`, kept while a handler references it",
	"github.com/valyala/fasthttp.(*Server).acquireCtx":                "fasthttp's `RequestCtx`, kept until the hijack handler returns",
	"time.newTimer":                                                   "the heartbeat timer",
	"context.AfterFunc":                                               "the hub's watch on the Serve context",
	"context.(*cancelCtx).Done":                                       "the Done channels of those contexts",
	"net/http.(*Server).newConn":                                      "net/http's `conn`, kept by its goroutine, the connection's reader",
	"net/url.parse":                                                   "the request's URL, kept with the request",
	"github.com/valyala/fasthttp.allocArg":                            "the request's query arguments, kept in the `RequestCtx`",
	"github.com/valyala/fasthttp.appendArg":                           "the request's query arguments, kept in the `RequestCtx`",
	"github.com/valyala/fasthttp.appendHeaderLine":                    "the request's raw header, kept in the `RequestCtx`",
	"github.com/valyala/fasthttp.readRawHeaders":                      "the request's raw header, kept in the `RequestCtx`",
	"net/textproto.MIMEHeader.Add":                                    "`ConnInfo.Header`, the copy of the request header handed to handlers",
	"github.com/chatwire/chatwire/adapters/adapterkit.HeaderOf.func1": "the strings of that copy",
	"github.com/chatwire/chatwire/adapters/adapterkit.HeaderOf":       "`ConnInfo.Header`'s map",
	"net.newFD": "the socket's `netFD`",
	"github.com/chatwire/chatwire/core.NewID": "the connection's id (and, without a session id in the URL, the session's)",
}

// renderMarkdown renders the README section.
func renderMarkdown(r *results, env machine, bds []breakdown) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	conns := r.idleConns()
	if conns == 0 {
		conns = 10000
	}

	w("## End to end: real WebSocket clients over loopback\n\n")
	w("`e2e_*_test.go` measure chatwire as its clients see it: gorilla/websocket clients in the\n")
	w("benchmark process talk to a hub served by the net/http adapter (`adapters/wshttp`) on\n")
	w("127.0.0.1, so every number includes the client's work, TCP over loopback, the adapter, the\n")
	w("hub and the store, all sharing the machine's cores. Hubs run with default options\n")
	w("(heartbeats every 30 s, 256-frame send queues). Messages carry 100 bytes of content; stream\n")
	w("deltas are `\"token \"` (6 bytes). `store=none` is the stateless transport, `store=memory`\n")
	w("the in-process `MemoryStore` and `store=redis` the Redis store (only when `REDIS_URL` is set;\n")
	w("each run uses a fresh key prefix and deletes it). B/op and allocs/op count the whole\n")
	w("process, clients included.\n\n")
	w("| benchmark | one operation | reports |\n|---|---|---|\n")
	w("| `BenchmarkRoundTrip` | a message sent and its reply (`Echo: …`) read, one at a time on one connection; with a store, the message is stored and echoed to its sender before the handler runs and the reply is stored | p50-µs, p99-µs, ns/op (the mean) |\n")
	w("| `BenchmarkThroughput100Conns` | a message answered, with 100 connections each sending and reading concurrently (at most 16 in flight per connection); with a store each connection has its own session | msgs/s |\n")
	w("| `BenchmarkFanOut1000` | one of the 1,000 connections of a session sends a message; done when all 1,000 (the sender included) have read it; no handler | p50-µs, p99-µs, deliveries/s |\n")
	w("| `BenchmarkStreamDeltas100Watchers` | a delta streamed (as fast as the hub takes them, in streams of 1,000) to a session of 100 connections that read and decode every frame; the run ends when all 100 have the last stream's end, and each checks its deltas add up to the final messages | deltas/s; delta-B/s and frames/s summed over the 100; frames/delta per connection (1 = no merging) |\n")
	w("| `BenchmarkResume10000Deltas` | a new connection joins a session whose running stream has 10,000 deltas (60 KB of text): from dialing until its first frame, the compacted resume frame with all the text, is read | p50-µs, p99-µs; dial-p50-µs, dial-p99-µs (the handshake alone); frame-B |\n")
	w("| `BenchmarkIdleMemory` | %s idle connections held by `cmd/idleserver` in a separate process | B/conn and its parts, goroutines/conn |\n\n", thousands(float64(conns)))

	w("**Idle memory, how it is measured.** `cmd/idleserver` serves a hub (default options:\n")
	w("heartbeats every 30 s; an echo handler) in its own process, so its memory holds only the\n")
	w("server side and each side of the connections has its own file-descriptor limit. The benchmark\n")
	w("reads its memory (`GET /stats`, after two forced collections), opens the connections (each\n")
	w("with a client goroutine that answers heartbeats), waits until the hub serves all of them and\n")
	w("they have been idle for 1 s, reads again, then closes them and checks that the server lets go\n")
	w("of every connection and goroutine. Per connection:\n\n")
	w("- **B/conn** = growth of live heap (`/gc/heap/live:bytes`, exact after a forced collection) +\n")
	w("  goroutine stacks (`/memory/classes/heap/stacks:bytes`) ÷ connections: the issue's \"heap +\n")
	w("  goroutine stacks\". heap-B/conn and stack-B/conn are its two parts.\n")
	w("- **inuse-B/conn** = growth of heap spans in use + stacks (`HeapInuse + StackInuse`): adds the\n")
	w("  free slots of partly used spans (size-class fragmentation).\n")
	w("- **rss-B/conn** = growth of the process's resident set: all the runtime maps, but not the\n")
	w("  kernel's socket buffers, which no process is charged for.\n\n")

	w("### Reproduce\n\nFrom this directory:\n\n```sh\n")
	w("REDIS_URL=redis://127.0.0.1:6379/0 go run ./cmd/e2ereport   # everything; rewrites this section\n")
	w("go run ./cmd/e2ereport -input cmd/e2ereport/testdata/e2e.txt -profile=false -whatif=false   # re-render only\n")
	w("go test -run '^$' -bench '^BenchmarkRoundTrip$' -count 10 .               # one benchmark\n")
	w("go test -run '^$' -bench '^BenchmarkIdleMemory$' -benchtime 1x .          # 10,000 connections (1,000 with -short)\n")
	w("# the heap profile behind the breakdown below:\n")
	w("CHATWIRE_IDLE_PROFILE=/tmp/idle CHATWIRE_IDLE_VARIANTS=wshttp:none \\\n")
	w("  go test -run '^$' -bench '^BenchmarkIdleMemory$' -benchtime 1x .\n")
	w("go tool pprof -sample_index=inuse_space -top /tmp/idle/heap-adapter=wshttp-store=none.pb.gz\n")
	w("```\n\n")
	w("`e2ereport` runs the benchmarks with the command shown under Results, keeps the raw output in\n")
	w("`cmd/e2ereport/testdata/e2e.txt`, takes the median of every metric, and then runs the\n")
	w("idle-memory benchmark twice more: with a heap profile of the server (`MemProfileRate` 1) for\n")
	w("the breakdown, and for the what-if variants. Without `REDIS_URL` the Redis variants are\n")
	w("skipped. `CI` runs every benchmark once (`-benchtime 1x`), as a smoke test.\n\n")
	w("To compare two versions, or the stores with each other, with\n")
	w("[benchstat](https://pkg.go.dev/golang.org/x/perf/cmd/benchstat), which reads the custom units\n")
	w("(p50-µs, msgs/s, B/conn, …) like ns/op:\n\n```sh\n")
	w("go install golang.org/x/perf/cmd/benchstat@latest\n")
	w("P='^Benchmark(RoundTrip|Throughput100Conns|FanOut1000|StreamDeltas100Watchers|Resume10000Deltas)$'\n")
	w("go test -run '^$' -bench \"$P\" -count 10 . > old.txt\n")
	w("# ...change chatwire...\n")
	w("go test -run '^$' -bench \"$P\" -count 10 . > new.txt\n")
	w("benchstat old.txt new.txt\n")
	w("benchstat -col /store cmd/e2ereport/testdata/e2e.txt   # none vs memory vs redis\n")
	w("```\n\n")
	w("Loopback numbers on a shared 2-core machine are noisy, and the clients compete with the\n")
	w("server for the same cores: compare medians of several runs, run nothing else meanwhile, and\n")
	w("treat differences under ~10%% (p99: ~30%%) as noise.\n\n")

	w("### Results\n\n")
	w("- Machine: %s CPUs, %s, %s, %s\n", env.CPUs, env.CPUModel, env.OSArch, env.Kernel)
	w("- Go: `%s`; %s\n", env.GoVersion, env.Redis)
	w("- Command (from `bench/`): `%s`", env.Command)
	if env.Duration > 0 {
		w(" (%s; load average %s before, %s after)", env.Duration, env.LoadBefore, env.LoadAfter)
	}
	w("\n")
	if env.Equivalent != "" {
		w("- The same runs, not interleaved: `%s`\n", env.Equivalent)
	}
	if env.WhatIf != "" {
		w("- What-if rows: `%s`\n", env.WhatIf)
	}
	w("- Date: %s. Every figure is the median of the runs (`-count`).\n\n", env.Date)

	// rtRate is the rate of round trips one connection makes one after another, from the
	// median latency (the mean is at the mercy of a few stalls on a shared machine).
	rtRate := func(store string) (float64, bool) {
		p50, ok := r.median("RoundTrip/store="+store, "p50-µs")
		if !ok || p50 == 0 {
			return 0, false
		}
		return 1e6 / p50, true
	}

	w("#### Round trip, one connection\n\n| store | p50 | p99 | mean | B/op | allocs/op |\n|---|---|---|---|---|---|\n")
	for _, store := range []string{"none", "memory", "redis"} {
		n := "RoundTrip/store=" + store
		if skip, ok := r.skipped[n]; ok && len(r.values[n]) == 0 {
			w("| %s | skipped: %s | | | | |\n", store, skip)
			continue
		}
		if len(r.values[n]) == 0 {
			continue
		}
		w("| %s | %s | %s | %s | %s | %s |\n", store, us(r, n, "p50-µs"), us(r, n, "p99-µs"), nsAsUs(r, n), num(r, n, "B/op"), num(r, n, "allocs/op"))
	}

	w("\n#### Throughput, 100 connections\n\n| store | msgs/s | vs one connection's round trips/s (1/p50) | B/op | allocs/op |\n|---|---|---|---|---|\n")
	for _, store := range []string{"none", "memory", "redis"} {
		n := "Throughput100Conns/store=" + store
		if skip, ok := r.skipped[n]; ok && len(r.values[n]) == 0 {
			w("| %s | skipped: %s | | | |\n", store, skip)
			continue
		}
		v, ok := r.median(n, "msgs/s")
		if !ok {
			continue
		}
		ratio := "–"
		if one, ok := rtRate(store); ok {
			ratio = fmt.Sprintf("×%.1f", v/one)
		}
		w("| %s | %s | %s | %s | %s |\n", store, rate(v), ratio, num(r, n, "B/op"), num(r, n, "allocs/op"))
	}

	w("\n#### Fan-out: one message to the 1,000 connections of a session\n\n| store | p50 | p99 | deliveries/s | vs one connection's round trips/s (1/p50) | allocs per delivery |\n|---|---|---|---|---|---|\n")
	for _, store := range []string{"memory", "redis"} {
		n := "FanOut1000/store=" + store
		if skip, ok := r.skipped[n]; ok && len(r.values[n]) == 0 {
			w("| %s | skipped: %s | | | | |\n", store, skip)
			continue
		}
		v, ok := r.median(n, "deliveries/s")
		if !ok {
			continue
		}
		ratio := "–"
		if one, ok := rtRate(store); ok {
			ratio = fmt.Sprintf("×%.1f", v/one)
		}
		allocs := "–"
		if a, ok := r.median(n, "allocs/op"); ok {
			allocs = fmt.Sprintf("%.1f", a/1000)
		}
		w("| %s | %s | %s | %s | %s | %s |\n", store, us(r, n, "p50-µs"), us(r, n, "p99-µs"), rate(v), ratio, allocs)
	}

	w("\n#### Streaming: deltas to a session of 100 connections\n\n| store | deltas/s | delta text delivered (sum of 100) | frames/s (sum of 100) | frames per delta per connection |\n|---|---|---|---|---|\n")
	for _, store := range []string{"memory", "redis"} {
		n := "StreamDeltas100Watchers/store=" + store
		if skip, ok := r.skipped[n]; ok && len(r.values[n]) == 0 {
			w("| %s | skipped: %s | | | |\n", store, skip)
			continue
		}
		v, ok := r.median(n, "deltas/s")
		if !ok {
			continue
		}
		bps, _ := r.median(n, "delta-B/s")
		fps, _ := r.median(n, "frames/s")
		fpd, _ := r.median(n, "frames/delta")
		w("| %s | %s | %.1f MB/s | %s | %.3f |\n", store, rate(v), bps/1e6, rate(fps), fpd)
	}

	w("\n#### Resume: joining a stream of 10,000 deltas\n\n| store | first frame p50 | p99 | handshake p50 | handshake p99 | resume frame |\n|---|---|---|---|---|---|\n")
	for _, store := range []string{"memory", "redis"} {
		n := "Resume10000Deltas/store=" + store
		if skip, ok := r.skipped[n]; ok && len(r.values[n]) == 0 {
			w("| %s | skipped: %s | | | | |\n", store, skip)
			continue
		}
		if len(r.values[n]) == 0 {
			continue
		}
		w("| %s | %s | %s | %s | %s | %s B |\n", store, us(r, n, "p50-µs"), us(r, n, "p99-µs"), us(r, n, "dial-p50-µs"), us(r, n, "dial-p99-µs"), num(r, n, "frame-B"))
	}
	w("\nThe hub queues the resume frame while the connection joins, before the 101, so it follows the\n")
	w("handshake at once: resuming costs about one handshake plus reading the stream's text from the\n")
	w("store.\n")

	w("\n#### Idle connections (target: ≤ 16 KiB per connection, 10,000 held)\n\n")
	w("| server | B/conn (heap + stacks) | heap | stacks | in-use spans + stacks | RSS | goroutines/conn | ≤ 16 KiB |\n|---|---|---|---|---|---|---|---|\n")
	idle := r.withPrefix("IdleMemory/")
	for _, n := range idle {
		w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", idleName(n), num(r, n, "B/conn"), num(r, n, "heap-B/conn"), num(r, n, "stack-B/conn"),
			num(r, n, "inuse-B/conn"), num(r, n, "rss-B/conn"), num2(r, n, "goroutines/conn"), verdict(r, n))
	}
	if len(idle) == 0 {
		w("| (not run) | | | | | | | |\n")
	}
	if len(idle) > 0 {
		w("\nEvery run held all %s connections at once on this machine (the benchmark fails otherwise).\n", thousands(float64(conns)))
	}
	w("Rows marked *what-if* come from `-whatif` (off by default): `wshttp-detached` is the\n")
	w("prototype in `cmd/idleserver/detached.go` that wshttp and wsecho have since adopted (they\n")
	w("serve the upgraded connection on a goroutine of the hub's and return from `ServeHTTP`), and\n")
	w("`readbuf=256` is wsfiber's default read buffer since; they match the library's rows.\n")
	w("wsfiber's extra 0.003 goroutines/conn are fasthttp's idle workers, which exit 10 s after the\n")
	w("handshakes.\n\n")
	w("Every server has one goroutine per idle connection, its reader, started fresh after the\n")
	w("upgrade, so its stack stays at 4 KiB. (Before wshttp and wsecho detached it, the reader was\n")
	w("net/http's connection goroutine, whose stack had grown to 8 KiB while it parsed the request\n")
	w("and which kept the request, its unused 4 KiB response writer and contexts alive: 22.2 KB per\n")
	w("idle connection instead of 11.8 KB.)\n")

	for _, bd := range bds {
		w("\n#### Where an idle connection's heap goes: %s\n\n", bd.Variant)
		w("Heap profile of the server with %s idle connections (`MemProfileRate` 1, in use after a\n", thousands(float64(bd.Conns)))
		w("collection), top allocation sites by bytes held, per connection; %s B/conn in all. The\n", thousands(bd.Total))
		w("goroutine stack (stack-B/conn above) is not in a heap profile.\n\n")
		w("| allocation site | B/conn | what it is |\n|---|---|---|\n")
		for _, s := range bd.Sites {
			w("| `%s` | %s | %s |\n", s.Name, thousands(s.BConn), siteNotes[s.Name])
		}
	}

	w("\n<details><summary>Every metric (median, min–max, runs)</summary>\n\n| benchmark | metric | median | min–max | runs |\n|---|---|---|---|---|\n")
	for _, n := range r.order {
		for _, u := range r.units[n] {
			m, _ := r.median(n, u)
			lo, hi := r.spread(n, u)
			w("| %s | %s | %s | %s–%s | %d |\n", n, u, short(m), short(lo), short(hi), r.runs(n, u))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(r.skipped)) {
		if len(r.values[n]) == 0 {
			w("| %s | skipped | %s | | |\n", n, r.skipped[n])
		}
	}
	w("\n</details>\n\n")
	return b.String()
}

// idleName shortens "IdleMemory/adapter=wshttp/store=none/conns=10000" to "wshttp, store=none".
func idleName(n string) string {
	s := strings.TrimPrefix(n, "IdleMemory/")
	s = connsParam.ReplaceAllString(s, "")
	s = strings.TrimPrefix(s, "adapter=")
	whatif := strings.Contains(s, "-detached") || strings.Contains(s, "readbuf=")
	s = strings.Replace(s, "/", ", ", -1)
	if whatif {
		s += " (*what-if*)"
	}
	return s
}

func verdict(r *results, n string) string {
	v, ok := r.median(n, "B/conn")
	if !ok {
		return "–"
	}
	if v <= idleTarget {
		return "met"
	}
	return fmt.Sprintf("**missed** (+%s B)", thousands(v-idleTarget))
}

// us formats a median in microseconds.
func us(r *results, n, unit string) string {
	v, ok := r.median(n, unit)
	if !ok {
		return "–"
	}
	return micros(v)
}

func nsAsUs(r *results, n string) string {
	v, ok := r.median(n, "ns/op")
	if !ok {
		return "–"
	}
	return micros(v / 1000)
}

func micros(v float64) string {
	switch {
	case v < 100:
		return fmt.Sprintf("%.1f µs", v)
	case v < 1000:
		return fmt.Sprintf("%.0f µs", v)
	case v < 10000:
		return fmt.Sprintf("%.2f ms", v/1000)
	default:
		return fmt.Sprintf("%.1f ms", v/1000)
	}
}

func num(r *results, n, unit string) string {
	v, ok := r.median(n, unit)
	if !ok {
		return "–"
	}
	return thousands(v)
}

func num2(r *results, n, unit string) string {
	v, ok := r.median(n, unit)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// rate formats a per-second figure: 1.23 M, 45.6 k, 789.
func rate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// thousands formats v rounded to an integer with thousands separators.
func thousands(v float64) string {
	neg := v < 0
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// short formats any metric compactly for the full table.
func short(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return thousands(v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
