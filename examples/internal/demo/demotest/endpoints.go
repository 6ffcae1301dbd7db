package demotest

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
)

// Timeout bounds each check.
const Timeout = 10 * time.Second

// Endpoints checks the routes every example serves on base (http://host:port): the page,
// the browser client and a chat round trip over the WebSocket endpoint. It returns the
// reply to the message it sent (the echo bot's message, or the fake model's stored final
// message).
func Endpoints(t *testing.T, base string) core.Message {
	t.Helper()
	Get(t, base+"/", http.StatusOK, "text/html", "chatwire")
	Get(t, base+"/chatwire.js", http.StatusOK, "javascript", "export ")
	return Chat(t, base, "hello from the endpoint test")
}

// Get fetches url and checks the status, that the Content-Type contains contentType and the
// body contains body. It returns the body.
func Get(t *testing.T, url string, status int, contentType, body string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.StatusCode != status || !strings.Contains(res.Header.Get("Content-Type"), contentType) || !strings.Contains(string(b), body) {
		t.Fatalf("GET %s: %d %q (%d bytes), want %d, a %s containing %q", url, res.StatusCode, res.Header.Get("Content-Type"), len(b), status, contentType, body)
	}
	return string(b)
}

// Chat connects to base's /chat with the Go client, sends text on a new session and
// returns the assistant's reply: a message, or the final message of a streamed reply.
func Chat(t *testing.T, base, text string) core.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/chat", client.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatalf("dial %s/chat: %v", base, err)
	}
	defer c.Close()
	if _, err := c.SendText(ctx, text); err != nil {
		t.Fatalf("send: %v", err)
	}
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("client stopped: %v", c.Err())
			}
			switch {
			case ev.Kind == client.EventStreamEnd:
				return ev.Message
			case ev.Kind == client.EventMessage && ev.Message.Type == core.TypeMessage && ev.Message.Role == core.RoleAssistant:
				return ev.Message
			case ev.Kind == client.EventError:
				t.Fatalf("server error: %v", ev.Err)
			}
		case <-ctx.Done():
			t.Fatalf("no reply to %q from %s/chat", text, base)
		}
	}
}

// Flags parses args as an example's command line would.
func Flags(t *testing.T, args ...string) *demo.Flags {
	t.Helper()
	set := flag.NewFlagSet("example", flag.ContinueOnError)
	f := demo.RegisterFlags(set)
	if err := set.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

// StreamArgs are the flags that make an example answer with a fast fake model.
var StreamArgs = []string{"-stream", "-word-delay", "1ms"}

// CheckFakeModelReply checks a reply of the fake model to Endpoints' message.
func CheckFakeModelReply(t *testing.T, m core.Message) {
	t.Helper()
	if !strings.HasPrefix(m.Content, `You said "hello from the endpoint test"`) {
		t.Fatalf("fake model reply %q", m.Content)
	}
}

// CheckEchoReply checks the echo bot's reply to Endpoints' message.
func CheckEchoReply(t *testing.T, m core.Message) {
	t.Helper()
	if m.Content != "Echo: hello from the endpoint test" {
		t.Fatalf("echo reply %q", m.Content)
	}
}

// ShutdownOnCleanup shuts hub down when the test ends.
func ShutdownOnCleanup(t *testing.T, hub *core.Hub) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
	})
}
