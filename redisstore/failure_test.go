package redisstore_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// storeOps calls every Store method once on sid and returns their errors by name.
func storeOps(ctx context.Context, s storage.Store, sid string) map[string]error {
	_, errA := s.Append(ctx, sid, testMsg("a"), 0)
	_, errR := s.Read(ctx, sid, 0)
	_, _, errL := s.Lookup(ctx, sid, "a")
	cancel, errS := s.Subscribe(ctx, sid, func(storage.Notification) {})
	if cancel != nil {
		cancel()
	}
	_, errSS := s.StreamSnapshot(ctx, sid)
	_, errSF := s.StreamFinish(ctx, sid, "stream-1", testMsg("stream-1"), 0)
	return map[string]error{"Append": errA, "Read": errR, "Lookup": errL, "Subscribe": errS,
		"StreamAppend":   s.StreamAppend(ctx, sid, "stream-1", 1, "x", 1, time.Second),
		"StreamSnapshot": errSS,
		"StreamFinish":   errSF,
		"StreamCancel":   s.StreamCancel(ctx, sid, "stream-1"),
		"Publish":        s.Publish(ctx, sid, testMsg("p")),
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestUnreachableRedis(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	s := newStore(t, client, redisstore.Options{})
	ctx := context.Background()
	for op, err := range storeOps(ctx, s, "s") {
		var netErr *net.OpError
		if !errors.Is(err, storage.ErrStoreUnavailable) || !errors.As(err, &netErr) {
			t.Errorf("%s: err = %v; want ErrStoreUnavailable wrapping the *net.OpError", op, err)
		}
	}
	// Session ids are checked before any I/O: no unavailable error for a bad id.
	for op, err := range storeOps(ctx, s, "bad id") {
		if !errors.Is(err, core.ErrInvalidSessionID) || errors.Is(err, storage.ErrStoreUnavailable) {
			t.Errorf("%s with a bad id: err = %v; want only ErrInvalidSessionID", op, err)
		}
	}
}

// TestDeadlineStaysContextError uses a server that accepts connections and never answers.
func TestDeadlineStaysContextError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // hold every connection open, reading nothing back, until the listener closes
		defer wg.Done()
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	// go-redis applies context deadlines to network I/O only with ContextTimeoutEnabled.
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1,
		Protocol: 2, DisableIdentity: true, ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	s := newStore(t, client, redisstore.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for op, err := range storeOps(ctx, s, "s") {
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, storage.ErrStoreUnavailable) {
			t.Errorf("%s past its deadline: err = %v; want context.DeadlineExceeded, not unavailable", op, err)
		}
	}
}

// TestResyncAfterReconnectMiniredis stops and restarts miniredis (which keeps its data).
func TestResyncAfterReconnectMiniredis(t *testing.T) {
	ctx := context.Background()
	mr, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{})
	n := newNotes()
	cancel, err := s.Subscribe(ctx, "s", n.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if _, err := s.Append(ctx, "s", testMsg("1"), 0); err != nil {
		t.Fatal(err)
	}
	n.waitFor(t, "seq 1", hasSeq(1))
	mr.Close()
	if _, err := s.Append(ctx, "s", testMsg("2"), 0); !errors.Is(err, storage.ErrStoreUnavailable) {
		t.Fatalf("Append while Redis is down: err = %v, want ErrStoreUnavailable", err)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	resync := n.waitFor(t, "a Resync after the restart", isResync)
	rec, err := s.Append(ctx, "s", testMsg("2"), 0)
	if err != nil || rec.Seq != 2 {
		t.Fatalf("Append after restart = seq %d, %v; want seq 2", rec.Seq, err)
	}
	if i := n.waitFor(t, "seq 2", hasSeq(2)); i < resync {
		t.Fatalf("seq 2 (index %d) arrived before the Resync (index %d)", i, resync)
	}
}

// proxy forwards TCP connections to a backend; freeze makes every current connection
// silently swallow traffic in both directions, like a half-open connection. With a delay
// (newLatencyProxy) it holds every chunk of the backend's replies back by delay, as a
// distant Redis would: the time a sequence of calls takes, divided by delay, is then the
// number of round trips it makes.
type proxy struct {
	ln      net.Listener
	backend string
	delay   time.Duration
	mu      sync.Mutex
	frozen  map[net.Conn]bool
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newProxy(t *testing.T, backend string) *proxy { return newLatencyProxy(t, backend, 0) }

func newLatencyProxy(t *testing.T, backend string, delay time.Duration) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, delay: delay, frozen: make(map[net.Conn]bool)}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(b, c, c)
		if p.delay > 0 {
			go p.delayed(b, c)
		} else {
			go p.pipe(c, b, c)
		}
	}
}

func (p *proxy) pipe(dst, src, client net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			_ = dst.Close()
			return
		}
		p.mu.Lock()
		frozen := p.frozen[client]
		p.mu.Unlock()
		if !frozen {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

// delayed copies from src to dst, each chunk p.delay after it was read, in order.
func (p *proxy) delayed(src, dst net.Conn) {
	defer p.wg.Done()
	type chunk struct {
		at time.Time
		b  []byte
	}
	ch := make(chan chunk, 1024)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { _ = dst.Close() }()
		for c := range ch {
			time.Sleep(time.Until(c.at.Add(p.delay)))
			if _, err := dst.Write(c.b); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			ch <- chunk{time.Now(), append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			close(ch)
			return
		}
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		p.frozen[c] = true
	}
}

// TestHalfOpenConnectionIsReplaced freezes the subscriber's pub/sub connection: the health
// pings go unanswered, the Store replaces the connection and sends Resync.
func TestHalfOpenConnectionIsReplaced(t *testing.T) {
	ctx := context.Background()
	mr, direct := newMiniredis(t)
	px := newProxy(t, mr.Addr())
	viaProxy := redis.NewClient(&redis.Options{Addr: px.ln.Addr().String()})
	t.Cleanup(func() { _ = viaProxy.Close() })
	sub := newStore(t, viaProxy, redisstore.Options{PingInterval: 100 * time.Millisecond})
	pub := newStore(t, direct, redisstore.Options{})
	n := newNotes()
	cancel, err := sub.Subscribe(ctx, "s", n.fn)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if _, err := pub.Append(ctx, "s", testMsg("1"), 0); err != nil {
		t.Fatal(err)
	}
	n.waitFor(t, "seq 1", hasSeq(1))
	px.freeze()
	if _, err := pub.Append(ctx, "s", testMsg("2"), 0); err != nil { // lost in the frozen connection
		t.Fatal(err)
	}
	resync := n.waitFor(t, "a Resync after the connection was replaced", isResync)
	if _, err := pub.Append(ctx, "s", testMsg("3"), 0); err != nil {
		t.Fatal(err)
	}
	if i := n.waitFor(t, "seq 3 on the new connection", hasSeq(3)); i < resync {
		t.Fatalf("seq 3 arrived before the Resync")
	}
	for _, x := range n.snapshot() {
		if !x.Resync && x.Record.Seq == 2 {
			t.Fatalf("seq 2 was delivered through a frozen connection")
		}
	}
}
