// Command e2ereport runs the end-to-end benchmarks of the bench module (e2e_*_test.go: round
// trip, throughput, fan-out, streaming, resume and idle-connection memory), takes the median
// of every measurement over -count runs, and writes the results into bench/README.md
// between the markers
//
//	<!-- e2e-results:start -->
//	<!-- e2e-results:end -->
//
// leaving the rest of the file alone (the markers are appended when missing). The raw `go
// test` output, which benchstat reads, is kept in -raw, and what it does not say (machine,
// commands, breakdowns) beside it in a .json file, so that -input re-renders everything.
//
// It builds the test binary and cmd/idleserver once and runs the benchmarks -count times,
// interleaved (one run of every benchmark per round), so that load from other processes
// spreads over all of them. With -whatif it measures the idle-memory what-if variants too, and with -profile (the default) it runs the idle-memory benchmark once more
// for wshttp and wsfiber with a heap profile of the server (MemProfileRate 1) and adds the
// allocation sites that dominate each idle connection.
//
// Run it from the bench directory, with REDIS_URL set to include the Redis variants:
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go run ./cmd/e2ereport            # about 5 minutes on 2 cores
//	go run ./cmd/e2ereport -count 10 -benchtime 2s
//	go run ./cmd/e2ereport -input cmd/e2ereport/testdata/e2e.txt -profile=false  # re-render
//
// Set CHATWIRE_IDLE_CONNS to change the number of idle connections (default 10000).
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// benchPattern selects the end-to-end benchmarks (and nothing else of the module).
const benchPattern = `^Benchmark(RoundTrip|Throughput100Conns|FanOut1000|StreamDeltas100Watchers|Resume10000Deltas|IdleMemory)$`

// profiled are the idle-memory variants whose heap profile is broken down (as named in
// CHATWIRE_IDLE_VARIANTS).
var profiled = []string{"wshttp:none", "wsfiber:none"}

func main() {
	var (
		count     = flag.Int("count", 5, "go test -count: how many times to run every benchmark")
		benchtime = flag.String("benchtime", "1s", "go test -benchtime")
		input     = flag.String("input", "", "read this raw benchmark output instead of running the benchmarks")
		readme    = flag.String("readme", "README.md", "the README to update")
		raw       = flag.String("raw", filepath.Join("cmd", "e2ereport", "testdata", "e2e.txt"), "where to keep the raw benchmark output")
		profile   = flag.Bool("profile", true, "also profile the idle server's heap and break the idle memory down")
		whatIf    = flag.Bool("whatif", false, "also measure the idle-memory what-if variants (-count runs)")
	)
	flag.Parse()
	if err := run(*count, *benchtime, *input, *readme, *raw, *profile, *whatIf); err != nil {
		fmt.Fprintln(os.Stderr, "e2ereport:", err)
		os.Exit(1)
	}
}

