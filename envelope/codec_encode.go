package envelope

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// The encoder writes into the capacity of its buffer by index, with whole 8-byte and 4-byte
// stores where it can: a word store may write up to 7 bytes past what it keeps, which later
// writes overwrite. Its room rule: from the index it writes at, the buffer has room for the
// rest of the output as planned (without escapes) plus spare bytes. AppendMessage sizes the
// buffer so, and every escape, which makes the output longer, first makes room for itself.

// spare is how many bytes the encoder wants beyond the output it has still to write.
const spare = 8

// grow returns buf (used up to j) resliced to its capacity, with at least n bytes from j.
func grow(buf []byte, j, n int) []byte {
	buf = slices.Grow(buf[:j], n)
	return buf[:cap(buf)]
}

// load64 returns s[i:i+8] as a little-endian word; the compiler turns it into one load.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 returns s[i:i+4] as a little-endian word.
func load32(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// put32 stores w at b[i:i+4], little-endian, with one store.
func put32(b []byte, i int, w uint32) {
	b = b[i : i+4]
	b[0], b[1], b[2], b[3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
}

// appendEscaped writes s at buf[j:] escaped for the inside of a JSON string and returns the
// buffer and the index past it. It handles the common case, a string with nothing to escape,
// without a call: strings of 4 to 7 bytes with two overlapping 4-byte words, longer ones eight
// bytes at a time, each word stored before it is checked (see escapeFrom), with a last word
// that overlaps the one before it. Anything else goes to escapeFrom.
func appendEscaped(buf []byte, j int, s string) ([]byte, int) {
	n := len(s)
	if len(buf)-j < n+spare {
		buf = grow(buf, j, n+spare)
	}
	if n < 8 {
		if n == 0 {
			return buf, j
		}
		if n >= 4 {
			lo, hi := load32(s, 0), load32(s, n-4)
			if specialMask(uint64(lo)|uint64(hi)<<32) == 0 {
				put32(buf, j, lo)
				put32(buf, j+n-4, hi)
				return buf, j + n
			}
		}
		return escapeFrom(buf, j, s, 0)
	}
	i := 0
	for ; i+32 <= n; i += 32 {
		w0, w1, w2, w3 := load64(s, i), load64(s, i+8), load64(s, i+16), load64(s, i+24)
		put64(buf, j, w0)
		put64(buf, j+8, w1)
		put64(buf, j+16, w2)
		put64(buf, j+24, w3)
		if m := specialMask(w0) | specialMask(w1) | specialMask(w2) | specialMask(w3); m != 0 {
			k := 0
			for specialMask(load64(s, i+k)) == 0 {
				k += 8
			}
			k += firstFlagged(specialMask(load64(s, i+k)))
			return escapeFrom(buf, j+k, s, i+k)
		}
		j += 32
	}
	for ; i+16 <= n; i += 16 {
		w0, w1 := load64(s, i), load64(s, i+8)
		put64(buf, j, w0)
		put64(buf, j+8, w1)
		if m0, m1 := specialMask(w0), specialMask(w1); m0|m1 != 0 {
			k := firstFlagged(m0) // 8 when m0 == 0
			if m0 == 0 {
				k += firstFlagged(m1)
			}
			return escapeFrom(buf, j+k, s, i+k)
		}
		j += 16
	}
	if i+8 <= n {
		w := load64(s, i)
		put64(buf, j, w)
		if m := specialMask(w); m != 0 {
			k := firstFlagged(m)
			return escapeFrom(buf, j+k, s, i+k)
		}
		i += 8
		j += 8
	}
	if i < n {
		// s[n-8:i] went out unchanged just before j, so the last word can overlap them.
		w := load64(s, n-8)
		if specialMask(w) != 0 {
			return escapeFrom(buf, j, s, i)
		}
		back := 8 - (n - i)
		put64(buf, j-back, w)
		j += n - i
	}
	return buf, j
}

// escapeFrom writes s[i:] at buf[j:] escaped, as appendEscaped, and handles everything:
// escapes, non-ASCII text, invalid UTF-8 and the line separators. It keeps the room rule:
// from j there is room for the rest of s unchanged plus spare, so each clean word can be
// stored whole before it is checked; if the word holds a byte that needs attention, only the
// bytes before it are kept (j advances past them) and the rest is overwritten.
func escapeFrom(buf []byte, j int, s string, i int) ([]byte, int) {
	for {
		for i+8 <= len(s) {
			w := load64(s, i)
			put64(buf, j, w)
			if m := specialMask(w); m != 0 {
				k := firstFlagged(m)
				i += k
				j += k
				goto special
			}
			i += 8
			j += 8
		}
		for i < len(s) && plainByte[s[i]] {
			buf[j] = s[i]
			i++
			j++
		}
		if i >= len(s) {
			return buf, j
		}
	special:
		if c := s[i]; c < utf8.RuneSelf {
			// An escape is at most 6 bytes for 1, stored as a whole word.
			if len(buf)-j < len(s)-i+spare+8 {
				buf = grow(buf, j, 2*(len(s)-i)+spare+8)
			}
			e := asciiEscape[c]
			put64(buf, j, e)
			j += int(e >> 56)
			i++
			continue
		}
		// A run of non-ASCII characters.
		for i < len(s) && s[i] >= utf8.RuneSelf {
			n := runeLen(s, i)
			switch {
			case n == 0 || (n == 3 && s[i] == 0xe2 && s[i+1] == 0x80 && s[i+2]&^1 == 0xa8):
				// Invalid UTF-8 becomes \ufffd; U+2028 and U+2029 (E2 80 A8 and E2 80 A9),
				// which end lines in JavaScript source, become \u2028 and \u2029.
				if len(buf)-j < len(s)-i+spare+8 {
					buf = grow(buf, j, 2*(len(s)-i)+spare+8)
				}
				if n == 0 {
					copy(buf[j:j+6], `\ufffd`)
					i++
				} else {
					copy(buf[j:j+6], `\u2028`)
					buf[j+5] = '8' + s[i+2] - 0xa8
					i += 3
				}
				j += 6
			case i+8 <= len(s):
				// The room rule leaves room for a whole word: store one, keep n bytes.
				put64(buf, j, load64(s, i))
				i += n
				j += n
			default:
				copy(buf[j:j+n], s[i:i+n])
				i += n
				j += n
			}
		}
	}
}

// asciiEscape holds, for each ASCII byte that needs escaping in a JSON string, its escape in
// the low bytes (first byte lowest) and the escape's length in the top byte, so that the
// encoder writes any escape with one store and no branch.
var asciiEscape = func() (t [128]uint64) {
	for c := range t {
		var e string
		switch c {
		case '"', '\\':
			e = "\\" + string(rune(c))
		case '\n':
			e = `\n`
		case '\r':
			e = `\r`
		case '\t':
			e = `\t`
		case '\b':
			e = `\b`
		case '\f':
			e = `\f`
		default:
			if c >= 0x20 {
				continue
			}
			e = `\u00` + string(hexDigits[c>>4]) + string(hexDigits[c&0xf])
		}
		var b [8]byte
		copy(b[:], e)
		b[7] = byte(len(e))
		t[c] = binary.LittleEndian.Uint64(b[:])
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// digitPairs holds the two ASCII digits of 0 to 99, the first in the low byte.
var digitPairs = func() (t [100]uint16) {
	for i := range t {
		t[i] = uint16('0'+i/10) | uint16('0'+i%10)<<8
	}
	return t
}()

// digits8 returns the eight decimal digits of v < 1e8 in ASCII, with leading zeros, in the
// bytes of a word, the first digit in the low byte. It splits v into halves and quarters,
// independently of each other, and looks the quarters up in digitPairs.
func digits8(v uint32) uint64 {
	a := v / 10000
	b := v - a*10000
	a1, b1 := a/100, b/100
	return uint64(digitPairs[a1]) | uint64(digitPairs[a-a1*100])<<16 |
		uint64(digitPairs[b1])<<32 | uint64(digitPairs[b-b1*100])<<48
}

// pow10 holds the powers of ten that fit uint64.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
	1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalLen returns the length of the decimal form of v.
func decimalLen(v int64) int {
	u, n := uint64(v), 0
	if v < 0 {
		u, n = -u, 1
	}
	d := bits.Len64(u) * 1233 >> 12 // log10(2) is about 1233/4096: d or d+1 digits
	if u >= pow10[d] {
		d++
	}
	return n + max(d, 1)
}

// putInt writes the decimal form of v, whose length decimalLen(v) is n, at buf[j:], which has
// room for it plus spare, and returns the index past it. It writes what strconv.AppendInt
// does, eight digits at a time. Because the length is known, every store goes to a place
// computed in advance, and the caller need not wait for the digits to be computed.
func putInt(buf []byte, j int, v int64, n int) int {
	end := j + n
	u := uint64(v)
	if v < 0 {
		buf[j] = '-'
		u = -u
		n--
	}
	// n is now the number of digits; each group of eight is stored whole, the leading group
	// shifted right past the zeros digits8 puts before it.
	switch {
	case u < 1e8:
		put64(buf, end-n, digits8(uint32(u))>>(8*(8-n)))
	case u < 1e16:
		put64(buf, end-n, digits8(uint32(u/1e8))>>(8*(16-n)))
		put64(buf, end-8, digits8(uint32(u%1e8)))
	default:
		put64(buf, end-n, digits8(uint32(u/1e16))>>(8*(24-n)))
		u %= 1e16
		put64(buf, end-16, digits8(uint32(u/1e8)))
		put64(buf, end-8, digits8(uint32(u%1e8)))
	}
	return end
}
