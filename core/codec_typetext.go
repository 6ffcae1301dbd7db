package core

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
	if len(num) > 19 {
		return 0
	}
	var u uint64
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0
		}
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow uint64
	}
	switch {
	case !neg && u <= 1<<63-1:
		return int64(u)
	case neg && u <= 1<<63:
		return -int64(u-1) - 1
	}
	return 0
}
