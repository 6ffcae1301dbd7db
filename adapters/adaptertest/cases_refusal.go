package adaptertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
)

// RefusalContentType is the Content-Type of every refusal (see adapterkit.Refuse).
const RefusalContentType = "text/plain; charset=utf-8"

// refusal is what a client sees of a refused upgrade.
type refusal struct {
	status      int
	contentType string
	body        string
}

// upgradeRequest sends an upgrade request (without dialing a WebSocket client, so any Host
// can be named) and returns the response when it is not a 101.
func upgradeRequest(t *testing.T, endpoint, rawQuery, host string, header http.Header) refusal {
	t.Helper()
	u := HTTPURL(endpoint)
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Connection") == "" {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
	}
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if host != "" {
		req.Host = host
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return refusal{status: resp.StatusCode}
	}
	body, _ := io.ReadAll(resp.Body)
	return refusal{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(body)}
}

func refusalCases() []testCase {
	return []testCase{
		{"RefusalsAreIdentical", func(t *testing.T, mount Mount) {
			// Every refusal path answers the same way on every adapter: its status, the
			// plain-text content type and the one-line text followed by a newline.
			h := newHub(t, core.Options{Handler: echo, Store: core.NewMemoryStore(core.MemoryStoreOptions{}),
				Admit: func(ctx context.Context, r *core.AdmitRequest) (core.Admission, error) {
					switch r.Query.Get("admit") {
					case "no":
						return core.Admission{}, errors.New("not in the room")
					case "full":
						return core.Admission{}, &core.HandshakeError{Status: http.StatusTooManyRequests, Body: "Too many connections"}
					}
					return core.Admission{}, nil
				}})
			plain := mount(t, h, Config{})
			hosts := mount(t, h, Config{AllowedHosts: []string{"chat.example.com"}})
			origins := mount(t, h, Config{AllowedOrigins: []string{"https://app.example.com"}})
			authFails := mount(t, h, Config{Authenticate: func() (any, error) { return nil, errors.New("bad token") }})
			authStatus := mount(t, h, Config{Authenticate: func() (any, error) {
				return nil, &core.HandshakeError{Status: http.StatusPaymentRequired, Body: "Subscription expired"}
			}})
			origin := func(o string) http.Header { return http.Header{"Origin": {o}} }
			tests := []struct {
				name, endpoint, query, host string
				header                      http.Header
				status                      int
				body                        string
			}{
				{"not an upgrade", plain, "", "", http.Header{"Connection": {"keep-alive"}}, 426, "Expected WebSocket upgrade"},
				{"dns rebinding", hosts, "", "evil.io", origin("http://evil.io"), 403, "Host not allowed"},
				{"other host", hosts, "", "", nil, 403, "Host not allowed"},
				{"cross origin", plain, "", "", origin("https://evil.example"), 403, "Origin not allowed"},
				{"unlisted origin", origins, "", "", origin("https://evil.example"), 403, "Origin not allowed"},
				{"semicolon in query", plain, "sessionId=a;b", "", nil, 400, "Invalid query"},
				{"bad escape in query", plain, "sessionId=%zz", "", nil, 400, "Invalid query"},
				{"bad session id", plain, "sessionId=has+space", "", nil, 400, "Invalid sessionId"},
				{"long last id", plain, "lastMessageId=" + strings.Repeat("a", 257), "", nil, 400, "Invalid lastMessageId"},
				{"bad history", plain, "history=some", "", nil, 400, "Invalid history"},
				{"authenticate error", authFails, "", "", nil, 401, "Unauthorized"},
				{"authenticate status", authStatus, "", "", nil, 402, "Subscription expired"},
				{"admit error", plain, "admit=no", "", nil, 403, "Forbidden"},
				{"admit status", plain, "admit=full", "", nil, 429, "Too many connections"},
			}
			for _, tt := range tests {
				got := upgradeRequest(t, tt.endpoint, tt.query, tt.host, tt.header)
				want := refusal{tt.status, RefusalContentType, tt.body + "\n"}
				if got != want {
					t.Errorf("%s: got %d %q %q, want %d %q %q", tt.name, got.status, got.contentType, got.body, want.status, want.contentType, want.body)
				}
			}
			// The same-host default lets a rebinding page in (documented): AllowedHosts is
			// what stops it.
			if got := upgradeRequest(t, plain, "", "evil.io", origin("http://evil.io")); got.status != http.StatusSwitchingProtocols {
				t.Errorf("same-host default: got %d, want 101", got.status)
			}
			if got := upgradeRequest(t, hosts, "", "chat.example.com:443", origin("https://chat.example.com:443")); got.status != http.StatusSwitchingProtocols {
				t.Errorf("allowed host: got %d %q, want 101", got.status, got.body)
			}
		}},
		{"ShutdownRefusal", func(t *testing.T, mount Mount) {
			h, ep := serve(t, mount, core.Options{Handler: echo})
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			if err := h.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			got := upgradeRequest(t, ep, "", "", nil)
			want := refusal{http.StatusServiceUnavailable, RefusalContentType, "Server shutting down\n"}
			if got != want {
				t.Fatalf("after Shutdown: got %+v, want %+v", got, want)
			}
		}},
	}
}
