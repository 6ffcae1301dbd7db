package middleware_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/middleware"
	"github.com/gorilla/websocket"
)

// BenchmarkOtherClientLatency measures a well-behaved client's round trip (send a message,
// read the echo) over loopback through wshttp, with and without another client flooding the
// same hub as fast as it can write. The flooder's principal is limited to 10 messages a
// second, so its frames are answered with RATE_LIMITED; when the hub closes it (slow
// consumer or persistent flooding) it reconnects at once and goes on. The calm client has
// no principal and no limit. ns/op is the calm client's round trip; flood-msgs/op is how
// many frames the flooder sent per round trip, flood-conns/op how often it reconnected.
//
// The flooder runs in the benchmark's own process: at full speed it takes a whole core of a
// small machine by itself, which shows in the calm client's latency whatever the server does.
func BenchmarkOtherClientLatency(b *testing.B) {
	for _, bc := range []struct {
		name  string
		flood bool
		rate  int // flooder's frames per second; 0: as fast as it can
	}{
		{"quiet", false, 0},
		{"flood=1k/s", true, 1000},
		{"flood=10k/s", true, 10000},
		{"flood=max", true, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mw := middleware.RateLimit(middleware.RateLimitOptions{PerPrincipal: middleware.PerSecond(10)})
			hub := newHub(b, mw.Apply(core.Options{Handler: echoBot,
				Admit: middleware.Auth(middleware.AuthOptions{Verify: testVerifier, Optional: true})}))
			ep := mountHTTP(b, hub)
			calm, _, _, _ := dialStatus(b, ep, nil, nil)
			var sent, conns int64
			quit, flooded := make(chan struct{}), make(chan struct{})
			if bc.flood {
				go func() { // the flooder; owned by this sub-benchmark, which waits for it
					defer close(flooded)
					sent, conns = flood(ep, bc.rate, quit)
				}()
			} else {
				close(flooded)
			}
			msg := envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: "hello"})
			b.ResetTimer()
			for range b.N {
				if err := calm.WriteMessage(websocket.TextMessage, msg); err != nil {
					b.Fatal(err)
				}
				if m := readReply(b, calm); m.Content != "Echo: hello" {
					b.Fatalf("got %+v", m)
				}
			}
			b.StopTimer()
			close(quit)
			<-flooded
			b.ReportMetric(float64(sent)/float64(b.N), "flood-msgs/op")
			b.ReportMetric(float64(conns)/float64(b.N), "flood-conns/op")
		})
	}
}

// flood connects as alice and writes rate messages a second (0: as fast as it can),
// reconnecting whenever the server closes it, until quit is closed. It returns the frames
// sent and connections made.
func flood(ep string, rate int, quit <-chan struct{}) (sent, conns int64) {
	frame := envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: "spam"})
	var tick <-chan time.Time
	perTick := 1
	if rate > 0 {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		tick, perTick = t.C, max(rate/1000, 1)
	}
	d := websocket.Dialer{HandshakeTimeout: waitTimeout}
	for {
		select {
		case <-quit:
			return sent, conns
		default:
		}
		c, resp, err := d.Dial(ep, http.Header{"Authorization": {"Bearer alice-token"}})
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		conns++
		drained := make(chan struct{})
		go func() { // drains the error envelopes; ends when the connection does
			defer close(drained)
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	write:
		for {
			select {
			case <-quit:
				break write
			default:
			}
			if tick != nil {
				select {
				case <-tick:
				case <-quit:
					break write
				}
			}
			for range perTick {
				if c.WriteMessage(websocket.TextMessage, frame) != nil {
					break write
				}
				sent++
			}
		}
		_ = c.Close()
		<-drained
	}
}
