package main

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The implementations and sizes, in the order the report shows them.
var (
	implOrder = []string{"chatwire", "encoding_json", "goccy", "sonic", "memcpy"}
	sizeOrder = []string{"S", "M", "L"}
	opOrder   = []string{"Encode", "Decode"}
)

type key struct{ Op, Impl, Size string }

// stat is the median of each measurement of one benchmark over its runs.
type stat struct {
	NsOp, MBs, BOp, Allocs float64
	Runs                   int
}

type results struct {
	stats   map[key]stat
	skipped map[key]string // why a benchmark was skipped
	rounds  int            // the most runs of any benchmark
}

var benchLine = regexp.MustCompile(`^Benchmark(Encode|Decode)/impl=([^/\s]+)/size=([SML])(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
var skipLine = regexp.MustCompile(`^\s*--- SKIP: Benchmark(Encode|Decode)/impl=([^/\s]+)/size=([SML])`)

// parseResults reads `go test -bench` output and takes the median of every measurement.
func parseResults(out []byte) (*results, error) {
	samples := map[key][][4]float64{}
	res := &results{stats: map[key]stat{}, skipped: map[key]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lastSkip *key
	for sc.Scan() {
		line := sc.Text()
		if m := skipLine.FindStringSubmatch(line); m != nil {
			k := key{m[1], m[2], m[3]}
			res.skipped[k] = "skipped"
			lastSkip = &k
			continue
		}
		if lastSkip != nil && strings.HasPrefix(line, "    ") {
			// The reason, as t.Skip logs it: "    codec_test.go:12: reason".
			msg := strings.TrimSpace(line)
			if _, after, ok := strings.Cut(msg, ": "); ok {
				msg = after
			}
			res.skipped[*lastSkip] = msg
			lastSkip = nil
			continue
		}
		lastSkip = nil
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		k := key{m[1], m[2], m[3]}
		var s [4]float64
		s[0], _ = strconv.ParseFloat(m[4], 64)
		f := strings.Fields(m[5])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "MB/s":
				s[1] = v
			case "B/op":
				s[2] = v
			case "allocs/op":
				s[3] = v
			}
		}
		samples[k] = append(samples[k], s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("no codec benchmark results in the output")
	}
	for k, runs := range samples {
		var st stat
		st.Runs = len(runs)
		st.NsOp = median(runs, 0)
		st.MBs = median(runs, 1)
		st.BOp = median(runs, 2)
		st.Allocs = median(runs, 3)
		res.stats[k] = st
		res.rounds = max(res.rounds, len(runs))
	}
	return res, nil
}

func median(runs [][4]float64, i int) float64 {
	v := make([]float64, len(runs))
	for j, r := range runs {
		v[j] = r[i]
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// get returns the median stats of a benchmark and whether it ran.
func (r *results) get(op, impl, size string) (stat, bool) {
	s, ok := r.stats[key{op, impl, size}]
	return s, ok
}

// speedup returns how many times longer impl takes than chatwire, or 0 if either is missing.
func (r *results) speedup(op, impl, size string) float64 {
	c, ok1 := r.get(op, "chatwire", size)
	o, ok2 := r.get(op, impl, size)
	if !ok1 || !ok2 || c.NsOp == 0 {
		return 0
	}
	return o.NsOp / c.NsOp
}
