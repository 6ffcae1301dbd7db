package hubport

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFormatCloseMessage(t *testing.T) {
	tests := []struct {
		name, reason, want string
	}{
		{"short", "bye", "bye"},
		{"exactly 123", strings.Repeat("r", 123), strings.Repeat("r", 123)},
		{"ascii cut", strings.Repeat("r", 200), strings.Repeat("r", 123)},
		// 122 ASCII bytes then a 2-byte é: byte 123 is é's second byte, so é goes.
		{"no half rune 2", strings.Repeat("r", 122) + "éé", strings.Repeat("r", 122)},
		// 121 bytes then a 4-byte emoji straddling byte 123.
		{"no half rune 4", strings.Repeat("r", 121) + "😀x", strings.Repeat("r", 121)},
		// A rune that ends exactly at byte 123 stays.
		{"whole rune at the end", strings.Repeat("r", 121) + "éx", strings.Repeat("r", 121) + "é"},
		{"all multibyte", strings.Repeat("日", 50), strings.Repeat("日", 41)},
	}
	for _, tt := range tests {
		b := FormatCloseMessage(1001, tt.reason)
		if b[0] != 0x03 || b[1] != 0xe9 {
			t.Errorf("%s: code bytes %x", tt.name, b[:2])
		}
		got := string(b[2:])
		if got != tt.want {
			t.Errorf("%s: reason %q (%d bytes), want %q", tt.name, got, len(got), tt.want)
		}
		if len(got) > MaxCloseReason || !utf8.ValidString(got) {
			t.Errorf("%s: reason of %d bytes, valid UTF-8 %v", tt.name, len(got), utf8.ValidString(got))
		}
	}
}
