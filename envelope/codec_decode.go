package envelope

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"sync"
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

// The envelope keys Decode reads, as indexes into decoder.fields. The first four are the
// string fields, which the parser decodes as it validates them.
const (
	fieldID = iota
	fieldType
	fieldRole
	fieldContent
	fieldMetadata
	fieldTimestamp
	numFields
)

// span is where the value of one envelope key is.
type span struct {
	start, end int // data[start:end] is the value's JSON text, quotes included
	kind       jsonKind
	// decoded says that a string field needed decoding (escapes or invalid UTF-8), and that
	// its decoded text is scratch[from:to]; otherwise its text is data[start+1:end-1]. (The
	// 32-bit offsets keep a span at 32 bytes; Decode rejects frames of 2 GiB or more.)
	decoded  bool
	from, to int32
}

// decoder parses one frame: parse validates it and records where the envelope keys' values
// are, decoding the string fields that need it into scratch; fill then checks the contract
// and builds the Message.
type decoder struct {
	data    []byte
	scratch []byte              // decoded string fields; from scratchPool, only when one needs decoding
	pooled  *[]byte             // what scratch came from
	fields  [numFields + 1]span // one per envelope key, and a spare for other keys
}

// scratchPool holds the buffers that string fields with escapes are decoded into before
// they are copied into the Message's one allocation.
var scratchPool sync.Pool

// maxPooledScratch is the largest scratch buffer put back in scratchPool.
const maxPooledScratch = 1 << 20

// text returns the decoded text of a string field.
func (d *decoder) text(v *span) []byte {
	if v.decoded {
		return d.scratch[v.from:v.to]
	}
	return d.data[v.start+1 : v.end-1]
}

// release gives the scratch buffer back to the pool; d.pooled must be set.
func (d *decoder) release() {
	if cap(d.scratch) <= maxPooledScratch {
		*d.pooled = d.scratch[:0]
		scratchPool.Put(d.pooled)
	}
}

func errInvalid(text string) error { return &DecodeError{Text: text} }

// keyWord returns the first eight bytes of s as a little-endian word, for comparing keys.
func keyWord(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.LittleEndian.Uint64(b[:])
}

// The envelope keys without their opening quote, with their closing quote, as words; for
// the two longest keys, their first eight bytes.
var (
	keyID      = keyWord(`id"`)
	keyType    = keyWord(`type"`)
	keyRole    = keyWord(`role"`)
	keyContent = keyWord(`content"`)
	keyMeta    = keyWord(`metadata`)
	keyTime    = keyWord(`timestam`)
)

