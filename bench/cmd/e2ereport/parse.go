package main

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results are the measurements of a benchmark run, by benchmark and unit.
type results struct {
	order   []string                        // benchmark names, in order of first appearance
	values  map[string]map[string][]float64 // name -> unit -> one value per run
	units   map[string][]string             // name -> units, in order of appearance
	skipped map[string]string               // name -> reason
}

// procSuffix is the -GOMAXPROCS suffix go test adds to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parseResults reads `go test -bench` output: lines "BenchmarkX/sub-2  N  v unit  v unit...",
// and "--- SKIP: BenchmarkX/sub" followed by the indented reason. Names lose the
// "Benchmark" prefix and the GOMAXPROCS suffix.
func parseResults(out []byte) (*results, error) {
	r := &results{values: map[string]map[string][]float64{}, units: map[string][]string{}, skipped: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	skipping := ""
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- SKIP: Benchmark"); ok {
			skipping = procSuffix.ReplaceAllString(strings.Fields(name)[0], "")
			r.skipped[skipping] = ""
			continue
		}
		if skipping != "" && strings.HasPrefix(line, "    ") {
			if r.skipped[skipping] == "" {
				reason := strings.TrimSpace(line)
				if _, after, ok := strings.Cut(reason, ": "); ok && strings.Contains(reason, ".go:") {
					reason = after // drop "file_test.go:123: "
				}
				r.skipped[skipping] = reason
			}
			continue
		}
		skipping = ""
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's name printed alone (its output follows), or noise
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		if r.values[name] == nil {
			r.order = append(r.order, name)
			r.values[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			unit := f[i+1]
			if _, ok := r.values[name][unit]; !ok {
				r.units[name] = append(r.units[name], unit)
			}
			r.values[name][unit] = append(r.values[name][unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.order) == 0 {
		return nil, fmt.Errorf("no benchmark results in the output")
	}
	return r, nil
}

// median returns the median of name's values in unit.
func (r *results) median(name, unit string) (float64, bool) {
	vs := r.values[name][unit]
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// runs returns how many values name has in unit.
func (r *results) runs(name, unit string) int { return len(r.values[name][unit]) }

// spread returns the smallest and largest of name's values in unit.
func (r *results) spread(name, unit string) (lo, hi float64) {
	vs := r.values[name][unit]
	if len(vs) == 0 {
		return 0, 0
	}
	return slices.Min(vs), slices.Max(vs)
}

// withPrefix returns the names that start with prefix, in order.
func (r *results) withPrefix(prefix string) []string {
	var out []string
	for _, n := range r.order {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

var connsParam = regexp.MustCompile(`/conns=(\d+)`)

// idleConns returns the connection count of the idle-memory runs (0 when there are none).
func (r *results) idleConns() int {
	for _, n := range r.withPrefix("IdleMemory/") {
		if m := connsParam.FindStringSubmatch(n); m != nil {
			c, _ := strconv.Atoi(m[1])
			return c
		}
	}
	return 0
}

var pprofTotal = regexp.MustCompile(`of ([0-9.]+)B total`)

// parsePprofTop reads `go tool pprof -top -unit=B` output and divides every site's flat
// bytes by conns.
func parsePprofTop(out []byte, conns int) (breakdown, error) {
	bd := breakdown{Conns: conns}
	if m := pprofTotal.FindSubmatch(out); m != nil {
		t, _ := strconv.ParseFloat(string(m[1]), 64)
		bd.Total = t / float64(conns)
	}
	rows := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "flat" && f[1] == "flat%" {
			rows = true
			continue
		}
		if !rows || len(f) < 6 || !strings.HasSuffix(f[0], "B") {
			continue
		}
		flat, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "B"), 64)
		if err != nil {
			return bd, fmt.Errorf("pprof line %q: %v", line, err)
		}
		if flat == 0 {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (inline)")
		bd.Sites = append(bd.Sites, site{Name: name, BConn: flat / float64(conns)})
	}
	if len(bd.Sites) == 0 {
		return bd, fmt.Errorf("no allocation sites in the pprof output")
	}
	return bd, nil
}
