package bench

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/core"
)

// fanOutConns is the size of the session BenchmarkFanOut1000 delivers to.
const fanOutConns = 1000

// BenchmarkFanOut1000 measures delivery of one message to the 1,000 connections of one
// session: one of them sends a 100-byte message, the hub stores it and delivers it to all
// 1,000 (the sender included: its copy is the acknowledgement), and the operation ends when
// the last of them has read it. Fan-outs run one at a time. It reports the median and 99th
// percentile time to reach all 1,000 (p50-µs, p99-µs) and deliveries/s (1,000 × fan-outs /
// time). The hub has no handler, so nothing but the fan-out is measured; store=memory is
// the in-process store, store=redis (REDIS_URL) goes through Redis pub/sub.
func BenchmarkFanOut1000(b *testing.B) {
	for _, kind := range storeKinds {
		b.Run("store="+string(kind), func(b *testing.B) {
			store := newStore(b, kind)
			_, url := startServer(b, core.Options{Store: store})
			url = withSession(url, core.NewID())
			conns := dialMany(b, func(int) string { return url }, fanOutConns, 32)

			var remaining atomic.Int64
			reached := make(chan struct{}, 1)
			fe := newFirstErr()
			var stopping atomic.Bool
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Add(1)
				go func() { // reader; owned by the cleanup below, which closes c and waits
					defer wg.Done()
					buf := make([]byte, 0, 4096)
					for {
						if _, err := readFrame(c, &buf); err != nil {
							if !stopping.Load() {
								fe.set(fmt.Errorf("read: %w", err))
							}
							return
						}
						if remaining.Add(-1) == 0 {
							reached <- struct{}{}
						}
					}
				}()
			}
			b.Cleanup(func() {
				stopping.Store(true)
				for _, c := range conns {
					closeAbrupt(c)
				}
				wg.Wait()
			})

			sender := conns[0]
			frame := userFrame(e2eContent)
			timer := time.NewTimer(e2eTimeout)
			defer timer.Stop()
			fanOut := func() error {
				remaining.Store(fanOutConns)
				_ = sender.SetWriteDeadline(time.Now().Add(e2eTimeout))
				if err := sender.WriteMessage(websocket.TextMessage, frame); err != nil {
					return err
				}
				timer.Reset(e2eTimeout)
				select {
				case <-reached:
					return nil
				case <-fe.ch:
					return fe.err
				case <-timer.C:
					return errors.New("timed out waiting for every connection to receive the message")
				}
			}
			for range 10 { // warm up: every connection's writer has run once
				if err := fanOut(); err != nil {
					b.Fatal(err)
				}
			}
			lat := make(latencies, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				t := time.Now()
				if err := fanOut(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			el := time.Since(start)
			b.StopTimer()
			lat.report(b, "")
			b.ReportMetric(float64(b.N)*fanOutConns/el.Seconds(), "deliveries/s")
		})
	}
}
