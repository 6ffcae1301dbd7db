package adaptertest

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/gorilla/websocket"
)

// waitTimeout bounds every wait in the suite; the cases finish far faster on loopback.
const waitTimeout = 5 * time.Second

// Client is a test WebSocket client: it dials the endpoint under test and reads envelopes.
type Client struct {
	t       testing.TB
	Conn    *websocket.Conn
	pending []core.Message // read by Sync before its marker, returned by Read first
	// Welcome is the welcome frame Dial read: the server's first frame on every
	// connection (PROTOCOL.md, "The welcome frame"). Read never returns it.
	Welcome envelope.Welcome
}

// syncType is the frame type Sync sends: not one of the six, so the server answers it with
// an error envelope that names it.
const syncType = "adaptertest_sync"

// DialJoined dials like Dial and then waits until the connection has joined its session,
// so that it receives every message sent to the session from then on (see Sync).
func DialJoined(t testing.TB, endpoint string, query url.Values, header http.Header) *Client {
	t.Helper()
	c := Dial(t, endpoint, query, header)
	c.Sync()
	return c
}

// Sync waits until the server reads this connection's frames, which it does only once the
// connection has joined its session: the 101 response alone does not mean that. It sends a
// frame of an invalid type and reads up to the error envelope that answers it; envelopes
// read on the way (a replay) are kept for Read.
func (c *Client) Sync() {
	c.t.Helper()
	c.SendRaw(`{"type":"` + syncType + `","content":""}`)
	for {
		m := c.readWire()
		if m.Type == core.TypeError && strings.Contains(m.Content, syncType) {
			return
		}
		c.pending = append(c.pending, m)
	}
}

// Dial connects to endpoint (a ws:// URL) with the given query parameters and reads the
// welcome frame (see ExpectWelcome), so Read returns what follows it. It fails the test
// when the handshake fails or the first frame is not a welcome; the connection is closed at
// test cleanup.
func Dial(t testing.TB, endpoint string, query url.Values, header http.Header) *Client {
	t.Helper()
	c, resp, err := DialRaw(endpoint, query, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", endpoint, err, status)
	}
	cl := &Client{t: t, Conn: c}
	t.Cleanup(func() { _ = c.Close() })
	cl.Welcome = ExpectWelcome(t, c)
	return cl
}

// ExpectWelcome reads the first frame of a freshly dialed connection and fails the test
// unless it is the welcome envelope: a system envelope with metadata
// {"code":"WELCOME","sessionId":…,"connectionId":…}, role system, a server-made id.
func ExpectWelcome(t testing.TB, c *websocket.Conn) envelope.Welcome {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read the welcome frame: %v", err)
	}
	var m core.Message
	if err := envelope.Decode(b, &m); err != nil {
		t.Fatalf("first frame %q is not an envelope: %v", b, err)
	}
	w, ok := envelope.WelcomeOf(&m)
	if !ok || m.Role != core.RoleSystem || m.ID == "" || m.Content != envelope.WelcomeContent || w.ConnectionID == "" {
		t.Fatalf("first frame %q is not the welcome envelope", b)
	}
	return w
}

// DialRaw dials without failing the test, for cases that expect a refusal.
func DialRaw(endpoint string, query url.Values, header http.Header) (*websocket.Conn, *http.Response, error) {
	u := endpoint
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	d := websocket.Dialer{HandshakeTimeout: waitTimeout}
	c, resp, err := d.Dial(u, header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return c, resp, err
}

// SendRaw writes one text frame.
func (c *Client) SendRaw(s string) {
	c.t.Helper()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(waitTimeout))
	if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Send writes m as one text frame.
func (c *Client) Send(m core.Message) {
	c.t.Helper()
	c.SendRaw(string(envelope.AppendMessage(nil, &m)))
}

// ReadFrame returns the next frame's bytes, heartbeats included.
func (c *Client) ReadFrame() ([]byte, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(waitTimeout))
	_, b, err := c.Conn.ReadMessage()
	return b, err
}

// Read returns the next envelope, skipping heartbeat frames. It fails the test on a
// read error or an undecodable frame.
func (c *Client) Read() core.Message {
	c.t.Helper()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m
	}
	return c.readWire()
}

func (c *Client) readWire() core.Message {
	c.t.Helper()
	for {
		b, err := c.ReadFrame()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		var m core.Message
		err = envelope.Decode(b, &m)
		if errors.Is(err, envelope.ErrHeartbeat) {
			continue
		}
		if err != nil {
			c.t.Fatalf("server sent an undecodable frame %q: %v", b, err)
		}
		return m
	}
}

// ReadN returns the next n envelopes.
func (c *Client) ReadN(n int) []core.Message {
	c.t.Helper()
	out := make([]core.Message, n)
	for i := range out {
		out[i] = c.Read()
	}
	return out
}

// ExpectClose reads until the connection closes and returns the close code (1006 when it
// dropped without a close frame). Envelopes read on the way are discarded.
func (c *Client) ExpectClose() core.CloseCode {
	c.t.Helper()
	for {
		_, err := c.ReadFrame()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return core.CloseCode(ce.Code)
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection not closed within %v", waitTimeout)
		}
		return core.CloseAbnormal
	}
}

// HTTPURL turns a ws:// endpoint into its http:// form.
func HTTPURL(endpoint string) string {
	return "http" + strings.TrimPrefix(endpoint, "ws")
}

// metaCode returns the "code" of an envelope's metadata ("" when absent).
func metaCode(m core.Message) core.ErrorCode {
	i := bytes.Index(m.Metadata, []byte(`"code":"`))
	if i < 0 {
		return ""
	}
	rest := m.Metadata[i+len(`"code":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return core.ErrorCode(rest[:j])
}

// eventually polls cond until it holds or the wait times out.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
