package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitTimeout = 15 * time.Second

// screen is a goroutine-safe terminal: run writes to it while the test reads it.
type screen struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor polls the screen until it contains want.
func (s *screen) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the screen never showed %q; it shows:\n%s", want, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startExample serves what examples/nethttp -stream serves, on a loopback port.
func startExample(t *testing.T, model demo.FakeModel) string {
	t.Helper()
	hub := core.NewHub(core.Options{Handler: model, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		// A reply may still stream for a client that left: give it no time to finish.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = hub.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"
}

// toolLines are the lines the CLI prints for tool calls inside a streamed reply: after the
// reply's line, never inside it.
var toolLines = regexp.MustCompile(`(?m)^  \[tool (call|result)\] [^\n]*\n`)

func TestChat(t *testing.T) {
	const words = 200
	url := startExample(t, demo.FakeModel{WordDelay: 5 * time.Millisecond, Words: words})
	in, typing := io.Pipe()
	scr := &screen{}
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), in, scr, url, "cli-test") }()
	defer func() { _ = typing.Close() }()

	scr.waitFor(t, "[connected to session cli-test;")
	fmt.Fprintln(typing, "hello")
	scr.waitFor(t, "— done")
	out := scr.String()
	t.Logf("the screen:\n%s", out)
	full := strings.Join(demo.Text("hello", demo.DieRoll("hello"), words), "")
	text := toolLines.ReplaceAllString(out, "")
	if n := strings.Count(text, "assistant: "+full+"\n— done\n"); n != 1 {
		t.Fatalf("the streamed reply appears %d times; the screen shows:\n%s", n, out)
	}
	// The reply's text is one whole line, and the tool lines come right after it.
	if !regexp.MustCompile(`(?m)^assistant: ` + regexp.QuoteMeta(full) + `\n  \[tool call\] [^\n]*roll_die[^\n]*\n  \[tool result\] [^\n]*\n— done\n`).MatchString(out) {
		t.Fatalf("the streamed line is cut, or the tool lines are not on their own lines after it:\n%s", out)
	}
	if strings.Count(out, "  [tool call] ") != 1 || strings.Count(out, "  [tool result] ") != 1 {
		t.Fatalf("the tool call and result should show once each:\n%s", out)
	}
	if !strings.Contains(out, "\nyou: hello\n") || strings.Contains(out, "user: hello") {
		t.Fatalf("the user's own message should show once as \"you: hello\":\n%s", out)
	}

	fmt.Fprintln(typing, "/stop")
	scr.waitFor(t, "[no reply is streaming]")

	fmt.Fprintln(typing, "please stop")
	scr.waitFor(t, `assistant: You said "please stop". `)
	fmt.Fprintln(typing, "/stop")
	scr.waitFor(t, "— cancelled")
	out = scr.String()
	i := strings.LastIndex(out, "assistant: ")
	shown := strings.TrimSuffix(toolLines.ReplaceAllString(out[i+len("assistant: "):], ""), "\n— cancelled\n")
	answer := strings.Join(demo.Text("please stop", demo.DieRoll("please stop"), words), "")
	if len(shown) == 0 || len(shown) >= len(answer) || !strings.HasPrefix(answer, shown) {
		t.Fatalf("the cancelled reply should show a proper prefix of the answer, got %q", shown)
	}

	_ = typing.Close() // Ctrl-D: quits once nothing is under way
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("run did not return after the end of the input")
	}
}

// TestInterrupt: ending the context (Ctrl-C) returns at once, even mid-stream.
func TestInterrupt(t *testing.T) {
	url := startExample(t, demo.FakeModel{WordDelay: 50 * time.Millisecond, Words: 1000})
	in, typing := io.Pipe()
	defer func() { _ = typing.Close() }() // ends the input goroutine, which goleak checks
	scr := &screen{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, in, scr, url, "") }()
	fmt.Fprintln(typing, "talk for a long time")
	scr.waitFor(t, `assistant: You said "talk for a long time". `)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("run did not return after the interrupt")
	}
}

// TestUnreachable: a server that refuses the upgrade is reported at once.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	err := run(context.Background(), strings.NewReader(""), io.Discard, "ws"+strings.TrimPrefix(srv.URL, "http"), "")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("run = %v, want the 404 refusal", err)
	}
}
