package redisstore

import (
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

func TestDecodePayload(t *testing.T) {
	good := []struct {
		in    string
		want  storage.Record
		epoch string
	}{
		{"7:1700000000123:3:e:12:m13:msg4:user0:hello", storage.Record{Seq: 7, Message: core.Message{
			ID: "m1", Type: "msg", Role: "user", Content: "hello", Timestamp: 1700000000123}}, "e:1"},
		{"1:-5:0:0:0:0:7:{\"a\":1}", storage.Record{Seq: 1, Message: core.Message{
			Metadata: []byte(`{"a":1}`), Timestamp: -5}}, ""},
		{"2:0:1:E3:a:b1:x1:y0:c:o:n:t:e:n:t", storage.Record{Seq: 2, Message: core.Message{
			ID: "a:b", Type: "x", Role: "y", Content: "c:o:n:t:e:n:t"}}, "E"},
	}
	for _, tc := range good {
		got, epoch, err := decodePayload(tc.in)
		if err == nil && epoch != tc.epoch {
			t.Errorf("decodePayload(%q) epoch %q, want %q", tc.in, epoch, tc.epoch)
		}
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
		"", "7", "7:", "x:1:0:0:0:0:0:", "7:1:", "7:1:5:ab", "7:1:0:-1:a0:0:0:", "7:1:0:0:0:0:", "7:t:0:0:0:0:0:",
		"18446744073709551616:1:0:0:0:0:0:",
	} {
		if rec, _, err := decodePayload(bad); err == nil {
			t.Errorf("decodePayload(%q) = %+v, want an error", bad, rec)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add("7:1700000000123:1:E2:m13:msg4:user0:hello")
	f.Add("1:-5:0:0:0:0:7:{\"a\":1}")
	f.Fuzz(func(t *testing.T, p string) {
		rec, _, err := decodePayload(p)
		if err != nil {
			return
		}
		if !strings.HasSuffix(p, rec.Message.Content) {
			t.Fatalf("content %q is not the payload's tail", rec.Message.Content)
		}
	})
}

// TestEncodePayloadRoundTrip checks that the Go encoder (used for ephemeral messages) and
// the decoder agree, for awkward field values.
func TestEncodePayloadRoundTrip(t *testing.T) {
	for _, m := range []core.Message{
		{},
		{ID: "a:b", Type: "typing", Role: "user", Content: "1:2:3", Metadata: []byte(`{"k":"v:w"}`), Timestamp: -1},
		{ID: "ü", Content: strings.Repeat("x", 70000), Timestamp: 1700000000123},
	} {
		p := string(encodePayload(nil, 42, "ep:1", m))
		got, epoch, err := decodePayload(p)
		if err != nil || got.Seq != 42 || epoch != "ep:1" || !sameMsg(got.Message, m) {
			t.Errorf("decodePayload(encodePayload(%+v)) = %+v, %v", m, got, err)
		}
	}
}

func sameMsg(a, b core.Message) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Role == b.Role && a.Content == b.Content &&
		a.Timestamp == b.Timestamp && string(a.Metadata) == string(b.Metadata) &&
		(a.Metadata == nil) == (b.Metadata == nil)
}

func TestDecodeNotification(t *testing.T) {
	rec := "3:1700000000123:2:E12:s13:msg9:assistant0:Hi there"
	good := []struct {
		in   string
		want storage.Notification
	}{
		{rec, storage.Notification{Epoch: "E1", Record: storage.Record{Seq: 3, Message: core.Message{
			ID: "s1", Type: "msg", Role: "assistant", Content: "Hi there", Timestamp: 1700000000123}}}},
		{"f2:s1" + rec, storage.Notification{
			Epoch: "E1",
			Record: storage.Record{Seq: 3, Message: core.Message{
				ID: "s1", Type: "msg", Role: "assistant", Content: "Hi there", Timestamp: 1700000000123}},
			Stream: &storage.StreamEvent{Kind: storage.StreamEnded, StreamID: "s1"}}},
		{"d7:1700000000000:2:s1a:b:c", storage.Notification{Stream: &storage.StreamEvent{
			Kind: storage.StreamDelta, StreamID: "s1", Seq: 7, Delta: "a:b:c", Started: 1700000000000}}},
		{"d1:5:2:s1", storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamDelta, StreamID: "s1", Seq: 1, Started: 5}}},
		{"cs-1", storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamCancelled, StreamID: "s-1"}}},
		{"e0:9:0:1:t6:typing4:user7:{\"a\":1}", storage.Notification{Ephemeral: &core.Message{
			ID: "t", Type: "typing", Role: "user", Metadata: []byte(`{"a":1}`), Timestamp: 9}}},
		{ephemeralPayload(core.Message{Content: "x"}), storage.Notification{Ephemeral: &core.Message{Content: "x"}}},
	}
	for _, tc := range good {
		got, err := decodeNotification(tc.in)
		if err != nil || !sameNotification(got, tc.want) {
			t.Errorf("decodeNotification(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "d", "d1:2:", "d0:2:2:s1x", "d1:x:2:s1", "d1:2:0:", "d1:2:9:s1", "c", "e", "e1:9:0:0:0:0:0:",
		"f", "f2:s1", "f0:" + rec, "f2:s10:9:0:0:0:0:0:", "x1:2:0:0:0:0:0:",
	} {
		if n, err := decodeNotification(bad); err == nil {
			t.Errorf("decodeNotification(%q) = %+v, want an error", bad, n)
		}
	}
}

func sameNotification(a, b storage.Notification) bool {
	if a.Resync != b.Resync || a.Epoch != b.Epoch || a.Record.Seq != b.Record.Seq || !sameMsg(a.Record.Message, b.Record.Message) ||
		(a.Stream == nil) != (b.Stream == nil) || (a.Ephemeral == nil) != (b.Ephemeral == nil) {
		return false
	}
	if a.Stream != nil && *a.Stream != *b.Stream {
		return false
	}
	return a.Ephemeral == nil || sameMsg(*a.Ephemeral, *b.Ephemeral)
}

func FuzzDecodeNotification(f *testing.F) {
	f.Add("f2:s13:1:0:0:0:0:x")
	f.Add("d7:1700000000000:2:s1a:b:c")
	f.Add("e0:9:1:t6:typing4:user0:")
	f.Add("cs-1")
	f.Fuzz(func(t *testing.T, p string) {
		n, err := decodeNotification(p)
		if err != nil {
			return
		}
		switch {
		case n.Stream != nil && n.Stream.Kind == storage.StreamDelta:
			if !strings.HasSuffix(p, n.Stream.Delta) || n.Stream.Seq == 0 || n.Stream.StreamID == "" {
				t.Fatalf("bad delta %+v from %q", *n.Stream, p)
			}
		case n.Ephemeral != nil:
			if !strings.HasSuffix(p, n.Ephemeral.Content) {
				t.Fatalf("content %q is not the payload's tail", n.Ephemeral.Content)
			}
		case n.Stream == nil && n.Record.Seq == 0 && p[0] != '0':
			t.Fatalf("record without a seq from %q", p)
		}
	})
}
