package adapterkit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
)

func TestOriginAllowed(t *testing.T) {
	tests := []struct {
		name, origin, host string
		allowed            []string
		want               bool
	}{
		{"no origin header", "", "example.com", nil, true},
		{"same host", "https://example.com", "example.com", nil, true},
		{"same host with port", "http://localhost:8080", "localhost:8080", nil, true},
		{"host case-insensitive", "https://EXAMPLE.com", "example.com", nil, true},
		{"other port", "http://localhost:9090", "localhost:8080", nil, false},
		{"cross site", "https://evil.io", "example.com", nil, false},
		{"look-alike suffix", "https://example.com.evil.io", "example.com", nil, false},
		{"null", "null", "example.com", nil, false},
		{"non-http scheme", "file://example.com", "example.com", nil, false},
		{"garbage", "::::", "example.com", nil, false},
		{"allowlisted", "https://app.example.com", "api.example.com", []string{"https://app.example.com"}, true},
		{"allowlist case", "https://APP.example.com", "api.example.com", []string{"https://app.example.com"}, true},
		{"allowlist look-alike", "https://app.example.com.evil.io", "api.example.com", []string{"https://app.example.com"}, false},
		{"allowlist scheme", "http://app.example.com", "api.example.com", []string{"https://app.example.com"}, false},
		{"allowlist excludes same host", "https://api.example.com", "api.example.com", []string{"https://app.example.com"}, false},
		{"allowlist null not listed", "null", "x", []string{"https://app.example.com"}, false},
		{"allowlist null listed", "null", "x", []string{"null"}, true},
		{"wildcard", "https://anything.io", "x", []string{"*"}, true},
	}
	for _, tt := range tests {
		if got := OriginAllowed(tt.origin, tt.host, tt.allowed); got != tt.want {
			t.Errorf("%s: OriginAllowed(%q, %q, %v) = %v, want %v", tt.name, tt.origin, tt.host, tt.allowed, got, tt.want)
		}
	}
}

func TestCheckHandshake(t *testing.T) {
	ok := Handshake{Host: "h", Upgrade: true, RawQuery: "sessionId=abc&lastMessageId=m-1&epoch=e-7"}
	info, q, err := CheckHandshake(ok, Policy{})
	if err != nil || info.SessionID != "abc" || info.LastMessageID != "m-1" || info.Epoch != "e-7" || q.Get("sessionId") != "abc" {
		t.Fatalf("got %+v, %v", info, err)
	}
	evil := Handshake{Host: "evil.io", Origin: "http://evil.io", Upgrade: true}
	if _, _, err := CheckHandshake(evil, Policy{}); err != nil {
		t.Fatalf("same-host default refused %v", err)
	}
	tests := []struct {
		name   string
		hs     Handshake
		policy Policy
		status int
		body   string
	}{
		{"not an upgrade", Handshake{Host: "h"}, Policy{}, http.StatusUpgradeRequired, "Expected WebSocket upgrade"},
		{"bad origin", Handshake{Host: "h", Upgrade: true, Origin: "https://evil"}, Policy{}, http.StatusForbidden, "Origin not allowed"},
		{"dns rebinding", evil, Policy{AllowedHosts: []string{"chat.example.com"}}, http.StatusForbidden, "Host not allowed"},
		{"semicolon", Handshake{Host: "h", Upgrade: true, RawQuery: "sessionId=a;b"}, Policy{}, http.StatusBadRequest, "Invalid query"},
		{"bad escape", Handshake{Host: "h", Upgrade: true, RawQuery: "sessionId=%zz"}, Policy{}, http.StatusBadRequest, "Invalid query"},
		{"bad session", Handshake{Host: "h", Upgrade: true, RawQuery: "sessionId=a+b"}, Policy{}, http.StatusBadRequest, "Invalid sessionId"},
		{"long last id", Handshake{Host: "h", Upgrade: true, RawQuery: "lastMessageId=" + strings.Repeat("x", MaxLastMessageIDLen+1)}, Policy{}, http.StatusBadRequest, "Invalid lastMessageId"},
		{"bad history", Handshake{Host: "h", Upgrade: true, RawQuery: "history=some"}, Policy{}, http.StatusBadRequest, "Invalid history"},
		{"long epoch", Handshake{Host: "h", Upgrade: true, RawQuery: "lastMessageId=m&epoch=" + strings.Repeat("e", MaxLastMessageIDLen+1)}, Policy{}, http.StatusBadRequest, "Invalid epoch"},
	}
	for _, tt := range tests {
		_, _, err := CheckHandshake(tt.hs, tt.policy)
		if err == nil || err.Status != tt.status || err.Body != tt.body {
			t.Errorf("%s: got %v, want %d %q", tt.name, err, tt.status, tt.body)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	tests := []struct {
		host    string
		allowed []string
		want    bool
	}{
		{"evil.io", nil, true},
		{"chat.example.com", []string{"chat.example.com"}, true},
		{"CHAT.example.com:8443", []string{"chat.example.com"}, true},
		{"chat.example.com:8443", []string{"chat.example.com:8443"}, true},
		{"chat.example.com:9000", []string{"chat.example.com:8443"}, false},
		{"evil.io", []string{"chat.example.com"}, false},
		{"evil.io:80", []string{"chat.example.com", "localhost"}, false},
		{"localhost:8080", []string{"localhost"}, true},
		{"[::1]:8080", []string{"[::1]"}, true},
		{"anything", []string{"*"}, true},
		{"chat.example.com.evil.io", []string{"chat.example.com"}, false},
	}
	for _, tt := range tests {
		if got := HostAllowed(tt.host, tt.allowed); got != tt.want {
			t.Errorf("HostAllowed(%q, %v) = %v, want %v", tt.host, tt.allowed, got, tt.want)
		}
	}
}

func TestFormatCloseMessageCutsWholeRunes(t *testing.T) {
	b := FormatCloseMessage(1001, strings.Repeat("r", 122)+"é")
	if len(b) != 2+122 || b[0] != 0x03 || b[1] != 0xE9 {
		t.Fatalf("got % x (len %d)", b[:2], len(b))
	}
}

func TestRefusalOf(t *testing.T) {
	plain := errors.New("no")
	if st, body := RefusalOf(plain); st != http.StatusForbidden || body != "Forbidden" {
		t.Fatalf("RefusalOf(plain) = %d %q", st, body)
	}
	if st, body := AuthRefusalOf(plain); st != http.StatusUnauthorized || body != "Unauthorized" {
		t.Fatalf("AuthRefusalOf(plain) = %d %q", st, body)
	}
	he := fmt.Errorf("wrapped: %w", &core.HandshakeError{Status: 429, Body: "Too many connections"})
	if st, body := RefusalOf(he); st != 429 || body != "Too many connections" {
		t.Fatalf("RefusalOf(HandshakeError) = %d %q", st, body)
	}
}

func TestIsWebSocketUpgrade(t *testing.T) {
	tests := []struct {
		conn, up string
		want     bool
	}{
		{"Upgrade", "websocket", true},
		{"keep-alive, Upgrade", "WebSocket", true},
		{"keep-alive", "websocket", false},
		{"upgrade", "h2c", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := IsWebSocketUpgrade(tt.conn, tt.up); got != tt.want {
			t.Errorf("IsWebSocketUpgrade(%q, %q) = %v", tt.conn, tt.up, got)
		}
	}
}
