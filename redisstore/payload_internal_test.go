package redisstore

import (
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
)

func TestDecodePayload(t *testing.T) {
	good := []struct {
		in   string
		want core.Record
	}{
		{"7:1700000000123:2:m13:msg4:user0:hello", core.Record{Seq: 7, Message: core.Message{
			ID: "m1", Type: "msg", Role: "user", Content: "hello", Timestamp: 1700000000123}}},
		{"1:-5:0:0:0:7:{\"a\":1}", core.Record{Seq: 1, Message: core.Message{
			Metadata: []byte(`{"a":1}`), Timestamp: -5}}},
		{"2:0:3:a:b1:x1:y0:c:o:n:t:e:n:t", core.Record{Seq: 2, Message: core.Message{
			ID: "a:b", Type: "x", Role: "y", Content: "c:o:n:t:e:n:t"}}},
	}
	for _, tc := range good {
		got, err := decodePayload(tc.in)
		if err != nil {
			t.Errorf("decodePayload(%q): %v", tc.in, err)
			continue
		}
		m, w := got.Message, tc.want.Message
		if got.Seq != tc.want.Seq || m.ID != w.ID || m.Type != w.Type || m.Role != w.Role ||
			m.Content != w.Content || m.Timestamp != w.Timestamp || string(m.Metadata) != string(w.Metadata) ||
			(m.Metadata == nil) != (w.Metadata == nil) {
			t.Errorf("decodePayload(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{
		"", "7", "7:", "x:1:0:0:0:0:", "7:1:", "7:1:5:ab", "7:1:-1:a0:0:0:", "7:1:0:0:0:", "7:t:0:0:0:0:",
		"18446744073709551616:1:0:0:0:0:",
	} {
		if rec, err := decodePayload(bad); err == nil {
			t.Errorf("decodePayload(%q) = %+v, want an error", bad, rec)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add("7:1700000000123:2:m13:msg4:user0:hello")
	f.Add("1:-5:0:0:0:7:{\"a\":1}")
	f.Fuzz(func(t *testing.T, p string) {
		rec, err := decodePayload(p)
		if err != nil {
			return
		}
		if !strings.HasSuffix(p, rec.Message.Content) {
			t.Fatalf("content %q is not the payload's tail", rec.Message.Content)
		}
	})
}
