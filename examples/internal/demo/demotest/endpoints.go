package demotest

import (
	"context"
	"flag"
	"fmt"
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

// Replies are the replies Endpoints got to its message "hello from the endpoint test".
type Replies struct {
	// WebSocket is the reply over /chat: the echo bot's message, or the fake model's stored
	// final message.
	WebSocket core.Message
	// SSE is the reply's chunks over /api/chat.
	SSE []Chunk
}

// Endpoints checks the routes every example serves on base (http://host:port): the page,
// the browser client, a chat round trip over the WebSocket endpoint and one over the AI
// SDK's SSE endpoint (with resume and stop; see SSEEndpoints).
func Endpoints(t *testing.T, base string) Replies {
	t.Helper()
	Get(t, base+"/", http.StatusOK, "text/html", "chatwire")
	Get(t, base+"/chatwire.js", http.StatusOK, "javascript", "export ")
	return Replies{WebSocket: Chat(t, base, "hello from the endpoint test"), SSE: SSEEndpoints(t, base)}
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

// CheckFakeModel checks the fake model's replies to Endpoints' message on both transports:
// the text, the parts in order (reasoning, the roll_die call with its result, the source,
// the text) and, over SSE, the chunks in order (the tool input streamed in).
func CheckFakeModel(t *testing.T, r Replies) {
	t.Helper()
	const question = "hello from the endpoint test"
	text := strings.Join(demo.Text(question, demo.DieRoll(question), demo.DefaultWords), "")
	if r.WebSocket.Content != text {
		t.Fatalf("fake model reply %q, want %q", r.WebSocket.Content, text)
	}
	want := []string{
		"step-start",
		"reasoning " + strings.Join(demo.Reasoning(question), ""),
		fmt.Sprintf(`tool-roll_die %s output-available {"sides":6} {"result":%d}`, demo.RollDieCallID(r.WebSocket.ID), demo.DieRoll(question)),
		"step-start",
		fmt.Sprintf("source-url %s %s %s", demo.FakeSource.ID, demo.FakeSource.URL, demo.FakeSource.Title),
		"text " + text,
	}
	if got := Summary(FinalOf(t, r.WebSocket).Parts); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fake model parts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	CheckFakeModelChunks(t, r.SSE)
	for _, c := range r.SSE {
		if c.Type() == "tool-input-start" {
			if id, _ := r.SSE[0]["messageId"].(string); c["toolCallId"] != demo.RollDieCallID(id) || c["toolName"] != "roll_die" {
				t.Fatalf("tool-input-start %v in the reply %s", c, id)
			}
		}
	}
	if got := SSEText(r.SSE); got != text {
		t.Fatalf("fake model text over SSE %q, want %q", got, text)
	}
}

// CheckEcho checks the echo bot's replies to Endpoints' message on both transports.
func CheckEcho(t *testing.T, r Replies) {
	t.Helper()
	const want = "Echo: hello from the endpoint test"
	if r.WebSocket.Content != want {
		t.Fatalf("echo reply %q", r.WebSocket.Content)
	}
	if got := SSEText(r.SSE); got != want {
		t.Fatalf("echo reply over SSE %q (chunks %v)", got, r.SSE)
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
