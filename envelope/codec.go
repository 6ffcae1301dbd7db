package envelope

// Codec
//
// AppendMessage and Decode convert between Message and its JSON wire form with the standard
// library only, without reflection and without package unsafe. The rules they follow:
//
//   - Escaping: the encoder escapes '"', '\\', control characters (with the short forms \n \r
//     \t \b \f, \u00XX otherwise), and U+2028/U+2029 (as \u2028/\u2029), and replaces each
//     invalid UTF-8 byte with \ufffd, exactly as encoding/json does. Unlike encoding/json it
//     does NOT escape the HTML-sensitive '<', '>' and '&': frames travel over a WebSocket and
//     are never embedded in HTML, and leaving them alone keeps chat text short and readable.
//     Its output equals encoding/json's with SetEscapeHTML(false).
//   - Depth: values nested deeper than MaxJSONDepth are rejected as invalid JSON. Validation
//     is iterative, so no input can exhaust the goroutine stack.
//   - Keys: object keys are unescaped before they are matched, and match exactly: "Type" is
//     not "type" (encoding/json would match case-insensitively). When a key repeats, the last
//     one wins, as with encoding/json and JavaScript's JSON.parse.
//   - Allocation: AppendMessage allocates nothing when dst has room for the result plus 8
//     bytes. Decode allocates one string that holds the ID, Content and any non-standard
//     Role (the Message fields are substrings of it; Type and the standard roles are the
//     package constants), plus one slice for Metadata when present: at most 2 allocations,
//     none of them aliasing the input, so callers may reuse their read buffers. Strings with
//     escapes are decoded through a scratch buffer kept in a sync.Pool.
//
// Both scan strings eight bytes at a time (SWAR: a few integer operations flag, in one
// 64-bit word, the bytes that need attention) and write whole words into their output; see
// codec_scan.go.

import (
	"slices"
)

// MaxJSONDepth is the deepest nesting of objects and arrays that Decode accepts, counting the
// envelope object itself; deeper input is reported as invalid JSON. It equals the limit of
// encoding/json, so both agree on which inputs are valid.
const MaxJSONDepth = 10000

// The texts of the errors Decode returns, fixed by the wire contract that clients match on.
const (
	errTextParse     = "Failed to parse message as JSON"
	errTextNotObject = "Message must be a JSON object"
	errTextType      = "Invalid message type: "
	errTextTypeTail  = ". Expected one of: message, typing, error, tool_call, tool_result, system"
	errTextContent   = "Message must have a string 'content' field"
)

// The heartbeat types: a frame whose "type" is one of them is answered by Decode with
// ErrHeartbeat. They are not envelope types, so they are not exported as Type constants.
const (
	heartbeatPing Type = "ping"
	heartbeatPong Type = "pong"
)

