package adapterkit

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// nopConn is a Conn that does nothing; ClosingSocket only wraps it.
type nopConn struct{ Conn }

// closer counts Close calls.
type closer struct{ closed int }

func (c *closer) Close() error { c.closed++; return nil }

// TestClosingSocket: Close closes the socket, not the wrapped connection; a net.Conn socket
// is exposed through NetConn (so the hub writes to it directly and may write inline), and
// any other closer is not (the hub then writes through the WebSocket library).
func TestClosingSocket(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := ClosingSocket(nopConn{}, a)
	nc, ok := c.(interface{ NetConn() net.Conn })
	if !ok || nc.NetConn() != a {
		t.Fatalf("ClosingSocket over a net.Conn: NetConn exposed %v, want the socket", ok)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_ = b.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("peer read after Close = %v, want EOF (the socket closed)", err)
	}

	var cl closer
	c = ClosingSocket(nopConn{}, &cl)
	if _, ok := c.(interface{ NetConn() net.Conn }); ok {
		t.Fatal("ClosingSocket over a plain io.Closer exposes NetConn")
	}
	if err := c.Close(); err != nil || cl.closed != 1 {
		t.Fatalf("Close = %v, socket closed %d times", err, cl.closed)
	}
}
