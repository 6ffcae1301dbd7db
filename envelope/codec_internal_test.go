package envelope

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Tests of the codec's building blocks and of its allocation counts.

var (
	allocSmall = Message{ID: "9f2c4e1a-77b3-4d2e-9a41-3c5d6e7f8a9b", Type: TypeMessage, Role: RoleUser,
		Content: strings.Repeat("Hello there, how are you doing today? ", 3), Timestamp: 1700000000123}
	allocMeta = Message{ID: "m-1", Type: TypeToolResult, Role: "tool", Content: "a \"quoted\" é line\n",
		Metadata: json.RawMessage(`{"tool":"search","ms":12}`), Timestamp: 1700000000123}
)

func TestPutInt(t *testing.T) {
	vals := []int64{0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 12345678, 99999999, 100000000,
		123456789, 1700000000123, 9999999999999999, 1e18, math.MaxInt64, math.MinInt64,
		math.MinInt64 + 1, -1700000000123}
	for p := int64(1); p < 1e18; p *= 10 {
		vals = append(vals, p-1, p, p+1, -p)
	}
	for _, v := range vals {
		want := strconv.FormatInt(v, 10)
		buf := make([]byte, 3+len(want)+spare)
		if got := string(buf[:putInt(buf, 3, v, len(want))][3:]); got != want {
			t.Errorf("putInt(%d) = %s", v, got)
		}
		if got := decimalLen(v); got != len(want) {
			t.Errorf("decimalLen(%d) = %d", v, got)
		}
	}
}

// TestCodecAllocs pins the allocation counts promised in the Codec notes.
func TestCodecAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = AppendMessage(buf[:0], &allocMeta) }); n != 0 {
		t.Errorf("AppendMessage with room: %v allocs, want 0", n)
	}
	// "Room" is the length of the result plus 8 bytes, escapes or not.
	for _, m := range []*Message{&allocSmall, &allocMeta, {}, {Content: strings.Repeat("\x01\"é\u2028\xff", 50)}} {
		exact := make([]byte, 0, len(AppendMessage(nil, m))+8)
		if n := testing.AllocsPerRun(100, func() { _ = AppendMessage(exact[:0], m) }); n != 0 {
			t.Errorf("AppendMessage with room for %q: %v allocs, want 0", AppendMessage(nil, m), n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { buf = AppendMessage(buf[:0], &allocSmall) }); n != 0 {
		t.Errorf("AppendMessage with room: %v allocs, want 0", n)
	}
	// (The race detector keeps slices.Grow from growing a nil slice with one allocation.)
	if n := testing.AllocsPerRun(100, func() { _ = AppendMessage(nil, &allocSmall) }); n != 1 && !raceEnabled {
		t.Errorf("AppendMessage(nil): %v allocs, want 1", n)
	}
	for _, tt := range []struct {
		name string
		in   []byte
		want float64
	}{
		{"small", AppendMessage(nil, &allocSmall), 1},
		{"escapes, custom role and metadata", AppendMessage(nil, &allocMeta), 2},
		{"empty strings", []byte(`{"id":"","type":"typing","role":"user","content":""}`), 0},
		{"heartbeat", []byte(`{"type":"ping"}`), 0},
	} {
		var m Message
		n := testing.AllocsPerRun(100, func() { _ = Decode(tt.in, &m) })
		if n != tt.want && !(raceEnabled && n > tt.want && n <= tt.want+1) {
			t.Errorf("Decode %s: %v allocs, want %v", tt.name, n, tt.want)
		}
	}
}

// TestRuneLen checks runeLen against utf8.DecodeRune on every two-byte prefix followed by
// continuation bytes and on truncated sequences.
func TestRuneLen(t *testing.T) {
	check := func(b []byte) {
		r, size := utf8.DecodeRune(b)
		want := size
		if r == utf8.RuneError && size == 1 {
			want = 0
		}
		if got := runeLen(b, 0); got != want {
			t.Fatalf("runeLen(% x) = %d, want %d", b, got, want)
		}
		if got := runeLen(string(b), 0); got != want {
			t.Fatalf("runeLen(%+q) = %d, want %d", b, got, want)
		}
		if got := runeLen(append([]byte("ab"), b...), 2); got != want {
			t.Fatalf("runeLen(ab % x, 2) = %d, want %d", b, got, want)
		}
	}
	for c0 := 0x80; c0 < 0x100; c0++ {
		check([]byte{byte(c0)})
		for c1 := 0; c1 < 0x100; c1++ {
			check([]byte{byte(c0), byte(c1)})
			for _, c2 := range []byte{0x00, 0x7f, 0x80, 0xbf, 0xc0} {
				check([]byte{byte(c0), byte(c1), c2})
				for _, c3 := range []byte{0x00, 0x80, 0xbf, 0xc0} {
					check([]byte{byte(c0), byte(c1), c2, c3})
				}
			}
		}
	}
}

func TestParseInt64(t *testing.T) {
	for _, v := range []int64{0, 1, 9, 10, 12345678, 99999999, 100000000, 123456789, 1700000000123,
		9999999999999999, 10000000000000000, 1e18, math.MaxInt64, math.MinInt64, -1, -1700000000123} {
		if got := parseInt64([]byte(strconv.FormatInt(v, 10))); got != v {
			t.Errorf("parseInt64(%d) = %d", v, got)
		}
	}
	for p := uint64(1); p < 1e19; p *= 10 {
		for _, u := range []uint64{p - 1, p, p + 1, p*7 + 3} {
			want := int64(u)
			if u > math.MaxInt64 {
				want = 0
			}
			if got := parseInt64([]byte(strconv.FormatUint(u, 10))); got != want {
				t.Errorf("parseInt64(%d) = %d", u, got)
			}
		}
	}
	for _, s := range []string{"1.5", "1e3", "-0", "0", "18446744073709551615", "9223372036854775808", "-9223372036854775809"} {
		want, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			want = 0
		}
		if got := parseInt64([]byte(s)); got != want {
			t.Errorf("parseInt64(%s) = %d, want %d", s, got, want)
		}
	}
}

// TestSpecialMask checks the lowest flag of specialMask against a byte-by-byte search, on
// words with one special byte at every position and on pseudo-random words.
func TestSpecialMask(t *testing.T) {
	first := func(w uint64) int {
		for k := 0; k < 8; k++ {
			if c := byte(w >> (8 * k)); !plainByte[c] {
				return k
			}
		}
		return 8
	}
	check := func(w uint64) {
		t.Helper()
		got := 8
		if m := specialMask(w); m != 0 {
			got = firstFlagged(m)
		}
		if want := first(w); got != want {
			t.Fatalf("specialMask(%#016x): first flag at %d, want %d", w, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		for k := 0; k < 8; k++ {
			w := uint64(0x6161616161616161)
			w = w&^(0xff<<(8*k)) | uint64(c)<<(8*k)
			check(w)
			check(w | 0x1f00000000000000) // and a control character after it
		}
	}
	x := uint64(88172645463325252)
	for n := 0; n < 200000; n++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		check(x)
		check(x & 0x7f7f7f7f7f7f7f7f)
		check(x&0x3f3f3f3f3f3f3f3f | 0x2020202020202020)
	}
}
