package core

import (
	"encoding/json"
	"strings"
)

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	kindMissing jsonKind = iota
	kindString
	kindNumber
	kindObject
	kindArray
	kindTrue
	kindFalse
	kindNull
)

// The envelope keys Decode reads, as indexes into decoder.fields.
const (
	fieldID = iota
	fieldType
	fieldRole
	fieldContent
	fieldMetadata
	fieldTimestamp
	numFields
)

// span is where the value of one envelope key is in the input.
type span struct {
	start, end int // data[start:end] is the value's JSON text, quotes included
	kind       jsonKind
	escaped    bool // a string with escapes
	invalid    int  // invalid UTF-8 bytes in a string; each decodes to U+FFFD
}

// inner returns a string value's text without its quotes.
func (s *span) inner(data []byte) []byte { return data[s.start+1 : s.end-1] }

// plain reports whether a string value decodes to its own bytes.
func (s *span) plain() bool { return !s.escaped && s.invalid == 0 }

// maxLen bounds the decoded length of a string value: escapes only shrink, and an invalid
// byte grows into the three bytes of U+FFFD.
func (s *span) maxLen() int { return s.end - s.start - 2 + 2*s.invalid }

// maxEscapedWord is the longest text, escapes included, that can decode to one of the keys,
// types or roles Decode knows: "tool_result" with every letter written as \uXXXX.
const maxEscapedWord = 6 * len("tool_result")

// decoder parses one frame: parse validates it and records where the envelope keys' values
// are; fill then checks the contract and builds the Message.
type decoder struct {
	data   []byte
	fields [numFields]span
}

func errInvalid(text string) error { return NewError(CodeInvalidMessage, text) }

// parse validates the whole input as JSON and, when it is an object, records its members.
func (d *decoder) parse() error {
	data := d.data
	i := skipWS(data, 0)
	if i >= len(data) {
		return errInvalid(errTextParse)
	}
	if data[i] != '{' {
		if i = skipValue(data, i, 0); i < 0 || skipWS(data, i) != len(data) {
			return errInvalid(errTextParse)
		}
		return errInvalid(errTextNotObject)
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			if i >= len(data) || data[i] != '"' {
				return errInvalid(errTextParse)
			}
			key := i
			end, escaped, invalid := scanString(data, i)
			if end < 0 {
				return errInvalid(errTextParse)
			}
			field := matchKey(data[key+1:end-1], escaped, invalid)
			i = skipWS(data, end)
			if i >= len(data) || data[i] != ':' {
				return errInvalid(errTextParse)
			}
			if i = skipWS(data, i+1); i >= len(data) {
				return errInvalid(errTextParse)
			}
			v := span{start: i}
			switch data[i] {
			case '"':
				v.kind = kindString
				i, v.escaped, v.invalid = scanString(data, i)
			case '{':
				v.kind = kindObject
				i = skipValue(data, i, 1)
			case '[':
				v.kind = kindArray
				i = skipValue(data, i, 1)
			case 't':
				v.kind = kindTrue
				i = scanLiteral(data, i, "true")
			case 'f':
				v.kind = kindFalse
				i = scanLiteral(data, i, "false")
			case 'n':
				v.kind = kindNull
				i = scanLiteral(data, i, "null")
			default:
				v.kind = kindNumber
				i = scanNumber(data, i)
			}
			if i < 0 {
				return errInvalid(errTextParse)
			}
			if field >= 0 {
				v.end = i
				d.fields[field] = v // a repeated key: the last one wins
			}
			if i = skipWS(data, i); i >= len(data) {
				return errInvalid(errTextParse)
			}
			if data[i] == ',' {
				i = skipWS(data, i+1)
				continue
			}
			if data[i] != '}' {
				return errInvalid(errTextParse)
			}
			i++
			break
		}
	}
	if skipWS(data, i) != len(data) {
		return errInvalid(errTextParse)
	}
	return nil
}

