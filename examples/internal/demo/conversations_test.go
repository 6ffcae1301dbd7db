package demo

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/storage"
)

func TestTitleOf(t *testing.T) {
	for in, want := range map[string]string{
		"plan a trip to Lisbon":   "plan a trip to Lisbon",
		"  two\nlines\tand tabs ": "two lines and tabs",
		strings.Repeat("é", 50):   strings.Repeat("é", 40) + "…",
		"bidi\u202eoverride":      "bidi override",
		"\x00\x01":                "Untitled",
		"":                        "Untitled",
	} {
		got := titleOf(in)
		if got != want || !storage.ValidTitle(got) {
			t.Errorf("titleOf(%q) = %q (valid %v), want %q", in, got, storage.ValidTitle(got), want)
		}
	}
}

func TestOwner(t *testing.T) {
	withCookie := http.Header{"Cookie": {DeviceCookie + "=3b1f-device"}}
	for _, tt := range []struct {
		name      string
		principal any
		header    http.Header
		want      string
	}{
		{"signed in", "alice", withCookie, "alice"},
		{"device cookie", nil, withCookie, "device:3b1f-device"},
		{"nothing", nil, http.Header{}, ""},
		{"invalid cookie", nil, http.Header{"Cookie": {DeviceCookie + "=a b"}}, ""},
	} {
		if got := Owner(tt.principal, tt.header); got != tt.want {
			t.Errorf("%s: Owner = %q, want %q", tt.name, got, tt.want)
		}
	}
}
