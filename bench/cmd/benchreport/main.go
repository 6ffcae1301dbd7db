// Command benchreport runs the codec comparison benchmarks of the bench module, takes the
// median of each measurement, and writes the results (a table, the targets with
// met/missed, and an SVG bar chart) into bench/README.md between the markers
//
//	<!-- codec-results:start -->
//	<!-- codec-results:end -->
//
// leaving the rest of the file alone. It also keeps the raw `go test` output, which
// benchstat reads, in results/codec.txt.
//
// Run it from the bench directory:
//
//	go run ./cmd/benchreport            # about a minute and a half on 2 cores
//	go run ./cmd/benchreport -rounds 10 -benchtime 500ms
//	go run ./cmd/benchreport -input results/codec.txt   # re-render without running
//
// It builds the test binary once and runs it -rounds times with -test.count 1, so that
// every implementation is measured in every round; a burst of load from another process
// then spreads over all of them instead of skewing one.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	var (
		rounds    = flag.Int("rounds", 8, "how many times to run every benchmark")
		benchtime = flag.String("benchtime", "300ms", "-test.benchtime for each run")
		input     = flag.String("input", "", "read this raw benchmark output instead of running the benchmarks")
		readme    = flag.String("readme", "README.md", "the README to update")
		raw       = flag.String("raw", filepath.Join("results", "codec.txt"), "where to keep the raw benchmark output")
		svg       = flag.String("svg", "codec-results.svg", "where to write the chart, relative to the README")
	)
	flag.Parse()
	if err := run(*rounds, *benchtime, *input, *readme, *raw, *svg); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// benchPattern selects the codec comparison (and nothing that other files add to the module).
const benchPattern = `^Benchmark(Encode|Decode)$`

func run(rounds int, benchtime, input, readme, raw, svg string) error {
	env := describeMachine()
	var out []byte
	if input != "" {
		b, err := os.ReadFile(input)
		if err != nil {
			return err
		}
		out = b
		env.Command = "(re-rendered from " + input + ")"
	} else {
		var err error
		if out, err = runBenchmarks(rounds, benchtime, &env); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(raw), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(raw, out, 0o644); err != nil {
			return err
		}
	}
	res, err := parseResults(out)
	if err != nil {
		return err
	}
	chart := renderSVG(res)
	if err := os.WriteFile(filepath.Join(filepath.Dir(readme), svg), []byte(chart), 0o644); err != nil {
		return err
	}
	section := renderMarkdown(res, env, svg, raw)
	return updateReadme(readme, section)
}

// runBenchmarks builds the test binary and runs it rounds times, echoing its output.
func runBenchmarks(rounds int, benchtime string, env *machine) ([]byte, error) {
	dir, err := os.MkdirTemp("", "benchreport")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building the benchmarks: %w", err)
	}
	args := []string{"-test.run", "^$", "-test.bench", benchPattern, "-test.benchmem",
		"-test.benchtime", benchtime, "-test.count", "1"}
	env.Command = fmt.Sprintf("go test -c -o bench.test . && for i in $(seq %d); do ./bench.test %s; done",
		rounds, shellJoin(args))
	env.Equivalent = fmt.Sprintf("go test -run '^$' -bench '%s' -benchmem -benchtime %s -count %d .",
		benchPattern, benchtime, rounds)
	env.LoadBefore = loadAverage()
	start := time.Now()
	var all bytes.Buffer
	for r := 1; r <= rounds; r++ {
		fmt.Fprintf(os.Stderr, "benchreport: round %d of %d\n", r, rounds)
		cmd := exec.Command(bin, args...)
		var buf bytes.Buffer
		cmd.Stdout = io.MultiWriter(&buf, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("round %d: %w", r, err)
		}
		if r == 1 {
			all.Write(buf.Bytes())
			continue
		}
		// Keep the header (goos, cpu...) once, so that benchstat reads one configuration.
		for _, line := range strings.SplitAfter(buf.String(), "\n") {
			if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "--- SKIP") ||
				strings.HasPrefix(line, "    ") {
				all.WriteString(line)
			}
		}
	}
	env.Duration = time.Since(start).Round(time.Second)
	env.LoadAfter = loadAverage()
	return all.Bytes(), nil
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|() ") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// machine describes where the benchmarks ran.
type machine struct {
	CPUs, CPUModel, GoVersion, OSArch, Date string
	Command, Equivalent                     string
	LoadBefore, LoadAfter                   string
	Duration                                time.Duration
}

func describeMachine() machine {
	m := machine{
		CPUs:     fmt.Sprint(runtime.NumCPU()),
		CPUModel: "unknown",
		OSArch:   runtime.GOOS + "/" + runtime.GOARCH,
		Date:     time.Now().UTC().Format("2006-01-02 15:04 MST"),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	} else {
		m.GoVersion = runtime.Version()
	}
	return m
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
	startMarker = "<!-- codec-results:start -->"
	endMarker   = "<!-- codec-results:end -->"
)

// updateReadme replaces the text between the markers, or appends a marked section.
func updateReadme(path, section string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(b)
	block := startMarker + "\n" + section + endMarker
	i, j := strings.Index(text, startMarker), strings.Index(text, endMarker)
	switch {
	case i >= 0 && j > i:
		text = text[:i] + block + text[j+len(endMarker):]
	case i >= 0 || j >= 0:
		return fmt.Errorf("%s has only one of the markers %s and %s", path, startMarker, endMarker)
	default:
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
