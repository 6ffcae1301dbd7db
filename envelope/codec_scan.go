package envelope

import (
	"math/bits"
	"unicode/utf8"
)

// This file holds the byte-level scanners that the encoder and decoder share: an 8-bytes-at-a-
// time (SWAR) search for bytes that need attention in strings, and an iterative JSON validator.

const (
	swarLo     = 0x0101010101010101
	swarHi     = 0x8080808080808080
	asciiZeros = swarLo * '0' // eight '0' digits
)

// specialMask returns w (eight string bytes, the first in the low byte) with the high bit set in
// the first byte that is a control character, '"', '\\' or not ASCII. Only that lowest set bit
// is reliable: a subtraction's borrow, and bytes of 0x80 and above, can flag later bytes too.
// Callers jump to the first flagged byte and rescan from there, so those are never looked at.
//
// w itself flags the bytes that are not ASCII. XOR with 0x02 maps the control characters onto
// themselves and '"' (0x22) onto 0x20, so one subtraction of 0x21 flags both; another flags
// '\\'. A borrow only starts at a flagged byte, so the lowest flag is always a true one.
func specialMask(w uint64) uint64 {
	return (w | ((w ^ swarLo*0x02) - swarLo*0x21) | ((w ^ swarLo*'\\') - swarLo)) & swarHi
}

// le64 returns b[i:i+8] as a little-endian word. Written this way (rather than with
// binary.LittleEndian.Uint64(b[i:])) the compiler emits one load and two bounds checks.
func le64(b []byte, i int) uint64 {
	b = b[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// put64 stores w at b[i:i+8], little-endian, with one store.
func put64(b []byte, i int, w uint64) {
	b = b[i : i+8]
	b[0], b[1], b[2], b[3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	b[4], b[5], b[6], b[7] = byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56)
}

// firstFlagged returns the index of the byte whose high bit is the lowest one set in mask.
func firstFlagged(mask uint64) int { return bits.TrailingZeros64(mask) >> 3 }

// plainByte reports which bytes may appear in a JSON string as themselves, needing no escape
// and no UTF-8 check: printable ASCII except '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hexValue maps a hex digit to its value and any other byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

// hex4 decodes four hex digits; the result is negative if one of them is not a hex digit.
func hex4(b []byte) rune {
	_ = b[3]
	h0, h1, h2, h3 := hexValue[b[0]], hexValue[b[1]], hexValue[b[2]], hexValue[b[3]]
	if (h0|h1|h2|h3)&0xf0 != 0 {
		return -1
	}
	return rune(h0)<<12 | rune(h1)<<8 | rune(h2)<<4 | rune(h3)
}

// skipWS returns the index of the first byte at or after i that is not JSON whitespace.
func skipWS(data []byte, i int) int {
	for ; i < len(data); i++ {
		if c := data[i]; c > ' ' || (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			return i
		}
	}
	return i
}

// scanString validates the JSON string that starts with the quote at data[i]. It returns the
// index just past the closing quote (-1 if the string is invalid), whether the string holds
// escapes, and how many bytes of invalid UTF-8 it holds (each one decodes to U+FFFD).
func scanString(data []byte, i int) (end int, escaped bool, invalid int) {
	i++
	for {
		for i+8 <= len(data) {
			if m := specialMask(le64(data, i)); m != 0 {
				i += firstFlagged(m)
				goto special
			}
			i += 8
		}
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			return -1, false, 0
		}
	special:
		switch c := data[i]; {
		case c == '"':
			return i + 1, escaped, invalid
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return -1, false, 0
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || hex4(data[i+2:i+6]) < 0 {
					return -1, false, 0
				}
				i += 6
			default:
				return -1, false, 0
			}
		case c < 0x20:
			return -1, false, 0
		default:
			// A run of non-ASCII characters, validated without decoding them.
			for {
				if n := runeLen(data, i); n > 0 {
					i += n
				} else {
					invalid++
					i++
				}
				if i >= len(data) || data[i] < utf8.RuneSelf {
					break
				}
			}
		}
	}
}

// runeLen returns the length of the valid UTF-8 encoding of one rune at b[i:], whose first
// byte is not ASCII, or 0 if b[i:] does not start with one (utf8.DecodeRune would return
// RuneError and 1). It accepts exactly what utf8.DecodeRune accepts, but does not decode, and
// its branches do not depend on the length of the rune, which changes often in mixed text.
func runeLen[T string | []byte](b T, i int) int {
	if i+4 > len(b) {
		return runeLenTail(b[i:])
	}
	w := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
	x := utf8Lead[byte(w)]
	r := utf8Second[x>>4]
	// The second byte must be in its range, and the third and fourth, as far as the
	// sequence goes, continuation bytes (10xxxxxx).
	if x == 0 || byte(w>>8)-r[0] > r[1]-r[0] || (w>>16^0x8080)&utf8Cont[x&7] != 0 {
		return 0
	}
	return int(x & 7)
}

