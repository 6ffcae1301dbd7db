package envelope

// This file turns decoded values into Message fields and error texts: the type and role
// constants, the metadata copy, the timestamp, and the text of the type error.

import (
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

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
	var u uint64
	switch n := len(num); {
	case n <= 8:
		w := padDigits(num, n)
		if !allDigits(w) {
			return 0
		}
		u = parse8(w)
	case n <= 16:
		// Two groups of eight (the first padded with zeros), parsed side by side.
		hi, lo := padDigits(num, n-8), le64(num, n-8)
		if !allDigits(hi) || !allDigits(lo) {
			return 0
		}
		u = parse8(hi)*1e8 + parse8(lo)
	case n <= 19:
		for _, c := range num {
			if c < '0' || c > '9' {
				return 0
			}
			u = u*10 + uint64(c-'0') // 19 digits cannot overflow uint64
		}
	default:
		return 0
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u)
	case neg && u <= 1<<63:
		return -int64(u-1) - 1
	}
	return 0
}

// allDigits reports whether the eight bytes of w are all ASCII digits. A byte that is not is
// below '0' (the subtraction borrows), above '9' (the addition reaches the high bit) or not
// ASCII; whatever else a borrow or carry flags, at least one byte is flagged.
func allDigits(w uint64) bool {
	return ((w-swarLo*'0')|(w+swarLo*(0x80-'9'-1))|w)&swarHi == 0
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
		// As in allDigits; only the first flagged byte is exact.
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

// envelopeType returns the Type constant that a decoded "type" names, or "" for any other
// string. The heartbeat types count as known here.
func envelopeType(w []byte) Type {
	switch string(w) {
	case "message":
		return TypeMessage
	case "typing":
		return TypeTyping
	case "error":
		return TypeError
	case "tool_call":
		return TypeToolCall
	case "tool_result":
		return TypeToolResult
	case "system":
		return TypeSystem
	case "ping":
		return heartbeatPing
	case "pong":
		return heartbeatPong
	}
	return ""
}

// knownRole returns the Role constant that a decoded "role" names, or "".
func knownRole(w []byte) Role {
	switch string(w) {
	case "user":
		return RoleUser
	case "assistant":
		return RoleAssistant
	case "system":
		return RoleSystem
	}
	return ""
}

// copyMetadata returns a copy of the metadata object raw, with each byte of invalid UTF-8 (which
// can only be inside its strings) replaced by the escape \ufffd, so that every frame built from
// a decoded Message is valid UTF-8, as the text frames of WebSocket must be.
func copyMetadata(raw []byte) json.RawMessage {
	if utf8.Valid(raw) {
		return append(json.RawMessage(nil), raw...)
	}
	out := make(json.RawMessage, 0, len(raw)+16)
	for i := 0; i < len(raw); {
		if raw[i] < utf8.RuneSelf {
			out = append(out, raw[i])
			i++
			continue
		}
		if n := runeLen(raw, i); n > 0 {
			out = append(out, raw[i:i+n]...)
			i += n
			continue
		}
		out = append(out, `\ufffd`...)
		i++
	}
	return out
}
