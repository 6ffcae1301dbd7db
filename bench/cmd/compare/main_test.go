package main

import (
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the comparison's servers, as the command does.
func TestMain(m *testing.M) {
	if impl := os.Getenv("COMPARE_SERVE_IMPL"); impl != "" {
		if err := serve(impl, os.Getenv("COMPARE_SERVE_REDIS")); err != nil {
			os.Stderr.WriteString("compare server: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCompareShort runs every server once, briefly (the short mode CI runs): each must
// answer round trips, the session servers must replay 100 messages, and the report must
// hold every table and target.
func TestCompareShort(t *testing.T) {
	impls := allImpls
	redisAddr := ""
	if u := os.Getenv("REDIS_URL"); u != "" {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		redisAddr = pu.Host
	} else if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI needs redis-server or REDIS_URL for the Redis servers")
		}
		t.Log("no redis-server and no REDIS_URL: the Redis servers are left out")
		impls = nil
		for _, impl := range allImpls {
			if !usesRedis(impl) {
				impls = append(impls, impl)
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := run(config{Exe: exe, Impls: impls, Rounds: 1, Conns: []int{4}, Warmup: 100 * time.Millisecond,
		Window: 300 * time.Millisecond, Reconnects: 2, RedisAddr: redisAddr, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	med, _ := medians(recs)
	for _, impl := range impls {
		cells := sortedCells(med[impl])
		want := []string{"rt4"}
		if isSession(impl) {
			want = []string{"replay", "rt4"}
		}
		if strings.Join(cells, ",") != strings.Join(want, ",") {
			t.Errorf("%s measured %v, want %v", impl, cells, want)
		}
		if r := med[impl]["rt4"]; r.PerSec <= 0 || r.CPUusPerRT <= 0 {
			t.Errorf("%s: %+v", impl, r)
		}
		if usesRedis(impl) && med[impl]["rt4"].RedisPerMsg <= 0 {
			t.Errorf("%s: no Redis commands counted: %+v", impl, med[impl]["rt4"])
		}
	}
	body := render(recs, "test", []int{4})
	for _, s := range []string{"| chatwire-memory |", "| replay of 100 messages |", "| issue 14 target |", "memory store, 4 conns: round trips/s vs melody session server"} {
		if !strings.Contains(body, s) {
			t.Errorf("report lacks %q:\n%s", s, body)
		}
	}
}

func TestUpdateReadme(t *testing.T) {
	p := t.TempDir() + "/README.md"
	if err := os.WriteFile(p, []byte("a\n"+beginMarker+"\nold\n"+endMarker+"\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateReadme(p, "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := "a\n" + beginMarker + "\nnew\n" + endMarker + "\nb\n"; string(b) != want {
		t.Fatalf("got %q, want %q", b, want)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