// runeLenTail is runeLen for fewer than four bytes.
func runeLenTail[T string | []byte](b T) int {
	x := utf8Lead[b[0]]
	n := int(x & 7)
	if n == 0 || len(b) < n {
		return 0
	}
	if r := utf8Second[x>>4]; b[1] < r[0] || b[1] > r[1] {
		return 0
	}
	if n == 3 && b[2]&0xc0 != 0x80 {
		return 0
	}
	return n
}

// utf8Lead maps the first byte of a UTF-8 sequence to its length (0 if it cannot start one)
// and, in the high bits, the index in utf8Second of the range its second byte must be in.
var utf8Lead = func() (t [256]uint8) {
	for c := 0xc2; c <= 0xdf; c++ {
		t[c] = 2
	}
	for c := 0xe0; c <= 0xef; c++ {
		t[c] = 3
	}
	for c := 0xf0; c <= 0xf4; c++ {
		t[c] = 4
	}
	t[0xe0] |= 1 << 4 // no overlong forms
	t[0xed] |= 2 << 4 // no surrogates
	t[0xf0] |= 3 << 4 // no overlong forms
	t[0xf4] |= 4 << 4 // nothing past U+10FFFF
	return t
}()

// utf8Second holds the ranges the second byte of a sequence must be in.
var utf8Second = [5][2]uint8{{0x80, 0xbf}, {0xa0, 0xbf}, {0x80, 0x9f}, {0x90, 0xbf}, {0x80, 0x8f}}

// utf8Cont masks, for a sequence of each length, the bits of its third and fourth bytes that
// must be 10 (after XOR with 0x80).
var utf8Cont = [8]uint32{3: 0x00c0, 4: 0xc0c0}

// scanNumber validates the JSON number that starts at data[i] and returns the index just past
// it, or -1. It checks the grammar exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
// Whatever follows the number is the caller's to check.
func scanNumber(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return -1
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		i = skipDigits(data, i+1)
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func skipDigits(data []byte, i int) int { return i + countDigits(data, i) }

// scanLiteral checks that data[i:] starts with lit and returns the index past it, or -1.
func scanLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanMember checks the `"key" :` of an object member that starts at data[i] and returns the
// index of its value (after whitespace), or -1.
func scanMember(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	i, _, _ = scanString(data, i)
	if i < 0 {
		return -1
	}
	i = skipWS(data, i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipWS(data, i+1)
}

// skipValue validates the JSON value that starts at data[i] (not whitespace) and returns the
// index just past it, or -1 if it is not valid. depth is the number of objects and arrays
// that enclose the value; more than MaxJSONDepth in all is invalid. It is iterative: one bit
// per open container says whether it is an object, so deep input costs no stack.
func skipValue(data []byte, i, depth int) int {
	var small [2]uint64
	objects := small[:] // bit n set: the container at level n+1 is an object
	level := 0
	for {
		if i >= len(data) {
			return -1
		}
		switch c := data[i]; c {
		case '{', '[':
			level++
			if depth+level > MaxJSONDepth {
				return -1
			}
			w, bit := (level-1)>>6, uint64(1)<<((level-1)&63)
			if w == len(objects) {
				objects = append(objects, 0)
			}
			i = skipWS(data, i+1)
			if c == '[' {
				objects[w] &^= bit
				if i < len(data) && data[i] == ']' {
					i++
					level--
					break // an empty array is a complete value
				}
				continue // the first element starts at i
			}
			objects[w] |= bit
			if i < len(data) && data[i] == '}' {
				i++
				level--
				break
			}
			if i = scanMember(data, i); i < 0 {
				return -1
			}
			continue
		case '"':
			i, _, _ = scanString(data, i)
		case 't':
			i = scanLiteral(data, i, "true")
		case 'f':
			i = scanLiteral(data, i, "false")
		case 'n':
			i = scanLiteral(data, i, "null")
		default:
			i = scanNumber(data, i)
		}
		if i < 0 {
			return -1
		}
		// A value ended at i: close containers until one continues with another value.
	next:
		for {
			if level == 0 {
				return i
			}
			i = skipWS(data, i)
			if i >= len(data) {
				return -1
			}
			isObject := objects[(level-1)>>6]>>((level-1)&63)&1 != 0
			switch c := data[i]; {
			case c == ',':
				i = skipWS(data, i+1)
				if isObject {
					if i = scanMember(data, i); i < 0 {
						return -1
					}
				}
				break next
			case c == '}' && isObject, c == ']' && !isObject:
				i++
				level--
			default:
				return -1
			}
		}
	}
}
