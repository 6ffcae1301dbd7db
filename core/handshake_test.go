package core

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
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
	ok := Handshake{Host: "h", Upgrade: true, Query: url.Values{"sessionId": {"abc"}, "lastMessageId": {"m-1"}}}
	info, err := CheckHandshake(ok, nil)
	if err != nil || info.SessionID != "abc" || info.LastMessageID != "m-1" {
		t.Fatalf("got %+v, %v", info, err)
	}
	tests := []struct {
		name   string
		hs     Handshake
		status int
		body   string
	}{
		{"not an upgrade", Handshake{Host: "h"}, http.StatusUpgradeRequired, "Expected WebSocket upgrade"},
		{"bad origin", Handshake{Host: "h", Upgrade: true, Origin: "https://evil"}, http.StatusForbidden, "Origin not allowed"},
		{"bad session", Handshake{Host: "h", Upgrade: true, Query: url.Values{"sessionId": {"a b"}}}, http.StatusBadRequest, "Invalid sessionId"},
		{"long last id", Handshake{Host: "h", Upgrade: true, Query: url.Values{"lastMessageId": {strings.Repeat("x", MaxLastMessageIDLen+1)}}}, http.StatusBadRequest, "Invalid lastMessageId"},
	}
	for _, tt := range tests {
		_, err := CheckHandshake(tt.hs, nil)
		if err == nil || err.Status != tt.status || err.Body != tt.body {
			t.Errorf("%s: got %v, want %d %q", tt.name, err, tt.status, tt.body)
		}
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

func TestValidSessionIDAndNewID(t *testing.T) {
	for _, id := range []string{"a", "room-1", "user_2.chat:3", NewID(), strings.Repeat("a", MaxSessionIDLen)} {
		if !ValidSessionID(id) {
			t.Errorf("ValidSessionID(%q) = false", id)
		}
	}
	for _, id := range []string{"", "a b", "{x}", "a*", "é", "a/b", strings.Repeat("a", MaxSessionIDLen+1)} {
		if ValidSessionID(id) {
			t.Errorf("ValidSessionID(%q) = true", id)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if len(id) != 36 || id[14] != '4' || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestOptionsDefaultsDoNotMutate(t *testing.T) {
	in := Options{MaxMessageSize: 10}
	out := in.withDefaults()
	if in.HeartbeatInterval != 0 || in.Logger != nil {
		t.Fatal("withDefaults modified its receiver's source")
	}
	if out.HeartbeatInterval != DefaultHeartbeatInterval || out.MaxStoredMessages != DefaultMaxStoredMessages ||
		out.SendQueueSize != DefaultSendQueueSize || out.HardMaxMessageSize != 160 || out.Logger == nil {
		t.Fatalf("defaults not applied: %+v", out)
	}
	if d := (Options{HeartbeatInterval: -1}).withDefaults(); d.HeartbeatInterval >= 0 {
		t.Fatal("a negative HeartbeatInterval must stay negative (disabled)")
	}
}

func TestFormatCloseMessage(t *testing.T) {
	b := FormatCloseMessage(1001, strings.Repeat("r", 200))
	if len(b) != 125 || b[0] != 0x03 || b[1] != 0xE9 {
		t.Fatalf("got % x (len %d)", b[:2], len(b))
	}
}