// AppendMessage appends the JSON encoding of m to dst and returns the extended slice. It
// allocates nothing when dst has room for the result plus 8 bytes (which it may use while
// it works, storing whole words).
//
// The object has the keys "id", "type", "role", "content", "metadata" and "timestamp", in
// that order. All of them are always present except "metadata", which is omitted when
// m.Metadata is empty and otherwise copied verbatim: it must hold a single JSON object.
// Strings are escaped as encoding/json escapes them with SetEscapeHTML(false): '"', '\\'
// and control characters are escaped, U+2028 and U+2029 become \u2028 and \u2029, each
// invalid UTF-8 byte becomes \ufffd, and '<', '>' and '&' are left alone (frames are never
// embedded in HTML).
func AppendMessage(dst []byte, m *Message) []byte {
	// What is left to write, without escapes, from each key on; the encoder stores whole
	// words, so it also wants spare bytes past the end (see codec_encode.go).
	tsLen := 13 // the length of every millisecond timestamp from 2001 to 2286
	if m.Timestamp < 1e12 || m.Timestamp >= 1e13 {
		tsLen = decimalLen(m.Timestamp)
	}
	tail := len(`","timestamp":`) + tsLen + len(`}`) + spare
	if len(m.Metadata) > 0 {
		tail += len(`","metadata":`) + len(m.Metadata) + len(`,"timestamp":`) - len(`","timestamp":`)
	}
	fromContent := len(`","content":"`) + len(m.Content) + tail
	fromRole := len(`","role":"`) + len(m.Role) + fromContent
	fromType := len(`","type":"`) + len(m.Type) + fromRole
	if n := len(`{"id":"`) + len(m.ID) + fromType; cap(dst)-len(dst) < n {
		dst = slices.Grow(dst, n)
	}
	buf, j := dst[:cap(dst)], len(dst)
	j += copy(buf[j:j+7], `{"id":"`)
	// IDs of 16 to 32 plain bytes are written here, as four overlapping words, without a call.
	if id := m.ID; len(id) >= 16 && len(id) <= 32 {
		w0, w1, w2, w3 := load64(id, 0), load64(id, 8), load64(id, len(id)-16), load64(id, len(id)-8)
		if specialMask(w0)|specialMask(w1)|specialMask(w2)|specialMask(w3) == 0 {
			put64(buf, j, w0)
			put64(buf, j+8, w1)
			put64(buf, j+len(id)-16, w2)
			put64(buf, j+len(id)-8, w3)
			j += len(id)
		} else {
			buf, j = appendEscaped(buf, j, id)
		}
	} else {
		buf, j = appendEscaped(buf, j, id)
	}
	// Escapes make the output longer than planned: make room again after each string.
	if len(buf)-j < fromType {
		buf = grow(buf, j, fromType)
	}
	// Types and roles are short words: plain ones of 4 to 7 bytes are written here, as two
	// overlapping 4-byte words, without a call.
	j += copy(buf[j:j+10], `","type":"`)
	if t := string(m.Type); len(t) >= 4 && len(t) <= 7 {
		lo, hi := load32(t, 0), load32(t, len(t)-4)
		if specialMask(uint64(lo)|uint64(hi)<<32) == 0 {
			put32(buf, j, lo)
			put32(buf, j+len(t)-4, hi)
			j += len(t)
		} else {
			buf, j = appendEscaped(buf, j, t)
		}
	} else {
		buf, j = appendEscaped(buf, j, t)
	}
	if len(buf)-j < fromRole {
		buf = grow(buf, j, fromRole)
	}
	j += copy(buf[j:j+10], `","role":"`)
	if r := string(m.Role); len(r) >= 4 && len(r) <= 7 {
		lo, hi := load32(r, 0), load32(r, len(r)-4)
		if specialMask(uint64(lo)|uint64(hi)<<32) == 0 {
			put32(buf, j, lo)
			put32(buf, j+len(r)-4, hi)
			j += len(r)
		} else {
			buf, j = appendEscaped(buf, j, r)
		}
	} else {
		buf, j = appendEscaped(buf, j, r)
	}
	if len(buf)-j < fromContent {
		buf = grow(buf, j, fromContent)
	}
	j += copy(buf[j:j+13], `","content":"`)
	buf, j = appendEscaped(buf, j, m.Content)
	if len(buf)-j < tail {
		buf = grow(buf, j, tail)
	}
	if len(m.Metadata) > 0 {
		j += copy(buf[j:j+13], `","metadata":`)
		j += copy(buf[j:], m.Metadata)
		j += copy(buf[j:j+13], `,"timestamp":`)
	} else {
		j += copy(buf[j:j+14], `","timestamp":`)
	}
	j = putInt(buf, j, m.Timestamp, tsLen)
	buf[j] = '}'
	return buf[:j+1]
}

// Decode parses one inbound frame into *m, which it overwrites entirely.
//
// It returns nil when data is a JSON object with a "type" that is one of the six envelope
// types and a string "content". It returns ErrHeartbeat, with m.Type set to "ping" or "pong"
// and the other fields zero, when data is a JSON object whose "type" is the string "ping" or
// "pong". Otherwise it returns a *DecodeError whose Text is one of
//
//	Failed to parse message as JSON
//	Message must be a JSON object
//	Invalid message type: <value>. Expected one of: message, typing, error, tool_call, tool_result, system
//	Message must have a string 'content' field
//
// checked in that order, and m is left zero. <value> shows the "type" value as a JavaScript
// template literal would: undefined when missing, a string as itself, null, true and false,
// a number as its JSON text (JavaScript would normalise 1.0 to 1; this does not), an object
// as [object Object], and an array as its elements' forms joined by "," (nested arrays are
// flattened the same way, null elements are empty).
//
// "content": null is not a string. "id" and "role" are used only when they are strings,
// "metadata" only when it is an object (it is kept verbatim, except that each byte of
// invalid UTF-8 in its strings becomes the escape \ufffd, so that frames built from the
// Message are valid UTF-8, as WebSocket text frames must be), and "timestamp" only when it
// is a number written as an integer (no fraction or exponent) that fits int64; otherwise
// they are left zero. Other keys are ignored, but the whole frame must be valid JSON (RFC
// 8259, nested at most MaxJSONDepth deep; a frame of 2 GiB or more is rejected as well).
// Keys are matched exactly after unescaping ("Type" is not "type"), and of repeated keys the
// last wins. Strings are unescaped, and invalid UTF-8 and unpaired surrogates become U+FFFD,
// as with encoding/json. Nothing in m aliases data: callers may reuse it.
func Decode(data []byte, m *Message) error {
	d := decoder{data: data}
	err := d.parse()
	if err == nil {
		err = d.fill(m)
	} else {
		*m = Message{}
	}
	if d.pooled != nil {
		d.release()
	}
	return err
}

// AppendString appends s to dst as a JSON string, escaped as AppendMessage escapes strings:
// quotes, backslashes and control characters escaped, U+2028 and U+2029 as \u2028 and
// \u2029, invalid UTF-8 replaced by U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	buf, j := appendEscaped(dst[:cap(dst)], len(dst), s)
	return append(buf[:j], '"')
}
