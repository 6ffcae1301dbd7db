package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisProc is a redis-server process started by a test on a free loopback port. Its data
// lives in an append-only file with fsync on every write, so it survives a kill.
type redisProc struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	args []string
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
}

// lookBinary returns the path of a binary from PATH, skipping the test (failing in CI)
// when it is missing.
func lookBinary(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, name+" is not in PATH (install the redis-server package, e.g. apt-get install redis-server)")
	}
	return path
}

// freePort returns a loopback TCP port nothing listens on, whose port+10000 (the cluster
// bus port) is free too.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		return port
	}
	t.Fatal("no free port pair found")
	return 0
}

// startRedis starts redis-server with extra arguments and waits until it answers.
func startRedis(t *testing.T, extra ...string) *redisProc {
	t.Helper()
	p := &redisProc{t: t, bin: lookBinary(t, "redis-server"), port: freePort(t), dir: t.TempDir(), args: extra}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// start runs the server (again, after kill) on the same port and directory.
func (p *redisProc) start() {
	p.t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no",
	}, p.args...)
	p.out.Reset()
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("starting redis-server: %v", err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(p.cmd, p.done)
	p.waitReady()
}

// waitReady pings the server until it answers, for at most 10 s.
func (p *redisProc) waitReady() {
	p.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: p.addr(), MaxRetries: -1, DialerRetries: 1})
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("redis-server exited: %s", p.out.String())
		case <-ctx.Done():
			p.t.Fatalf("redis-server on %s did not answer within 10s: %v", p.addr(), err)
		case <-tick.C:
		}
	}
}

// kill stops the server with SIGKILL (no shutdown save) and waits for it to exit.
func (p *redisProc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// startCluster starts three cluster-enabled servers, joins them with redis-cli --cluster
// create (no replicas) and waits until every node reports cluster_state:ok.
func startCluster(t *testing.T) []string {
	t.Helper()
	cli := lookBinary(t, "redis-cli")
	var addrs []string
	for range 3 {
		p := startRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000")
		addrs = append(addrs, p.addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		err := waitClusterOK(ctx, c)
		_ = c.Close()
		if err != nil {
			t.Fatalf("cluster node %s: %v", addr, err)
		}
	}
	return addrs
}

func waitClusterOK(ctx context.Context, c *redis.Client) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && bytes.Contains([]byte(info), []byte("cluster_state:ok")) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster_state not ok: %v (last: %v %q)", ctx.Err(), err, info)
		case <-tick.C:
		}
	}
}
