package adaptertest

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gorilla/websocket"
)

// BenchMount serves hub through the adapter under test on a new loopback server and returns
// the ws:// URL of the chat endpoint. It registers the server's shutdown with b.Cleanup.
type BenchMount func(b *testing.B, hub *core.Hub) (endpoint string)

// BenchSizes are the message content sizes RunBenchmarks measures.
var BenchSizes = []int{64, 4096}

// RunBenchmarks measures round trips (a gorilla/websocket client sends one message and
// waits for the handler's reply) through mount, for each of BenchSizes, against a stateless
// hub whose handler answers "Echo: <content>" (heartbeats off).
//
// Beside ns/op it reports, with b.ReportAllocs, the allocations of the whole process (client
// included), and as server-allocs/op and server-B/op the server side alone: the same client
// loop is run again, untimed, against a minimal allocation-free WebSocket peer that answers
// with a recorded reply frame of the same size, and its allocations are subtracted.
func RunBenchmarks(b *testing.B, mount BenchMount) {
	for _, size := range BenchSizes {
		b.Run(fmt.Sprintf("RoundTrip/content=%dB", size), func(b *testing.B) {
			benchRoundTrip(b, mount, size)
		})
	}
}

var benchEcho = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
})

func benchRoundTrip(b *testing.B, mount BenchMount, size int) {
	hub := core.NewHub(core.Options{Handler: benchEcho, HeartbeatInterval: -1, MaxMessageSize: 1 << 20})
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = hub.Shutdown(ctx)
	})
	ep := mount(b, hub)
	frame := envelope.AppendMessage(nil, &core.Message{Type: core.TypeMessage, Content: strings.Repeat("x", size)})

	c := benchDial(b, ep, true)
	buf := make([]byte, 1<<20)
	// Warm up, and record a reply to replay from the baseline peer.
	var reply []byte
	for i := 0; i < 100; i++ {
		n, err := benchRoundTripOnce(c, frame, buf)
		if err != nil {
			b.Fatal(err)
		}
		reply = append(reply[:0], buf[:n]...)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := benchRoundTripOnce(c, frame, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	_ = c.Close()

	// The client alone, against a peer that allocates nothing per frame.
	peer := startRawPeer(b, reply)
	pc := benchDial(b, peer, false) // the raw peer sends no welcome
	for i := 0; i < 100; i++ {
		if _, err := benchRoundTripOnce(pc, frame, buf); err != nil {
			b.Fatal(err)
		}
	}
	var cBefore, cAfter runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&cBefore)
	for i := 0; i < b.N; i++ {
		if _, err := benchRoundTripOnce(pc, frame, buf); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&cAfter)
	_ = pc.Close()

	n := float64(b.N)
	total := float64(after.Mallocs - before.Mallocs)
	client := float64(cAfter.Mallocs - cBefore.Mallocs)
	totalB := float64(after.TotalAlloc - before.TotalAlloc)
	clientB := float64(cAfter.TotalAlloc - cBefore.TotalAlloc)
	b.ReportMetric(max(0, total-client)/n, "server-allocs/op")
	b.ReportMetric(max(0, totalB-clientB)/n, "server-B/op")
}

// benchDial connects to endpoint; welcome says whether the peer sends a welcome frame first
// (a chatwire hub does, the raw baseline peer does not).
func benchDial(b *testing.B, endpoint string, welcome bool) *websocket.Conn {
	b.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitTimeout, ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	c, resp, err := d.Dial(endpoint, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		b.Fatalf("dial %s: %v", endpoint, err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if welcome {
		ExpectWelcome(b, c)
	}
	return c
}

// benchRoundTripOnce writes frame and reads the next message into buf without allocating
// a buffer per message.
func benchRoundTripOnce(c *websocket.Conn, frame, buf []byte) (int, error) {
	if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
		return 0, err
	}
	_, r, err := c.NextReader()
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if n == len(buf) {
			return n, errors.New("reply larger than the read buffer")
		}
	}
}

// startRawPeer serves one WebSocket connection that answers every complete text or binary
// message with reply, allocating nothing per frame. It returns the ws:// URL and stops
// (waiting for its goroutine) at cleanup.
func startRawPeer(b *testing.B, reply []byte) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	out := appendServerFrame(nil, reply)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conn net.Conn
	wg.Add(1)
	go func() { // owned by the cleanup below, which closes its sockets and waits
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		conn = c
		mu.Unlock()
		defer c.Close()
		br := bufio.NewReaderSize(c, 64<<10)
		if err := rawHandshake(br, c); err != nil {
			return
		}
		var hdr [8]byte
		for {
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return
			}
			fin, op := hdr[0]&0x80 != 0, hdr[0]&0x0f
			n := int(hdr[1] & 0x7f)
			switch n {
			case 126:
				if _, err := io.ReadFull(br, hdr[:2]); err != nil {
					return
				}
				n = int(binary.BigEndian.Uint16(hdr[:2]))
			case 127:
				if _, err := io.ReadFull(br, hdr[:8]); err != nil {
					return
				}
				n = int(binary.BigEndian.Uint64(hdr[:8]))
			}
			if _, err := br.Discard(4 + n); err != nil { // mask key and payload
				return
			}
			if op == websocket.CloseMessage {
				return
			}
			if op < websocket.CloseMessage && fin {
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}
	}()
	b.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		if conn != nil {
			_ = conn.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

// rawHandshake reads an upgrade request from br and answers 101.
func rawHandshake(br *bufio.Reader, w io.Writer) error {
	tp := textproto.NewReader(br)
	if _, err := tp.ReadLine(); err != nil {
		return err
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(h.Get("Sec-Websocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	_, err = fmt.Fprintf(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(sum[:]))
	return err
}

// appendServerFrame appends p as one unmasked final text frame.
func appendServerFrame(dst, p []byte) []byte {
	dst = append(dst, 0x80|websocket.TextMessage)
	switch n := len(p); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}
