package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gorilla/websocket"
)

// fairnessTimeout bounds the cases below, which move thousands of frames (under -race on a
// shared machine).
const fairnessTimeout = 60 * time.Second

// fairnessCases hold the send-queue policy (Options.SendQueueSize): a fast member slows
// down instead of getting the readers that keep up closed, replays are not counted, a
// reader that does fall behind is told why (1008 with its reason), and so is a flooder.
func fairnessCases() []testCase {
	return []testCase{
		{"BurstClosesNoReaderThatKeepsUp", func(t *testing.T, mount Mount) {
			const n = 3000
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"burst"}}
			producer := dialTuned(t, ep, q, 0)
			reader := dialTuned(t, ep, q, 0)
			syncConn(t, producer)
			syncConn(t, reader)
			want := 2 * n // every message echoed to the session, and its reply
			got := make([]chan readResult, 2)
			for i, c := range []*websocket.Conn{producer, reader} {
				got[i] = make(chan readResult, 1)
				go func(c *websocket.Conn, out chan<- readResult) { out <- readEnvelopes(c, want, 0) }(c, got[i])
			}
			go func() {
				for i := range n {
					m := core.Message{Type: core.TypeMessage, Content: "burst " + strconv.Itoa(i)}
					if producer.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)) != nil {
						return
					}
				}
			}()
			for i, name := range []string{"producer", "reader"} {
				r := <-got[i]
				if r.err != nil || r.n != want {
					t.Fatalf("%s read %d of %d envelopes, then %v", name, r.n, want, r.err)
				}
			}
		}},
		{"ThrottledResumeIsNotCounted", func(t *testing.T, mount Mount) {
			const n = 1000
			store := core.NewMemoryStore(core.MemoryStoreOptions{MaxBytes: 256 << 20}) // 8 MB in one session
			ctx := context.Background()
			first := ""
			for i := range n {
				rec, err := store.Append(ctx, "resume", core.Message{ID: "m" + strconv.Itoa(i), Type: core.TypeMessage, Role: core.RoleUser, Content: strings.Repeat("x", 8000), Timestamp: 1}, n)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = rec.Message.ID
				}
			}
			// Limits far below the replay: replay frames do not count against them.
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: store, MaxStoredMessages: n, SendQueueSize: 16, SendQueueBytes: 8 << 10})
			c := dialTuned(t, ep, url.Values{"sessionId": {"resume"}, "lastMessageId": {first}}, 4096)
			// Live traffic while the replay is still being written: counted, and far below
			// the limits unless the replay counted too.
			other := dialTuned(t, ep, url.Values{"sessionId": {"resume"}}, 0)
			const live = 5
			for i := range live {
				m := msg("live " + strconv.Itoa(i))
				if err := other.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)); err != nil {
					t.Fatal(err)
				}
			}
			if r := readEnvelopes(other, 2*live, 0); r.err != nil {
				t.Fatalf("the live member: %v", r.err)
			}
			r := readEnvelopes(c, n-1+2*live, 100*time.Microsecond)
			if r.err != nil || r.n != n-1+2*live {
				t.Fatalf("read %d of %d replayed and live envelopes, then %v", r.n, n-1+2*live, r.err)
			}
			// Still open and live.
			m := msg("after")
			if err := c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)); err != nil {
				t.Fatal(err)
			}
			if r := readEnvelopes(c, 2, 0); r.err != nil {
				t.Fatalf("after the replay: %v", r.err)
			}
		}},
		{"ReaderThatFallsBehindGets1008", func(t *testing.T, mount Mount) {
			const n = 200
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{}), SendQueueSize: 16, SendQueueBytes: 64 << 10})
			q := url.Values{"sessionId": {"behind"}}
			producer := dialTuned(t, ep, q, 0)
			stuck := dialTuned(t, ep, q, 4096)
			syncConn(t, producer)
			syncConn(t, stuck)
			got := make(chan readResult, 1)
			go func() { got <- readEnvelopes(producer, 2*n, 0) }()
			big := strings.Repeat("y", 8<<10)
			for i := range n {
				m := core.Message{Type: core.TypeMessage, Content: big + strconv.Itoa(i)}
				if err := producer.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)); err != nil {
					t.Fatal(err)
				}
			}
			if r := <-got; r.err != nil || r.n != 2*n {
				t.Fatalf("the producer, which keeps up, read %d of %d envelopes, then %v", r.n, 2*n, r.err)
			}
			// Now the stuck reader reads: what was written, then the close frame.
			r := readEnvelopes(stuck, 4*n, 0)
			var ce *websocket.CloseError
			if !errors.As(r.err, &ce) || ce.Code != int(core.ClosePolicyViolation) || ce.Text != "slow consumer" {
				t.Fatalf("after %d envelopes: %v, want close 1008 \"slow consumer\"", r.n, r.err)
			}
		}},
		{"FlooderGets1008AfterItsErrors", func(t *testing.T, mount Mount) {
			const allowed, limited = 3, 10
			var mu sync.Mutex
			seen := map[string]int{}
			guard := func(ctx context.Context, r *core.Request) error {
				mu.Lock()
				seen[r.ConnID]++
				k := seen[r.ConnID]
				mu.Unlock()
				switch {
				case k <= allowed:
					return nil
				case k <= allowed+limited:
					return core.NewError(core.CodeRateLimited, "Rate limit exceeded")
				}
				return fmt.Errorf("flood: %w", core.ErrPolicyViolation)
			}
			_, ep := serve(t, mount, core.Options{Handler: echo, Guards: []core.Guard{guard}})
			for round := range 25 {
				c := dialTuned(t, ep, nil, 0)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { // floods without reading, as a flooder does
					defer wg.Done()
					for i := range 200 {
						m := msg("flood " + strconv.Itoa(i))
						if c.WriteMessage(websocket.TextMessage, envelope.AppendMessage(nil, &m)) != nil {
							return
						}
					}
				}()
				time.Sleep(20 * time.Millisecond)
				errs := 0
				var err error
				_ = c.SetReadDeadline(time.Now().Add(fairnessTimeout))
				for {
					var b []byte
					if _, b, err = c.ReadMessage(); err != nil {
						break
					}
					var m core.Message
					if envelope.Decode(b, &m) == nil && metaCode(m) == core.CodeRateLimited {
						errs++
					}
				}
				wg.Wait()
				_ = c.Close()
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != int(core.ClosePolicyViolation) || ce.Text == "" {
					t.Fatalf("round %d: after %d error envelopes: %v, want close 1008 with its reason", round, errs, err)
				}
				if errs != limited {
					t.Fatalf("round %d: %d of %d queued error envelopes arrived before the close frame", round, errs, limited)
				}
			}
		}},
	}
}