// parse validates the whole input as JSON and, when it is an object, records its members.
func (d *decoder) parse() error {
	data := d.data
	i := skipWS(data, 0)
	if i >= len(data) || len(data) >= 1<<31 {
		return errInvalid(errTextParse)
	}
	if data[i] != '{' {
		if i = skipValue(data, i, 0); i < 0 || skipWS(data, i) != len(data) {
			return errInvalid(errTextParse)
		}
		return errInvalid(errTextNotObject)
	}
	if i = skipWS(data, i+1); i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			if i >= len(data) || data[i] != '"' {
				return errInvalid(errTextParse)
			}
			// Envelope keys written plainly, as every client writes them, are recognized
			// from one word; anything else is scanned in full.
			field, end := -1, 0
			if i+11 <= len(data) {
				switch w := le64(data, i+1); {
				case w&0xffffff == keyID:
					field, end = fieldID, i+4
				case w&0xffffffffff == keyType:
					field, end = fieldType, i+6
				case w == keyContent:
					field, end = fieldContent, i+9
				case w&0xffffffffff == keyRole:
					field, end = fieldRole, i+6
				case w == keyTime && data[i+9] == 'p' && data[i+10] == '"':
					field, end = fieldTimestamp, i+11
				case w == keyMeta && data[i+9] == '"':
					field, end = fieldMetadata, i+10
				}
			}
			if end == 0 {
				var escaped bool
				var invalid int
				if end, escaped, invalid = scanString(data, i); end < 0 {
					return errInvalid(errTextParse)
				}
				field = matchKey(data[i:end], escaped, invalid)
			}
			i = end
			if i < len(data) && data[i] != ':' {
				i = skipWS(data, i)
			}
			if i >= len(data) || data[i] != ':' {
				return errInvalid(errTextParse)
			}
			if i = skipWS(data, i+1); i >= len(data) {
				return errInvalid(errTextParse)
			}
			// The value's span goes straight into its slot (or the spare one, for keys that
			// are not envelope keys): a repeated key overwrites it, so the last one wins.
			slot := field
			if slot < 0 {
				slot = numFields
			}
			v := &d.fields[slot]
			v.start, v.decoded = i, false // kind and end are set below; from and to only if decoded
			switch data[i] {
			case '"':
				v.kind = kindString
				// A short plain string, such as a type or a role, is seen whole in two words.
				if i+17 <= len(data) {
					m0, m1 := specialMask(le64(data, i+1)), specialMask(le64(data, i+9))
					if k := firstFlagged(m0); m0 != 0 || m1 != 0 {
						if m0 == 0 {
							k += firstFlagged(m1)
						}
						if data[i+1+k] == '"' {
							i += k + 2
							break
						}
					}
				}
				if field >= 0 && field < fieldMetadata {
					end, plain := scanPlainString(data, i)
					if !plain && end >= 0 {
						end = d.decodeField(i, end, v)
					}
					i = end
				} else {
					i, _, _ = scanString(data, i)
				}
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
			v.end = i
			if i >= len(data) || data[i] <= ' ' {
				if i = skipWS(data, i); i >= len(data) {
					return errInvalid(errTextParse)
				}
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

// decodeField decodes the string value of a string field, which opens at data[i] and needs
// decoding from data[at] on (see scanPlainString), into scratch, and returns the index past
// it or -1.
func (d *decoder) decodeField(i, at int, v *span) int {
	if d.scratch == nil {
		if p, ok := scratchPool.Get().(*[]byte); ok {
			d.pooled, d.scratch = p, *p
		} else {
			d.pooled, d.scratch = new([]byte), make([]byte, 0, len(d.data)+16)
		}
	}
	var end int
	v.decoded, v.from = true, int32(len(d.scratch))
	d.scratch, end = decodeString(d.scratch, d.data, i+1, at)
	v.to = int32(len(d.scratch))
	return end
}

// matchKey returns the field that the key text (quotes included) names, or -1. Keys match
// exactly, after unescaping.
func matchKey(text []byte, escaped bool, invalid int) int {
	if invalid > 0 {
		return -1 // decodes to a U+FFFD, which no envelope key holds
	}
	raw := text[1 : len(text)-1]
	if escaped {
		if len(raw) > maxEscapedWord {
			return -1
		}
		var buf [maxEscapedWord + 24]byte
		raw = appendUnquoted(buf[:0], text)
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

// maxEscapedWord is the longest text, escapes included, that can decode to one of the keys,
// types or roles Decode knows: "tool_result" with every letter written as \uXXXX.
const maxEscapedWord = 6 * len("tool_result")

// fill checks the envelope rules on a parsed object and writes the Message.
func (d *decoder) fill(m *Message) error {
	typ := &d.fields[fieldType]
	var t Type
	if typ.kind == kindString {
		t = envelopeType(d.text(typ))
	}
	switch t {
	case "":
		*m = Message{}
		return errInvalid(errTextType + d.typeText() + errTextTypeTail)
	case heartbeatPing, heartbeatPong:
		*m = Message{Type: t}
		return ErrHeartbeat
	}
	content := &d.fields[fieldContent]
	if content.kind != kindString {
		*m = Message{}
		return errInvalid(errTextContent)
	}

	// ID, Content and an unknown Role share one allocation.
	id, role := &d.fields[fieldID], &d.fields[fieldRole]
	var idText, roleText []byte
	if id.kind == kindString {
		idText = d.text(id)
	}
	var r Role
	if role.kind == kindString {
		if roleText = d.text(role); len(roleText) > 0 {
			if r = knownRole(roleText); r != "" {
				roleText = nil
			}
		}
	}
	contentText := d.text(content)
	var b strings.Builder
	b.Grow(len(contentText) + len(idText) + len(roleText))
	b.Write(contentText)
	b.Write(idText)
	b.Write(roleText)
	all := b.String()
	nc, ni := len(contentText), len(contentText)+len(idText)
	if r == "" {
		r = Role(all[ni:])
	}
	var meta json.RawMessage
	if v := &d.fields[fieldMetadata]; v.kind == kindObject {
		meta = copyMetadata(d.data[v.start:v.end])
	}
	var ts int64
	if v := &d.fields[fieldTimestamp]; v.kind == kindNumber {
		ts = parseInt64(d.data[v.start:v.end])
	}
	*m = Message{ID: all[nc:ni], Type: t, Role: r, Content: all[:nc], Metadata: meta, Timestamp: ts}
	return nil
}
