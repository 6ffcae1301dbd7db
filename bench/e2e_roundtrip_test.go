package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/core"
)

// e2eContent is the content of the messages the round-trip, throughput and fan-out
// benchmarks send: 100 bytes of ASCII, a short chat message.
var e2eContent = strings.Repeat("0123456789", 10)

// echoHandler answers every message with "Echo: <content>".
var echoHandler = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
})

var assistantRole = []byte(`"role":"assistant"`)

// modes are the hub configurations of the round-trip and throughput benchmarks:
// store=none is the stateless transport (replies go to the sender only); with a store every
// connection has its own session, so each message is stored, echoed to the sender as its
// acknowledgement, handled, and the reply stored and delivered.
var modes = []storeKind{"none", storeMemory, storeRedis}

func hubOptions(b *testing.B, kind storeKind, handler core.Handler) core.Options {
	opts := core.Options{Handler: handler} // heartbeats on, every other option at its default
	if kind != "none" {
		opts.Store = newStore(b, kind)
	}
	return opts
}

// BenchmarkRoundTrip measures the latency of one message: a gorilla/websocket client on
// loopback sends a 100-byte message and waits for the handler's reply ("Echo: ..."); one
// operation is one round trip, one at a time on one connection. It reports the median and
// 99th percentile (p50-µs, p99-µs) beside the mean (ns/op). Allocations are those of the
// whole process, client included.
func BenchmarkRoundTrip(b *testing.B) {
	for _, kind := range modes {
		b.Run("store="+string(kind), func(b *testing.B) {
			opts := hubOptions(b, kind, echoHandler)
			_, url := startServer(b, opts)
			if opts.Store != nil {
				url = withSession(url, core.NewID())
			}
			c := dial(b, url)
			frame := userFrame(e2eContent)
			buf := make([]byte, 0, 4096)
			roundTrip := func() error {
				_ = c.SetWriteDeadline(time.Now().Add(e2eTimeout))
				if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
					return err
				}
				_ = c.SetReadDeadline(time.Now().Add(e2eTimeout))
				for { // in session mode the sender's own message comes back first
					f, err := readFrame(c, &buf)
					if err != nil {
						return err
					}
					if bytes.Contains(f, assistantRole) {
						return nil
					}
				}
			}
			for range 100 { // warm up: pools, the connection's goroutines, the TCP window
				if err := roundTrip(); err != nil {
					b.Fatal(err)
				}
			}
			lat := make(latencies, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t := time.Now()
				if err := roundTrip(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			lat.report(b, "")
		})
	}
}

// throughputConns and throughputWindow shape BenchmarkThroughput100Conns: each connection
// keeps at most throughputWindow messages in flight, far below the server's send queue (256
// frames), so the benchmark measures throughput, not the slow-consumer policy.
const (
	throughputConns  = 100
	throughputWindow = 16
)

// BenchmarkThroughput100Conns measures messages per second through one hub with 100
// connections: each connection sends messages and reads their replies concurrently (a
// writer and a reader goroutine per connection, at most 16 messages in flight each). One
// operation is one message answered (one frame in, one reply out; with a store, plus the
// echo of the message to its sender). It reports msgs/s.
func BenchmarkThroughput100Conns(b *testing.B) {
	for _, kind := range modes {
		b.Run("store="+string(kind), func(b *testing.B) {
			opts := hubOptions(b, kind, echoHandler)
			_, url := startServer(b, opts)
			conns := dialMany(b, func(int) string {
				if opts.Store != nil {
					return withSession(url, core.NewID())
				}
				return url
			}, throughputConns, 16)
			frame := userFrame(e2eContent)
			run := func(total int) error {
				fe := newFirstErr()
				finished := make(chan struct{})
				var wg sync.WaitGroup
				for i, c := range conns {
					n := total / len(conns)
					if i < total%len(conns) {
						n++
					}
					if n == 0 {
						continue
					}
					window := make(chan struct{}, throughputWindow)
					wg.Add(2)
					go func() { // writer; owned: waited for below
						defer wg.Done()
						for range n {
							select {
							case window <- struct{}{}:
							case <-fe.ch:
								return
							}
							_ = c.SetWriteDeadline(time.Now().Add(e2eTimeout))
							if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
								fe.set(fmt.Errorf("write: %w", err))
								return
							}
						}
					}()
					go func() { // reader; owned: waited for below
						defer wg.Done()
						buf := make([]byte, 0, 4096)
						for got := 0; got < n; {
							_ = c.SetReadDeadline(time.Now().Add(e2eTimeout))
							f, err := readFrame(c, &buf)
							if err != nil {
								fe.set(fmt.Errorf("read: %w", err))
								return
							}
							if bytes.Contains(f, assistantRole) {
								got++
								<-window
							}
						}
					}()
				}
				watched := make(chan struct{})
				go func() { // owned: ends once finished is closed, waited for below
					defer close(watched)
					select {
					case <-fe.ch: // unblock the other goroutines at once
						for _, c := range conns {
							closeAbrupt(c)
						}
					case <-finished:
					}
				}()
				wg.Wait()
				close(finished)
				<-watched
				return fe.err
			}
			if err := run(10 * len(conns)); err != nil { // warm up
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := run(b.N); err != nil {
				b.Fatal(err)
			}
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
		})
	}
}
