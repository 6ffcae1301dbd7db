package middleware_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log lines whose msg is msg.
func (b *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestLogging(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			logs := &logBuffer{}
			logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			mw := middleware.Chain(
				middleware.Logging(logger, middleware.LogOptions{PrincipalID: middleware.PrincipalID}),
				middleware.Hooks{Admit: middleware.Admit(
					middleware.Auth(middleware.AuthOptions{Verify: testVerifier, Sources: []middleware.Source{middleware.FromQuery("token")}}),
					middleware.Caps(middleware.CapOptions{PerPrincipal: 1}),
				)},
				middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerMinute(1)}),
			)
			admit, released := signalRelease(mw.Admit)
			opts := mw.Apply(core.Options{Handler: echoBot})
			opts.Admit = admit // mw.Admit, observed
			ep := ad.mount(t, newHub(t, opts))

			q := url.Values{"sessionId": {"s1"}, "token": {"alice-token"}}
			c, status, _, _ := dialStatus(t, ep, q, http.Header{"X-Request-Id": {"req-123"}})
			if c == nil {
				t.Fatalf("refused: %d", status)
			}
			send(t, c, chat("top secret content"))
			readReply(t, c)
			send(t, c, chat("top secret content"))
			if code := metaCode(readReply(t, c)); code != string(core.CodeRateLimited) {
				t.Fatalf("second message got %q, want RATE_LIMITED", code)
			}
			if _, status, _, _ := dialStatus(t, ep, q, http.Header{"X-Request-Id": {"req-456"}}); status != http.StatusTooManyRequests {
				t.Fatalf("second connection got %d, want 429", status)
			}
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline())
			waitChan(t, "the connection's end", released)

			want := []struct {
				msg   string
				attrs map[string]any
			}{
				{"chatwire: connected", map[string]any{"request_id": "req-123", "session": "s1", "principal": "alice", "query": "sessionId=s1&token=REDACTED", "replayed": 0.0}},
				{"chatwire: frame rejected", map[string]any{"request_id": "req-123", "session": "s1", "code": string(core.CodeRateLimited), "type": "message"}},
				{"chatwire: upgrade refused", map[string]any{"request_id": "req-456", "session": "s1", "status": 429.0, "query": "sessionId=s1&token=REDACTED"}},
				{"chatwire: disconnected", map[string]any{"request_id": "req-123", "session": "s1", "code": 1000.0}},
			}
			for _, w := range want {
				lines := logs.lines(t, w.msg)
				if len(lines) != 1 {
					t.Fatalf("%d %q lines, want 1:\n%s", len(lines), w.msg, logs)
				}
				for k, v := range w.attrs {
					if lines[0][k] != v {
						t.Errorf("%q: %s = %v, want %v", w.msg, k, lines[0][k], v)
					}
				}
			}
			if d, ok := logs.lines(t, "chatwire: disconnected")[0]["duration"].(float64); !ok || d <= 0 {
				t.Errorf("disconnect line has no duration")
			}
			for _, secret := range []string{"alice-token", "top secret"} {
				if strings.Contains(logs.String(), secret) {
					t.Fatalf("the log contains %q:\n%s", secret, logs)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	cases := []struct {
		in, want string
		keep     []string
	}{
		{"", "", nil},
		{"/chat?sessionId=s1&token=abc", "/chat?sessionId=s1&token=REDACTED", nil},
		{"/chat?access_token=abc&lastMessageId=m9&Token=x", "/chat?Token=REDACTED&access_token=REDACTED&lastMessageId=m9", nil},
		{"/chat?lang=en&token=abc", "/chat?lang=en&token=REDACTED", []string{"lang"}},
		{"/chat?a=1&a=2", "/chat?a=REDACTED&a=REDACTED", nil},
		{"wss://user:pw@example.com/chat?token=abc#frag", "wss://user:REDACTED@example.com/chat?token=REDACTED", nil},
		{"/chat?token=%zz", "/chat?REDACTED", nil},
		{"/chat?sessionId=a%26b", "/chat?sessionId=a%26b", nil},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := middleware.RedactURL(u, tc.keep...); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if u.String() != tc.in && !strings.Contains(tc.in, "#") {
			t.Errorf("RedactURL modified its argument: %q", u)
		}
	}
}
