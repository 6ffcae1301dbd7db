// Command idleexample measures what an idle chat connection costs a shipped example as a
// user runs it: it starts the example's binary with its defaults (only -addr set to a free
// loopback port), opens -conns WebSocket connections to /chat (no session id: each gets a
// fresh session, as a new visitor does), waits until they have been idle for -idle, and
// reports the growth of the server process's resident set (VmRSS, /proc/<pid>/status) per
// connection. Each count runs on a fresh server process.
//
//	go build -o /tmp/nethttp ../examples/nethttp && go run ./cmd/idleexample -exe /tmp/nethttp
//
// The clients live in this process, one reading goroutine each (gorilla answers the
// server's pings); the file-descriptor limit is raised to its hard limit for both.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	exe := flag.String("exe", "", "the example's binary")
	connsFlag := flag.String("conns", "5000,10000", "connection counts, comma-separated")
	idle := flag.Duration("idle", 3*time.Second, "how long the connections stay idle before the reading")
	flag.Parse()
	if *exe == "" {
		fatal(errors.New("-exe is required"))
	}
	raiseFDLimit()
	for f := range strings.SplitSeq(*connsFlag, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			fatal(err)
		}
		per, total, err := measure(*exe, n, *idle)
		if err != nil {
			fatal(err)
		}
		fmt.Printf("%s: %d idle connections: RSS +%.1f MiB, %.0f B (%.1f KiB) per connection\n", *exe, n, float64(total)/(1<<20), per, per/1024)
	}
}

func measure(exe string, n int, idle time.Duration) (perConn float64, total int64, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(exe, "-addr", addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving on") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		return 0, 0, errors.New("the example did not start")
	}
	time.Sleep(500 * time.Millisecond)
	before, err := rss(cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 64)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
			c, _, err := d.DialContext(context.Background(), "ws://"+addr+"/chat", nil)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			conns[i] = c
			go func() { // reads (and so answers pings) until closed
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	time.Sleep(idle)
	after, err := rss(cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	total = after - before
	return float64(total) / float64(n), total, nil
}

// rss returns VmRSS of pid in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func raiseFDLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "idleexample:", err)
	os.Exit(1)
}
