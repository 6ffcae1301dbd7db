package main

import (
	"os"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/chatwire/chatwire/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkRoundTrip/store=none-2      	   78034	     14907 ns/op	        11.41 p50-µs	        41.32 p99-µs	    1429 B/op	      19 allocs/op
BenchmarkRoundTrip/store=none-2      	   80000	     15000 ns/op	        11.61 p50-µs	        40.00 p99-µs	    1429 B/op	      19 allocs/op
BenchmarkRoundTrip/store=none-2      	   80000	     16000 ns/op	        12.00 p50-µs	        45.00 p99-µs	    1429 B/op	      19 allocs/op
--- SKIP: BenchmarkRoundTrip/store=redis
    e2e_harness_test.go:222: REDIS_URL is not set: set it to run the Redis variant
BenchmarkFanOut1000/store=memory-2   	     100	  10174194 ns/op	     98288 deliveries/s	      9549 p50-µs	     15383 p99-µs	   97532 B/op	    4014 allocs/op
BenchmarkIdleMemory/adapter=wshttp/store=none/conns=10000-2         	       1	2296002839 ns/op	     22229 B/conn	         1.000 goroutines/conn	     14030 heap-B/conn	     22495 inuse-B/conn	     23710 rss-B/conn	      8199 stack-B/conn
BenchmarkIdleMemory/adapter=wshttp-detached/store=none/conns=10000-2         	       1	2296002839 ns/op	     11776 B/conn	         1.000 goroutines/conn	     7670 heap-B/conn	     13538 inuse-B/conn	     16671 rss-B/conn	      4106 stack-B/conn
PASS
ok  	github.com/chatwire/chatwire/bench	26.835s
`

func TestParseResults(t *testing.T) {
	r, err := parseResults([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.order, " "); got != "RoundTrip/store=none FanOut1000/store=memory IdleMemory/adapter=wshttp/store=none/conns=10000 IdleMemory/adapter=wshttp-detached/store=none/conns=10000" {
		t.Errorf("order: %s", got)
	}
	if m, ok := r.median("RoundTrip/store=none", "p50-µs"); !ok || m != 11.61 {
		t.Errorf("median p50 = %v, %v; want 11.61", m, ok)
	}
	if lo, hi := r.spread("RoundTrip/store=none", "ns/op"); lo != 14907 || hi != 16000 {
		t.Errorf("spread = %v–%v", lo, hi)
	}
	if reason := r.skipped["RoundTrip/store=redis"]; !strings.HasPrefix(reason, "REDIS_URL is not set") {
		t.Errorf("skip reason %q", reason)
	}
	if n := r.idleConns(); n != 10000 {
		t.Errorf("idleConns = %d", n)
	}
}

func TestMedianEven(t *testing.T) {
	r := &results{values: map[string]map[string][]float64{"x": {"u": {4, 1, 3, 2}}}}
	if m, _ := r.median("x", "u"); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
}

func TestParsePprofTop(t *testing.T) {
	out := `File: idleserver
Type: inuse_space
Showing nodes accounting for 132702334B, 97.70% of 135819800B total
Dropped 227 nodes (cum <= 679098B)
      flat  flat%   sum%        cum   cum%
 40941590B 30.14% 30.14%  40941590B 30.14%  bufio.NewReaderSize (inline)
  5156250B  3.80% 68.00%   5625000B  4.14%  github.com/chatwire/chatwire/core.newConnection
         0     0% 97.70%  40941590B 30.14%  bufio.NewReader (inline)
`
	bd, err := parsePprofTop([]byte(out), 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(bd.Sites) != 2 || bd.Sites[0].Name != "bufio.NewReaderSize" || bd.Sites[0].BConn != 4094.159 {
		t.Errorf("sites = %+v", bd.Sites)
	}
	if bd.Total != 13581.98 {
		t.Errorf("total = %v", bd.Total)
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# x\n\n<!-- codec-results:start -->\ncodec\n<!-- codec-results:end -->\n"
	got, err := replaceSection(doc, "one\n")
	if err != nil {
		t.Fatal(err)
	}
	want := doc + "\n" + startMarker + "\none\n" + endMarker + "\n"
	if got != want {
		t.Fatalf("append:\n%s\nwant:\n%s", got, want)
	}
	again, err := replaceSection(got+"tail\n", "two\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := doc + "\n" + startMarker + "\ntwo\n" + endMarker + "\ntail\n"; again != want {
		t.Fatalf("replace:\n%s\nwant:\n%s", again, want)
	}
	if _, err := replaceSection(endMarker+startMarker, "x"); err == nil {
		t.Error("markers out of order: no error")
	}
}

func TestRender(t *testing.T) {
	r, err := parseResults([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	md := renderMarkdown(r, machine{CPUs: "2", Command: "go test"}, []breakdown{{
		Variant: "adapter=wshttp/store=none", Conns: 10000, Total: 13582,
		Sites: []site{{Name: "bufio.NewReaderSize", BConn: 4094}},
	}})
	for _, want := range []string{
		"| none | 11.6 µs | 41.3 µs | 15.0 µs | 1,429 | 19 |",
		"| redis | skipped: REDIS_URL is not set",
		"| memory | 9.55 ms | 15.4 ms | 98.3 k |",
		"| wshttp, store=none | 22,229 | 14,030 | 8,199 |",
		"**missed** (+5,845 B)",
		"| wshttp-detached, store=none (*what-if*) | 11,776 |",
		"| met |",
		"| `bufio.NewReaderSize` | 4,094 | read buffers",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the rendered section lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// TestRawResults parses the committed raw output, when there is one.
func TestRawResults(t *testing.T) {
	b, err := os.ReadFile("testdata/e2e.txt")
	if os.IsNotExist(err) {
		t.Skip("no testdata/e2e.txt yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseResults(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.withPrefix("RoundTrip/")) == 0 || len(r.withPrefix("IdleMemory/")) == 0 {
		t.Errorf("testdata/e2e.txt lacks round-trip or idle-memory results: %v", r.order)
	}
}
