package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Record is one measured cell of one round, one JSON line of the results file.
type Record struct {
	Round int    `json:"round"`
	Impl  string `json:"impl"`
	Cell  string `json:"cell"` // "rt50", "rt500", … or "replay"

	PerSec       float64 `json:"per_sec,omitempty"`       // round trips per second
	CPUusPerRT   float64 `json:"cpu_us_per_rt,omitempty"` // server CPU per round trip
	RedisPerMsg  float64 `json:"redis_cmds_per_msg,omitempty"`
	RedisCPUus   float64 `json:"redis_cpu_us_per_msg,omitempty"`
	ReplayMS     float64 `json:"replay_ms,omitempty"` // median time to the last replayed message
	RedisPerConn float64 `json:"redis_cmds_per_reconnect,omitempty"`
}

// config is one comparison run.
type config struct {
	Exe        string   // the binary started as each server (with COMPARE_SERVE_IMPL set)
	Impls      []string // implementations, run interleaved
	Rounds     int
	Conns      []int
	Warmup     time.Duration
	Window     time.Duration
	Reconnects int
	RedisAddr  string // a Redis to use; empty starts redis-server when a Redis impl runs
	ProfileDir string // when set, a CPU profile of the server during each window goes here
	Log        io.Writer
}

// allImpls lists every implementation, in the order of the tables.
var allImpls = []string{
	"chatwire-stateless", "melody-stateless", "gorilla-stateless",
	"chatwire-memory", "melody-session", "centrifuge-memory",
	"chatwire-redis", "centrifuge-redis",
}

func usesRedis(impl string) bool { return strings.HasSuffix(impl, "-redis") }

// run runs the comparison and returns every record. Each round runs every implementation
// once, in an order rotated by one per round, each in a fresh server process.
func run(cfg config) ([]Record, error) {
	var rdb *redis.Client
	needRedis := false
	for _, impl := range cfg.Impls {
		needRedis = needRedis || usesRedis(impl)
	}
	if needRedis {
		addr := cfg.RedisAddr
		if addr == "" {
			a, stop, err := startRedis()
			if err != nil {
				return nil, err
			}
			defer stop()
			addr = a
		}
		cfg.RedisAddr = addr
		rdb = redis.NewClient(&redis.Options{Addr: addr})
		defer func() { _ = rdb.Close() }()
	}
	var out []Record
	for round := range cfg.Rounds {
		n := len(cfg.Impls)
		for k := range n {
			impl := cfg.Impls[(k+round)%n]
			recs, err := runImpl(cfg, rdb, round, impl)
			if err != nil {
				return out, fmt.Errorf("round %d, %s: %w", round+1, impl, err)
			}
			out = append(out, recs...)
		}
	}
	return out, nil
}

func runImpl(cfg config, rdb *redis.Client, round int, impl string) ([]Record, error) {
	if rdb != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := rdb.FlushAll(ctx).Err()
		cancel()
		if err != nil {
			return nil, err
		}
	}
	addr, pid, stop, err := startServer(cfg.Exe, impl, cfg.RedisAddr)
	if err != nil {
		return nil, err
	}
	defer stop()
	snap := func() snapshot {
		cpu, _ := processCPU(pid)
		s := snapshot{cpuMS: cpu}
		if usesRedis(impl) {
			s.redis = readRedis(rdb)
		}
		return s
	}
	var recs []Record
	for _, conns := range cfg.Conns {
		var profile func(time.Duration) error
		if cfg.ProfileDir != "" {
			path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("%s-rt%d-round%d.pprof", impl, conns, round+1))
			profile = func(d time.Duration) error { return fetchProfile(addr, d, path) }
		}
		r, err := runRoundTrips(addr, impl, conns, cfg.Warmup, cfg.Window, snap, profile)
		if err != nil {
			return nil, fmt.Errorf("%d conns: %w", conns, err)
		}
		rec := Record{Round: round + 1, Impl: impl, Cell: "rt" + strconv.Itoa(conns), PerSec: r.PerSec, CPUusPerRT: r.CPUms * 1000 / float64(r.RoundTrips)}
		if usesRedis(impl) {
			msgs := float64(2 * r.RoundTrips) // the message and its reply are stored
			rec.RedisPerMsg = float64(r.Redis.Commands) / msgs
			rec.RedisCPUus = r.Redis.CPUms * 1000 / msgs
		}
		fmt.Fprintf(cfg.Log, "round %d %-20s %5d conns: %8.0f rt/s, %6.1f µs CPU/rt", round+1, impl, conns, rec.PerSec, rec.CPUusPerRT)
		if usesRedis(impl) {
			fmt.Fprintf(cfg.Log, ", %.2f Redis cmds/msg, %.1f µs Redis CPU/msg", rec.RedisPerMsg, rec.RedisCPUus)
		}
		fmt.Fprintln(cfg.Log)
		recs = append(recs, rec)
	}
	if isSession(impl) && cfg.Reconnects > 0 {
		r, err := runReplay(addr, impl, cfg.Reconnects, snap)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		rec := Record{Round: round + 1, Impl: impl, Cell: "replay", ReplayMS: r.MedianMS}
		if usesRedis(impl) {
			rec.RedisPerConn = r.RedisPerRec
		}
		fmt.Fprintf(cfg.Log, "round %d %-20s replay of %d: %.2f ms to the last (median of %d)", round+1, impl, historySize, r.MedianMS, r.Reconnects)
		if usesRedis(impl) {
			fmt.Fprintf(cfg.Log, ", %.1f Redis cmds/reconnect", r.RedisPerRec)
		}
		fmt.Fprintln(cfg.Log)
		recs = append(recs, rec)
	}
	return recs, nil
}

// fetchProfile saves a CPU profile of the server over d.
func fetchProfile(addr string, d time.Duration, path string) error {
	secs := max(1, int(d/time.Second))
	resp, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs))
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// startServer starts cfg.Exe as the server of impl and waits for its address.
func startServer(exe, impl, redisAddr string) (addr string, pid int, stop func(), err error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "COMPARE_SERVE_IMPL="+impl, "COMPARE_SERVE_REDIS="+redisAddr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				line <- a
			}
		}
		close(line)
	}()
	select {
	case a, ok := <-line:
		if !ok {
			stop()
			return "", 0, nil, fmt.Errorf("server %s exited before listening", impl)
		}
		return a, cmd.Process.Pid, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", 0, nil, fmt.Errorf("server %s did not start", impl)
	}
}

// startRedis starts a redis-server without persistence on a free loopback port.
func startRedis() (string, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("redis-server not found (install it, or pass -redis host:port)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer func() { _ = rdb.Close() }()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr, stop, nil
		}
		if i == 50 {
			stop()
			return "", nil, fmt.Errorf("redis-server did not answer: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeRecords writes records as JSON lines.
func writeRecords(path string, recs []Record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			_ = f.Close()
			return err
		}
	}
	return f.Close()
}

func readRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var recs []Record
	dec := json.NewDecoder(f)
	for {
		var r Record
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			return recs, nil
		} else if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
}
