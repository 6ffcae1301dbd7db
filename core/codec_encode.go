package core

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// load64 returns s[0:8] as a little-endian word; the compiler turns it into one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendString appends s to dst as a quoted JSON string, escaping as the Codec notes in
// codec.go say: the output equals encoding/json's with HTML escaping turned off.
//
// It scans eight bytes at a time and stores each word to the output as it goes, before it
// knows whether the word holds a byte that needs attention; when one does, only the bytes
// before it are kept. So runs of plain text cost one load, a few ALU operations and one store
// per eight bytes, and no call. The output slice keeps this invariant: from j on it has room
// for the rest of s copied unchanged, the closing quote, and one spare word.
func appendString(dst []byte, s string) []byte {
	j := len(dst)
	if cap(dst)-j < len(s)+10 {
		dst = slices.Grow(dst, len(s)+10)
	}
	buf := dst[:cap(dst)]
	buf[j] = '"'
	j++
	i := 0
	for {
		for i+8 <= len(s) {
			w := load64(s[i : i+8])
			binary.LittleEndian.PutUint64(buf[j:j+8], w)
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
			break
		}
	special:
		if c := s[i]; c < utf8.RuneSelf {
			// An escape takes at most 6 bytes for 1.
			if len(buf)-j < len(s)-i+15 {
				buf = slices.Grow(buf[:j], len(s)-i+15)
				buf = buf[:cap(buf)]
			}
			e := asciiEscape[c&0x7f]
			binary.LittleEndian.PutUint64(buf[j:j+8], e)
			j += int(e >> 56)
			i++
			continue
		}
		// A run of non-ASCII characters.
		for i < len(s) && s[i] >= utf8.RuneSelf {
			n := runeLen(s[i:])
			switch {
			case n == 0 || (n == 3 && s[i] == 0xe2 && s[i+1] == 0x80 && s[i+2]&^1 == 0xa8):
				// Invalid UTF-8 becomes \ufffd; U+2028 and U+2029 (E2 80 A8 and E2 80 A9),
				// which end lines in JavaScript source, become \u2028 and \u2029.
				if len(buf)-j < len(s)-i+15 {
					buf = slices.Grow(buf[:j], len(s)-i+15)
					buf = buf[:cap(buf)]
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
			case n == 2:
				buf[j], buf[j+1] = s[i], s[i+1]
				i += 2
				j += 2
			default:
				copy(buf[j:j+n], s[i:i+n])
				i += n
				j += n
			}
		}
	}
	buf[j] = '"'
	return buf[:j+1]
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

// digitPairs holds the two-digit decimal forms of 0 to 99.
const digitPairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" +
	"60616263646566676869" + "70717273747576777879" + "80818283848586878889" +
	"90919293949596979899"

// appendInt appends the decimal form of v to dst, as strconv.AppendInt(dst, v, 10) does, two
// digits at a time and with 32-bit arithmetic for each group of eight digits.
func appendInt(dst []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = -u
	}
	if u < 10 {
		return append(dst, byte('0'+u))
	}
	var buf [20]byte
	i := len(buf)
	for u >= 1e8 {
		q := u / 1e8
		r := uint32(u - q*1e8)
		for k := 0; k < 4; k++ {
			p := (r % 100) * 2
			r /= 100
			i -= 2
			buf[i], buf[i+1] = digitPairs[p], digitPairs[p+1]
		}
		u = q
	}
	r := uint32(u)
	for r >= 100 {
		p := (r % 100) * 2
		r /= 100
		i -= 2
		buf[i], buf[i+1] = digitPairs[p], digitPairs[p+1]
	}
	if r >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[r*2], digitPairs[r*2+1]
	} else {
		i--
		buf[i] = byte('0' + r)
	}
	return append(dst, buf[i:]...)
}