// matchKey returns the field that the key raw (the inside of a string) names, or -1. Keys
// match exactly, after unescaping.
func matchKey(raw []byte, escaped bool, invalid int) int {
	if invalid > 0 {
		return -1 // decodes to a U+FFFD, which no envelope key holds
	}
	if escaped {
		if len(raw) > maxEscapedWord {
			return -1
		}
		var buf [maxEscapedWord]byte
		raw = appendUnquoted(buf[:0], raw)
	}
	switch string(raw) {
	case "id":
		return fieldID
	case "type":
		return fieldType
	case "role":
		return fieldRole
	case "content":
		return fieldContent
	case "metadata":
		return fieldMetadata
	case "timestamp":
		return fieldTimestamp
	}
	return -1
}

// knownWord returns the decoded text of a short string value in a buffer of its own when
// it may be one of the words Decode knows, and false when it is too long to be.
func (d *decoder) knownWord(v *span, buf *[maxEscapedWord]byte) ([]byte, bool) {
	raw := v.inner(d.data)
	if v.plain() {
		return raw, true
	}
	if v.invalid > 0 || len(raw) > maxEscapedWord {
		return nil, false
	}
	return appendUnquoted(buf[:0], raw), true
}

// envelopeType returns the Type constant that a string value names, or "" for any other
// string. The heartbeat types count as known here.
func (d *decoder) envelopeType(v *span) Type {
	var buf [maxEscapedWord]byte
	w, ok := d.knownWord(v, &buf)
	if !ok {
		return ""
	}
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

// knownRole returns the Role constant that a string value names, or "".
func (d *decoder) knownRole(v *span) Role {
	var buf [maxEscapedWord]byte
	w, ok := d.knownWord(v, &buf)
	if !ok {
		return ""
	}
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

// fill checks the envelope rules on a parsed object and writes the Message.
func (d *decoder) fill(m *Message) error {
	*m = Message{}
	typ := &d.fields[fieldType]
	var t Type
	if typ.kind == kindString {
		t = d.envelopeType(typ)
	}
	switch t {
	case "":
		return errInvalid(errTextType + d.typeText() + errTextTypeTail)
	case heartbeatPing, heartbeatPong:
		m.Type = t
		return ErrHeartbeat
	}
	content := &d.fields[fieldContent]
	if content.kind != kindString {
		return errInvalid(errTextContent)
	}

	// ID, Content and an unknown Role share one allocation.
	id, role := &d.fields[fieldID], &d.fields[fieldRole]
	size := content.maxLen()
	if id.kind == kindString {
		size += id.maxLen()
	}
	var r Role
	if role.kind == kindString {
		if r = d.knownRole(role); r == "" {
			size += role.maxLen()
		}
	}
	var b strings.Builder
	b.Grow(size)
	d.write(&b, content)
	nContent := b.Len()
	if id.kind == kindString {
		d.write(&b, id)
	}
	nID := b.Len()
	if role.kind == kindString && r == "" {
		d.write(&b, role)
	}
	all := b.String()
	m.Content = all[:nContent]
	m.ID = all[nContent:nID]
	if r == "" {
		r = Role(all[nID:])
	}
	m.Type, m.Role = t, r

	if meta := &d.fields[fieldMetadata]; meta.kind == kindObject {
		m.Metadata = append(json.RawMessage(nil), d.data[meta.start:meta.end]...)
	}
	if ts := &d.fields[fieldTimestamp]; ts.kind == kindNumber {
		m.Timestamp = parseInt64(d.data[ts.start:ts.end])
	}
	return nil
}

// write appends the decoded form of a string value to b.
func (d *decoder) write(b *strings.Builder, v *span) {
	raw := v.inner(d.data)
	if v.plain() {
		b.Write(raw)
		return
	}
	for i := 0; i < len(raw); {
		j, r, next := unquoteStep(raw, i)
		b.Write(raw[i:j])
		if r >= 0 {
			b.WriteRune(r)
		}
		i = next
	}
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

// typeText shows the "type" value as a JavaScript template literal would (see Decode).
func (d *decoder) typeText() string {
	v := &d.fields[fieldType]
	text := d.data[v.start:v.end]
	switch v.kind {
	case kindMissing:
		return "undefined"
	case kindString:
		return string(appendUnquoted(nil, v.inner(d.data)))
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
			dst = appendUnquoted(dst, text[i+1:end-1])
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
