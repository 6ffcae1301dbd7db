package adaptertest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
)

func handshakeCases() []testCase {
	return []testCase{
		{"PlainRequestGets426", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo})
			resp, err := http.Get(HTTPURL(ep))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusUpgradeRequired {
				t.Fatalf("status = %d, want 426", resp.StatusCode)
			}
			if strings.TrimSpace(string(body)) != "Expected WebSocket upgrade" {
				t.Fatalf("body = %q", body)
			}
		}},
		{"OriginPolicy", func(t *testing.T, mount Mount) {
			h := newHub(t, core.Options{Handler: echo})
			same := mount(t, h, Config{})
			listed := mount(t, h, Config{AllowedOrigins: []string{"https://app.example.com"}})
			host := strings.TrimPrefix(same, "ws://")
			host = host[:strings.IndexByte(host, '/')]
			tests := []struct {
				name, endpoint, origin string
				want                   int // 101 for an upgrade
			}{
				{"no origin", same, "", 101},
				{"same host", same, "http://" + host, 101},
				{"cross site", same, "https://evil.example", 403},
				{"same host other port", same, "http://127.0.0.1:1", 403},
				{"null origin", same, "null", 403},
				{"allowlisted", listed, "https://app.example.com", 101},
				{"allowlist is exact", listed, "https://app.example.com.evil.io", 403},
				{"allowlist scheme matters", listed, "http://app.example.com", 403},
				{"allowlist replaces same host", listed, "http://" + host, 403},
				{"allowlist null", listed, "null", 403},
			}
			for _, tt := range tests {
				hdr := http.Header{}
				if tt.origin != "" {
					hdr.Set("Origin", tt.origin)
				}
				c, resp, err := DialRaw(tt.endpoint, nil, hdr)
				got := 0
				if resp != nil {
					got = resp.StatusCode
				}
				if c != nil {
					_ = c.Close()
				}
				if got != tt.want {
					t.Errorf("%s: status %d (err %v), want %d", tt.name, got, err, tt.want)
				}
			}
		}},
		{"InvalidQueryGets400", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: echo, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			for _, q := range []url.Values{
				{"sessionId": {"has space"}},
				{"sessionId": {"{tag}"}},
				{"sessionId": {strings.Repeat("a", core.MaxSessionIDLen+1)}},
				{"lastMessageId": {strings.Repeat("a", adapterkit.MaxLastMessageIDLen+1)}},
			} {
				c, resp, _ := DialRaw(ep, q, nil)
				if c != nil {
					_ = c.Close()
				}
				if resp == nil || resp.StatusCode != http.StatusBadRequest {
					t.Errorf("query %v: want 400, got %v", q, resp)
				}
			}
		}},
	}
}
