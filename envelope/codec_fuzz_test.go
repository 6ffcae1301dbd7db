package envelope

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// CI runs each target briefly, for example:
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 15s -fuzzminimizetime 5s ./envelope
//
// The seed corpus is committed under testdata/fuzz/<Name>/; the f.Add seeds below add a few
// more inline.

// fuzzFrames are seeds for the targets that take raw frames.
var fuzzFrames = []string{
	``, `{}`, `[]`, `null`, `"x"`, `1`,
	`{"type":"ping"}`, `{"type":"pong"}`,
	`{"id":"m1","type":"message","role":"user","content":"hi","metadata":{"a":[1,2,{"b":null}]},"timestamp":1700000000123}`,
	`{"type":"tool_result","content":"\ud83d\ude00\ud800\u0041\n\"","role":"tool","timestamp":-1}`,
	`{"\u0074ype":"typing","content":"","x":[true,false,null,-0.5e+7],"type":"error"}`,
	`{"type":[1,"a",{"b":2},[3]],"content":"x"}`,
	"{\"type\":\"message\",\"content\":\"\xff\xe2\x80\"}",
	`{"type":"message","content":"x","timestamp":9223372036854775808}`,
	`[[[[[[[[[[]]]]]]]]]]`, `{"a":{"a":{"a":{}}}}`, `{"type":"message","content":"x"} `,
	`{"type":"message","content":"x",}`, `{"n":01}`, `{"n":1.}`, `{"n":1e+}`,
}

// FuzzDecode checks that Decode never panics and that what it accepts survives a round trip.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzFrames {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := Decode(data, &m)
		if errors.Is(err, ErrHeartbeat) {
			if (m.Type != "ping" && m.Type != "pong") || !equalMessage(m, Message{Type: m.Type}) {
				t.Fatalf("heartbeat left %+v", m)
			}
			return
		}
		if err != nil {
			var e *DecodeError
			if !errors.As(err, &e) || e.Text == "" {
				t.Fatalf("Decode returned %v", err)
			}
			if !equalMessage(m, Message{}) {
				t.Fatalf("Decode failed but left %+v", m)
			}
			return
		}
		if !m.Type.Valid() {
			t.Fatalf("accepted type %q", m.Type)
		}
		if len(m.Metadata) > 0 && !json.Valid(m.Metadata) {
			t.Fatalf("metadata %q is not valid JSON", m.Metadata)
		}
		enc := AppendMessage(nil, &m)
		if !utf8.Valid(enc) {
			t.Fatalf("re-encoded frame is not valid UTF-8: %q", enc)
		}
		var again Message
		if err := Decode(enc, &again); err != nil {
			t.Fatalf("re-decoding %q: %v", enc, err)
		}
		if !equalMessage(m, again) {
			t.Fatalf("round trip changed the message:\nfirst  %+v\nsecond %+v", m, again)
		}
	})
}

// fuzzMetadata is the fixed set FuzzRoundTrip picks Metadata from: Metadata is written
// verbatim and must be a JSON object, so arbitrary bytes would not be a fair input.
var fuzzMetadata = []json.RawMessage{
	nil,
	json.RawMessage(`{}`),
	json.RawMessage(`{"a":1}`),
	json.RawMessage(`{"code":"RATE_LIMITED","n":[1,2.5e3,null,true],"s":"\u00e9\"<>"}`),
	json.RawMessage(`{ "nested" : { "deep" : [ { } ] } }`),
}

var fuzzTypes = []Type{TypeMessage, TypeTyping, TypeError, TypeToolCall, TypeToolResult, TypeSystem}

// FuzzRoundTrip checks decode(encode(m)) == m for arbitrary strings, with invalid UTF-8 in
// the input replaced by U+FFFD byte by byte, as the encoder does.
func FuzzRoundTrip(f *testing.F) {
	f.Add("m1", "user", "hello", uint8(0), uint8(0), int64(1700000000123))
	f.Add("", "", "", uint8(5), uint8(1), int64(0))
	f.Add("\xff\xfe", "assistant\n", "\"quoted\"\\ \u2028 \x00 é中😀", uint8(3), uint8(3), int64(-1))
	f.Add("id", "robot", "<b>&amp;</b>\t\r\b\f", uint8(4), uint8(4), int64(-9223372036854775808))
	f.Fuzz(func(t *testing.T, id, role, content string, typ, meta uint8, ts int64) {
		m := Message{ID: id, Type: fuzzTypes[int(typ)%len(fuzzTypes)], Role: Role(role),
			Content: content, Metadata: fuzzMetadata[int(meta)%len(fuzzMetadata)], Timestamp: ts}
		enc := AppendMessage(nil, &m)
		if !json.Valid(enc) {
			t.Fatalf("encoded %+v as invalid JSON %q", m, enc)
		}
		// Appending after a prefix, into exactly the room AppendMessage documents or less,
		// gives the same bytes.
		for _, room := range []int{len(enc) + 8, len(enc) / 2, 0} {
			dst := append(make([]byte, 0, 3+room), "abc"...)
			if got := AppendMessage(dst, &m); string(got) != "abc"+string(enc) {
				t.Fatalf("with room %d: %q, want abc%q", room, got, enc)
			}
		}
		var got Message
		if err := Decode(enc, &got); err != nil {
			t.Fatalf("Decode(%q): %v", enc, err)
		}
		m.ID, m.Content = replaceInvalidUTF8(m.ID), replaceInvalidUTF8(m.Content)
		m.Role = Role(replaceInvalidUTF8(string(m.Role)))
		if !equalMessage(got, m) {
			t.Fatalf("round trip:\ngot  %+v\nwant %+v", got, m)
		}
	})
}

// FuzzValidJSON checks that Decode's notion of valid JSON (any outcome but the parse error)
// agrees with json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range fuzzFrames {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Decode(data, new(Message))
		var e *DecodeError
		parseErr := errors.As(err, &e) && e.Text == errTextParse
		if valid := json.Valid(data); valid == parseErr {
			t.Fatalf("json.Valid = %v but Decode returned %v for %q", valid, err, data)
		}
	})
}
