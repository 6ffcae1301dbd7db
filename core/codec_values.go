package core

import "encoding/binary"

// typeText shows the "type" value as a JavaScript template literal would (see Decode).
func (d *decoder) typeText() string {
	v := &d.fields[fieldType]
	text := d.data[v.start:v.end]
	switch v.kind {
	case kindMissing:
		return "undefined"
	case kindString:
		return string(d.text(v))
	case kindObject:
		return "[object Object]"
	case kindArray:
		return string(appendArrayText(nil, text))
	}
	return string(text) // a number, true, false or null: its JSON text
}

// appendArrayText appends what JavaScript's Array.prototype.toString gives for the valid JSON
// array text: the elements' forms joined by ",", where a nested array is joined the same way,
// null is empty, an object is [object Object], a string is itself and a number is its JSON
// text. It walks the text once, without recursion: outside objects (which are skipped whole),
// every comma separates array elements.
func appendArrayText(dst, text []byte) []byte {
	for i := 1; i < len(text); {
		switch c := text[i]; c {
		case ',':
			dst = append(dst, ',')
			i++
		case '"':
			end, _, _ := scanString(text, i)
			dst = appendUnquoted(dst, text[i:end])
			i = end
		case '{':
			dst = append(dst, "[object Object]"...)
			i = skipValue(text, i, 0)
		case 'n':
			i += len("null")
		case 't':
			dst = append(dst, "true"...)
			i += len("true")
		case 'f':
			dst = append(dst, "false"...)
			i += len("false")
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			end := scanNumber(text, i)
			dst = append(dst, text[i:end]...)
			i = end
		default: // whitespace, '[' and ']'
			i++
		}
	}
	return dst
}

// parseInt64 returns the value of a valid JSON number when it is written as an integer
// (no fraction or exponent) that fits int64, and 0 otherwise.
func parseInt64(num []byte) int64 {
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	if len(num) > 19 || countDigits(num, 0) != len(num) {
		return 0
	}
	var u uint64
	switch n := len(num); {
	case n <= 8:
		u = parse8(padDigits(num, n))
	case n <= 16:
		// Two groups of eight (the first padded with zeros), parsed side by side.
		u = parse8(padDigits(num, n-8))*1e8 + parse8(binary.LittleEndian.Uint64(num[n-8:]))
	default:
		for _, c := range num {
			u = u*10 + uint64(c-'0') // 19 digits cannot overflow uint64
		}
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u)
	case neg && u <= 1<<63:
		return -int64(u-1) - 1
	}
	return 0
}

// padDigits returns the first m (1 to 8) digits of num as eight ASCII digits, zero-padded on
// the left, in a little-endian word.
func padDigits(num []byte, m int) uint64 {
	var w uint64
	if len(num) >= 8 {
		w = binary.LittleEndian.Uint64(num)
	} else {
		for k := len(num) - 1; k >= 0; k-- {
			w = w<<8 | uint64(num[k])
		}
	}
	return w<<(8*(8-m)) | asciiZeros>>(8*m)
}

// parse8 returns the value of eight ASCII digits held in a little-endian word (the first digit
// in the low byte), combining digits into pairs, pairs into fours and fours into eight with
// a few multiplications instead of eight dependent ones.
func parse8(w uint64) uint64 {
	w -= asciiZeros
	w = w*10 + w>>8 // each even byte: the value of a pair of digits
	return ((w&0x000000ff000000ff)*(100+1000000<<32) + (w>>16&0x000000ff000000ff)*(1+10000<<32)) >> 32
}

// countDigits returns how many ASCII digits data holds from i on before anything else.
func countDigits(data []byte, i int) int {
	start := i
	for i+8 <= len(data) {
		w := le64(data, i)
		// A byte is not a digit when it is below '0' (the subtraction borrows), above '9' (the
		// addition reaches the high bit) or not ASCII; only the first flagged byte is exact.
		if m := ((w - swarLo*'0') | (w + swarLo*(0x80-'9'-1)) | w) & swarHi; m != 0 {
			return i + firstFlagged(m) - start
		}
		i += 8
	}
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i - start
}
