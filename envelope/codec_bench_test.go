package envelope

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// These are quick checks of the codec alone. The comparison with encoding/json, goccy/go-json
// and sonic, with the same payload shapes, is in the bench module (bench/README.md).

// benchMessages returns a small, a medium and a large envelope.
func benchMessages() []struct {
	name string
	m    Message
} {
	var l strings.Builder
	for l.Len() < 64<<10 {
		l.WriteString("Line of \"quoted\" text with a tab\tand a backslash \\ — ünïcödé 中文 😀.\n")
		l.WriteString(strings.Repeat("Plain ASCII words follow until the line is long enough. ", 4))
	}
	return []struct {
		name string
		m    Message
	}{
		{"S", Message{ID: "msg_01HZX3K9V7Q2M4N6P8R0S2T4V6", Type: TypeMessage, Role: RoleUser,
			Content:   strings.Repeat("Hello! Can you help me plan a trip? ", 3)[:100],
			Timestamp: 1700000000123}},
		{"M", Message{ID: "msg_01HZX3K9V7Q2M4N6P8R0S2T4V6", Type: TypeMessage, Role: RoleAssistant,
			Content:   strings.Repeat("Sure — here is \"the plan\":\n1. Café in 東京 🍵\n2. Walk.\n", 40),
			Metadata:  json.RawMessage(`{"model":"m-1","tokens":{"in":120,"out":480},"tools":["search"]}`),
			Timestamp: 1700000000123}},
		{"L", Message{ID: "msg_01HZX3K9V7Q2M4N6P8R0S2T4V6", Type: TypeToolResult, Role: RoleSystem,
			Content: l.String()[:64<<10], Timestamp: 1700000000123}},
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run("size="+bm.name, func(b *testing.B) {
			buf := AppendMessage(nil, &bm.m)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendMessage(buf[:0], &bm.m)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bm := range benchMessages() {
		b.Run("size="+bm.name, func(b *testing.B) {
			data := AppendMessage(nil, &bm.m)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var m Message
			for b.Loop() {
				if err := Decode(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeAllocFloor measures what Decode cannot avoid for the S envelope: allocating
// the one string that holds its ID and Content, and copying them into it. On a small heap this
// is mostly garbage collection, and it is a large part of BenchmarkDecode/size=S.
func BenchmarkDecodeAllocFloor(b *testing.B) {
	m := benchMessages()[0].m
	b.ReportAllocs()
	var sink string
	for b.Loop() {
		var sb strings.Builder
		sb.Grow(len(m.ID) + len(m.Content))
		sb.WriteString(m.Content)
		sb.WriteString(m.ID)
		sink = sb.String()
	}
	_ = sink
}

// BenchmarkEncodeEscapeCost encodes 64 KB of ASCII with a quote at pseudo-random places, one
// in every N bytes on average: the difference from escapes=0 divided by the number of quotes
// is the cost of one escape, which is mostly one mispredicted branch.
func BenchmarkEncodeEscapeCost(b *testing.B) {
	for _, every := range []int{0, 64, 16} {
		buf := make([]byte, 64<<10)
		x := uint32(12345)
		quotes := 0
		for i := range buf {
			buf[i] = 'a' + byte(i%26)
			x = x*1664525 + 1013904223
			if every > 0 && int(x>>8)%every == 0 {
				buf[i] = '"'
				quotes++
			}
		}
		m := Message{Type: TypeMessage, Content: string(buf)}
		b.Run("escapes="+strconv.Itoa(quotes), func(b *testing.B) {
			out := AppendMessage(nil, &m)
			b.SetBytes(int64(len(out)))
			for b.Loop() {
				out = AppendMessage(out[:0], &m)
			}
		})
	}
}
