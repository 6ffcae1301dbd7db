package core

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// load64 returns s[0:8] as a little-endian word; the compiler turns it into one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendString appends s to dst as a quoted JSON string, escaping as the Codec notes in
// codec.go say: the output equals encoding/json's with HTML escaping turned off. Runs of bytes
// that need nothing are found eight at a time and copied whole.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start, i := 0, 0
	for {
		for i+8 <= len(s) {
			if m := specialMask(load64(s[i : i+8])); m != 0 {
				i += firstFlagged(m)
				goto special
			}
			i += 8
		}
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
	special:
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 (E2 80 A8 and E2 80 A9) end lines in JavaScript source.
		if s[i] == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xa8 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', '8'+s[i+2]-0xa8)
			i += 3
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

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
