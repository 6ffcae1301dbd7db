package envelope

import (
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// unescapeByte maps the letter after a backslash to the byte it stands for, for the
// two-character escapes of JSON; 0 for 'u' and for letters that are not escapes.
var unescapeByte = [256]byte{
	'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// scanPlainString scans the JSON string whose opening quote is data[i] for as long as it needs
// no decoding. It returns the index just past the closing quote and true when the string
// holds neither escapes nor invalid UTF-8 (its inside decodes to itself); otherwise the index
// of the first escape or invalid UTF-8 byte and false; -1 if the string is not valid JSON.
func scanPlainString(data []byte, i int) (int, bool) {
	i++
	for {
		for i+16 <= len(data) {
			w0 := le64(data, i)
			w1 := le64(data, i+8)
			if m := specialMask(w0); m != 0 {
				i += firstFlagged(m)
				goto special
			}
			if m := specialMask(w1); m != 0 {
				i += 8 + firstFlagged(m)
				goto special
			}
			i += 16
		}
		if i+8 <= len(data) {
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
			return -1, false
		}
	special:
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			return i, false
		case c < 0x20:
			return -1, false
		}
		// A run of non-ASCII characters.
		for {
			n := runeLen(data, i)
			if n == 0 {
				return i, false
			}
			i += n
			if i >= len(data) || data[i] < utf8.RuneSelf {
				break
			}
		}
	}
}

// decodeString decodes the JSON string whose inside starts at data[start], validating it as it
// goes, and appends the result to dst. data[start:i] is already known to decode to itself.
// It returns dst and the index just past the closing quote, or -1 if the string is invalid.
//
// Like encoding/json, it turns each invalid UTF-8 byte into U+FFFD, a \u escape of a high
// surrogate followed by one of a low surrogate into one rune, and any other surrogate escape
// into U+FFFD, consuming only its own six bytes (so "\uD800\u0041" is U+FFFD then "A").
//
// It writes eight bytes at a time by index into the spare capacity of dst, with the room rule
// that from j on there is room for the rest of data plus 16 bytes: escapes only shrink, and
// only an invalid byte (1 byte in, 3 out) has to check for room.
func decodeString(dst, data []byte, start, i int) ([]byte, int) {
	if cap(dst)-len(dst) < len(data)-start+16 {
		dst = slices.Grow(dst, len(data)-start+16)
	}
	j := len(dst)
	out := dst[:cap(dst)]
	j += copy(out[j:], data[start:i])
	for {
		for i+16 <= len(data) {
			w0 := le64(data, i)
			w1 := le64(data, i+8)
			put64(out, j, w0)
			put64(out, j+8, w1)
			m0, m1 := specialMask(w0), specialMask(w1)
			if m0|m1 != 0 {
				k := firstFlagged(m0) // 8 when m0 == 0
				if m0 == 0 {
					k += firstFlagged(m1)
				}
				i += k
				j += k
				goto special
			}
			i += 16
			j += 16
		}
		if i+8 <= len(data) {
			w := le64(data, i)
			put64(out, j, w)
			if m := specialMask(w); m != 0 {
				k := firstFlagged(m)
				i += k
				j += k
				goto special
			}
			i += 8
			j += 8
		}
		for i < len(data) && plainByte[data[i]] {
			out[j] = data[i]
			i++
			j++
		}
		if i >= len(data) {
			return dst, -1
		}
	special:
		// Two-character escapes come first: they are most of what stops the loop above.
		if data[i] == '\\' && i+1 < len(data) {
			if b := unescapeByte[data[i+1]]; b != 0 {
				out[j] = b
				i += 2
				j++
				continue
			}
		}
		switch c := data[i]; {
		case c == '"':
			return out[:j], i + 1
		case c == '\\':
			if i+6 > len(data) || data[i+1] != 'u' {
				return dst, -1
			}
			r := hex4(data[i+2 : i+6])
			if r < 0 {
				return dst, -1
			}
			i += 6
			if utf16.IsSurrogate(r) {
				low := rune(-1)
				if i+6 <= len(data) && data[i] == '\\' && data[i+1] == 'u' {
					low = hex4(data[i+2 : i+6])
				}
				if r = utf16.DecodeRune(r, low); r != utf8.RuneError {
					i += 6
				}
			}
			j += utf8.EncodeRune(out[j:], r)
		case c < 0x20:
			return dst, -1
		default:
			if n := runeLen(data, i); n > 0 {
				if i+8 <= len(data) {
					put64(out, j, le64(data, i)) // room for a word, as above
				} else {
					copy(out[j:j+n], data[i:i+n])
				}
				i += n
				j += n
				continue
			}
			if len(out)-j < len(data)-i+16+2 {
				out = slices.Grow(out[:j], len(data)-i+16+2)
				out = out[:cap(out)]
			}
			out[j], out[j+1], out[j+2] = 0xef, 0xbf, 0xbd // U+FFFD
			i++
			j += 3
		}
	}
}

// appendUnquoted appends the decoded inside of the valid JSON string text (quotes included).
func appendUnquoted(dst, text []byte) []byte {
	dst, _ = decodeString(dst, text, 1, 1)
	return dst
}