// dialTuned dials endpoint with a plain gorilla client; rcvbuf > 0 shrinks the socket's
// receive buffer, which throttles the link to what the client reads.
func dialTuned(t *testing.T, endpoint string, query url.Values, rcvbuf int) *websocket.Conn {
	t.Helper()
	u := endpoint
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	nd := &net.Dialer{}
	if rcvbuf > 0 {
		// Before connect, so that the advertised window is small from the start.
		nd.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	d := websocket.Dialer{HandshakeTimeout: waitTimeout, NetDialContext: nd.DialContext}
	c, resp, err := d.Dial(u, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// syncConn waits until the connection has joined its session (see Client.Sync).
func syncConn(t *testing.T, c *websocket.Conn) {
	t.Helper()
	cl := &Client{t: t, Conn: c}
	cl.Sync()
	for _, m := range cl.pending {
		if !isWelcome(m) {
			t.Fatalf("unexpected envelope before the sync answer: %+v", m)
		}
	}
}

type readResult struct {
	n   int
	err error
}

// readEnvelopes reads until it has want envelopes (heartbeats skipped) or an error,
// sleeping pause after every tenth frame when pause > 0.
func readEnvelopes(c *websocket.Conn, want int, pause time.Duration) readResult {
	var r readResult
	var frames atomic.Int64
	_ = c.SetReadDeadline(time.Now().Add(fairnessTimeout))
	for r.n < want {
		_, b, err := c.ReadMessage()
		if err != nil {
			r.err = err
			return r
		}
		if pause > 0 && frames.Add(1)%10 == 0 {
			time.Sleep(pause)
		}
		var m core.Message
		if err := envelope.Decode(b, &m); errors.Is(err, envelope.ErrHeartbeat) || (err == nil && isWelcome(m)) {
			continue
		} else if err != nil {
			r.err = err
			return r
		}
		r.n++
	}
	return r
}

// isWelcome reports whether m is the frame a server may send first on every connection.
func isWelcome(m core.Message) bool {
	return m.Type == core.TypeSystem && metaCode(m) == "WELCOME"
}
