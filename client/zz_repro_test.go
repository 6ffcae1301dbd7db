package client_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

func reproSecondConn(t *testing.T, pause time.Duration) {
	g := newGated()
	t0 := time.Now()
	joined := make(chan time.Duration, 2)
	s := startServer(t, core.Options{Handler: g, Store: core.NewMemoryStore(core.MemoryStoreOptions{}), OnConnect: func(core.ConnEvent) { joined <- time.Since(t0) }})
	defer func() {
		close(joined)
		for d := range joined {
			t.Logf("a connection joined at %v", d)
		}
	}()
	q := url.Values{"sessionId": {"x"}}
	a, _, err := websocket.DefaultDialer.Dial(s.url()+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	time.Sleep(pause)
	b, _, err := websocket.DefaultDialer.Dial(s.url()+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_ = a.WriteMessage(websocket.TextMessage, []byte(`{"id":"start","type":"message","content":"start"}`))
	g.feed(t, "partial ")
	close(g.gate)
	// A is served: read until its final message.
	_ = a.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		_, data, err := a.ReadMessage()
		if err != nil {
			t.Fatalf("first connection: %v", err)
		}
		if strings.Contains(string(data), `"state":"done"`) {
			break
		}
	}
	// A later message from A must reach B in any case.
	_ = a.WriteMessage(websocket.TextMessage, []byte(`{"id":"later","type":"message","content":"later"}`))
	var frames []string
	t.Logf("later sent at %v", time.Since(t0))
	_ = b.SetReadDeadline(time.Now().Add(8 * time.Second))
	for {
		_, data, err := b.ReadMessage()
		if err != nil {
			t.Fatalf("second connection: %v after %d frames:\n%s", err, len(frames), strings.Join(frames, "\n"))
		}
		frames = append(frames, string(data))
		if strings.Contains(string(data), `"id":"later"`) {
			t.Logf("later received at %v", time.Since(t0))
			break
		}
	}
	if !strings.Contains(strings.Join(frames, "\n"), `"state":"done"`) {
		t.Fatalf("second connection missed the stream's final message:\n%s", strings.Join(frames, "\n"))
	}
}

func TestReproSecondConnConcurrent(t *testing.T) { reproSecondConn(t, 0) }
func TestReproSecondConnPaused(t *testing.T)     { reproSecondConn(t, 20*time.Millisecond) }