func run(count int, benchtime, input, readme, raw string, profile, whatIf bool) error {
	env := describeMachine()
	var out []byte
	var bins *binaries
	var breakdowns []breakdown
	if input != "" {
		b, err := os.ReadFile(input)
		if err != nil {
			return err
		}
		out = b
		// The machine, commands and breakdowns of the run that wrote input, when kept.
		var saved sidecar
		if j, err := os.ReadFile(sidecarPath(input)); err == nil && json.Unmarshal(j, &saved) == nil {
			env, breakdowns = saved.Machine, saved.Breakdowns
		} else {
			env.Command = "(re-rendered from " + input + ")"
		}
	} else {
		var err error
		if bins, err = build(); err != nil {
			return err
		}
		defer os.RemoveAll(bins.dir)
		if out, err = runBenchmarks(bins, count, benchtime, &env); err != nil {
			return err
		}
		if whatIf {
			more, err := runWhatIf(bins, count, &env)
			if err != nil {
				return err
			}
			out = append(out, more...)
		}
		if err := os.MkdirAll(filepath.Dir(raw), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(raw, out, 0o644); err != nil {
			return err
		}
		env.Raw = raw
	}
	res, err := parseResults(out)
	if err != nil {
		return err
	}
	if profile {
		if bins == nil {
			if bins, err = build(); err != nil {
				return err
			}
			defer os.RemoveAll(bins.dir)
		}
		if breakdowns, err = profileIdle(bins, res.idleConns()); err != nil {
			return err
		}
	}
	if input == "" || profile {
		j, err := json.MarshalIndent(sidecar{Machine: env, Breakdowns: breakdowns}, "", "\t")
		if err != nil {
			return err
		}
		if err := os.WriteFile(sidecarPath(cmp.Or(input, raw)), append(j, '\n'), 0o644); err != nil {
			return err
		}
	}
	return updateReadme(readme, renderMarkdown(res, env, breakdowns))
}

// sidecar is what the raw output does not say: where and how it was produced, and the
// idle-memory breakdowns. It is kept beside the raw output so that -input re-renders the
// whole section.
type sidecar struct {
	Machine    machine
	Breakdowns []breakdown
}

// sidecarPath returns the sidecar's path for the raw output at raw: e2e.txt -> e2e.json.
func sidecarPath(raw string) string {
	return strings.TrimSuffix(raw, filepath.Ext(raw)) + ".json"
}

// binaries are the test binary of the bench package and cmd/idleserver, built once.
type binaries struct {
	dir, test, idleserver string
}

func build() (*binaries, error) {
	dir, err := os.MkdirTemp("", "e2ereport")
	if err != nil {
		return nil, err
	}
	b := &binaries{dir: dir, test: filepath.Join(dir, "bench.test"), idleserver: filepath.Join(dir, "idleserver")}
	for _, args := range [][]string{
		{"test", "-c", "-o", b.test, "."},
		{"build", "-o", b.idleserver, "./cmd/idleserver"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
	}
	return b, nil
}

// runTest runs the test binary with args and extra environment, echoing its output to
// stderr, and returns its output.
func runTest(bins *binaries, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(bins.test, args...)
	cmd.Env = append(append(os.Environ(), "CHATWIRE_IDLESERVER="+bins.idleserver), env...)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", bins.test, shellJoin(args), err)
	}
	return buf.Bytes(), nil
}

// runBenchmarks runs every benchmark count times, interleaved: count rounds of one run each
// (go test -count would run all the runs of one benchmark back to back), so that a burst
// of load from another process on the shared machine spreads over all the benchmarks
// instead of skewing one.
func runBenchmarks(bins *binaries, count int, benchtime string, env *machine) ([]byte, error) {
	args := []string{"-test.run", "^$", "-test.bench", benchPattern, "-test.benchtime", benchtime, "-test.count", "1", "-test.timeout", "30m"}
	redisEnv := ""
	if url := os.Getenv("REDIS_URL"); url != "" {
		redisEnv = "REDIS_URL=" + url + " "
	}
	env.Command = fmt.Sprintf("go test -c -o bench.test . && go build -o idleserver ./cmd/idleserver && for i in $(seq %d); do %sCHATWIRE_IDLESERVER=./idleserver ./bench.test %s; done",
		count, redisEnv, shellJoin(args))
	env.Equivalent = fmt.Sprintf("%sgo test -run '^$' -bench '%s' -benchtime %s -count %d .", redisEnv, benchPattern, benchtime, count)
	env.LoadBefore = loadAverage()
	start := time.Now()
	var all bytes.Buffer
	for r := 1; r <= count; r++ {
		fmt.Fprintf(os.Stderr, "e2ereport: round %d of %d\n", r, count)
		out, err := runTest(bins, nil, args...)
		if err != nil {
			return nil, err
		}
		keepResults(&all, out, r == 1)
	}
	env.Duration = time.Since(start).Round(time.Second)
	env.LoadAfter = loadAverage()
	return all.Bytes(), nil
}

// keepResults appends out to all; unless header is set it keeps only the results and skip
// notices, so that benchstat reads one configuration (goos, cpu...) for the whole file.
func keepResults(all *bytes.Buffer, out []byte, header bool) {
	if header {
		all.Write(out)
		return
	}
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if (strings.HasPrefix(line, "Benchmark") && len(strings.Fields(line)) > 2) ||
			strings.HasPrefix(line, "--- SKIP") || strings.HasPrefix(line, "    ") {
			all.WriteString(line)
		}
	}
}

// whatIfVariants are idle-memory configurations that are not the library's defaults: the
// prototype of a change to wshttp (cmd/idleserver/detached.go), and wsfiber with a smaller
// ReadBufferSize.
const whatIfVariants = "wshttp-detached:none,wsfiber:none:256"

// runWhatIf runs the idle-memory benchmark for whatIfVariants, count times.
func runWhatIf(bins *binaries, count int, env *machine) ([]byte, error) {
	args := []string{"-test.run", "^$", "-test.bench", "^BenchmarkIdleMemory$", "-test.benchtime", "1x", "-test.count", fmt.Sprint(count)}
	env.WhatIf = "CHATWIRE_IDLE_VARIANTS=" + whatIfVariants + " CHATWIRE_IDLESERVER=./idleserver ./bench.test " + shellJoin(args)
	out, err := runTest(bins, []string{"CHATWIRE_IDLE_VARIANTS=" + whatIfVariants}, args...)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	keepResults(&buf, out, false)
	return buf.Bytes(), nil
}

// breakdown is the heap profile of one idle-memory variant: the allocation sites holding
// the most memory, per connection.
type breakdown struct {
	Variant string
	Conns   int
	Sites   []site
	Total   float64 // B/conn of the whole profile
}

type site struct {
	Name  string
	BConn float64
}

// profileIdle runs the idle-memory benchmark once per profiled variant with
// CHATWIRE_IDLE_PROFILE set and reads the top allocation sites of each heap profile.
func profileIdle(bins *binaries, conns int) ([]breakdown, error) {
	if conns == 0 {
		conns = 10000
	}
	dir := filepath.Join(bins.dir, "profiles")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "e2ereport: profiling the idle server")
	if _, err := runTest(bins, []string{
		"CHATWIRE_IDLE_PROFILE=" + dir,
		"CHATWIRE_IDLE_VARIANTS=" + strings.Join(profiled, ","),
		fmt.Sprintf("CHATWIRE_IDLE_CONNS=%d", conns),
	}, "-test.run", "^$", "-test.bench", "^BenchmarkIdleMemory$", "-test.benchtime", "1x"); err != nil {
		return nil, fmt.Errorf("profiling the idle server: %w", err)
	}
	var out []breakdown
	for _, v := range profiled {
		adapter, store, _ := strings.Cut(v, ":")
		file := filepath.Join(dir, "heap-adapter="+adapter+"-store="+store+".pb.gz")
		top, err := exec.Command("go", "tool", "pprof", "-sample_index=inuse_space", "-top", "-unit=B", "-nodecount=14", file).Output()
		if err != nil {
			return nil, fmt.Errorf("go tool pprof %s: %w", file, err)
		}
		bd, err := parsePprofTop(top, conns)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		bd.Variant = "adapter=" + adapter + "/store=" + store
		out = append(out, bd)
	}
	return out, nil
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|() *") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// machine describes where the benchmarks ran.
type machine struct {
	CPUs, CPUModel, GoVersion, OSArch, Kernel, Redis, Date string
	Command, Equivalent, WhatIf, Raw                       string
	LoadBefore, LoadAfter                                  string
	Duration                                               time.Duration
}

func describeMachine() machine {
	m := machine{
		CPUs:     fmt.Sprint(runtime.NumCPU()),
		CPUModel: "unknown",
		OSArch:   runtime.GOOS + "/" + runtime.GOARCH,
		Date:     time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Redis:    "not used (REDIS_URL not set)",
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	} else {
		m.GoVersion = runtime.Version()
	}
	if url := os.Getenv("REDIS_URL"); url != "" {
		m.Redis = "REDIS_URL set, version unknown"
		if v := redisVersion(url); v != "" {
			m.Redis = "Redis " + v + " on loopback"
		}
	}
	return m
}

// redisVersion asks the Redis at url for its version ("" when it cannot).
func redisVersion(url string) string {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return ""
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return ""
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Markers delimit the generated section of the README.
const (
	startMarker = "<!-- e2e-results:start -->"
	endMarker   = "<!-- e2e-results:end -->"
)

// updateReadme replaces the text between the markers, or appends a marked section. It reads
// the file right before writing it, and replaces it with a rename, so that another tool
// rewriting a different section of the same README loses as little as possible.
func updateReadme(path, section string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	updated, err := replaceSection(string(b), section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".e2ereport-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(updated); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// replaceSection puts section between the markers of doc, appending the markers when doc
// has none.
func replaceSection(doc, section string) (string, error) {
	i := strings.Index(doc, startMarker)
	j := strings.Index(doc, endMarker)
	switch {
	case i < 0 && j < 0:
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		if doc != "" {
			doc += "\n"
		}
		return doc + startMarker + "\n" + section + endMarker + "\n", nil
	case i < 0 || j < i:
		return "", fmt.Errorf("the markers %s and %s are missing or out of order", startMarker, endMarker)
	}
	return doc[:i+len(startMarker)] + "\n" + section + doc[j:], nil
}
