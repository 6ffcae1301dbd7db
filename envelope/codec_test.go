package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// wireMessage mirrors Message with encoding/json tags: the reference the codec is checked
// against.
type wireMessage struct {
	ID        string          `json:"id"`
	Type      Type            `json:"type"`
	Role      Role            `json:"role"`
	Content   string          `json:"content"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Timestamp int64           `json:"timestamp"`
}

// referenceEncode encodes m with encoding/json. HTML escaping is turned off because the codec
// deliberately leaves '<', '>' and '&' alone (see the Codec notes in codec.go).
func referenceEncode(t testing.TB, m *Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(wireMessage(*m)); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// replaceInvalidUTF8 replaces each invalid UTF-8 byte with U+FFFD, as encoders and decoders do.
func replaceInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// codecStrings are strings that exercise every escaping rule, at various offsets so that both
// the 8-byte scan and the byte-by-byte tail see them.
func codecStrings() []string {
	s := []string{
		"", "a", "hello, world", `"`, `\`, "\n\r\t\b\f", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "héllo 中文 😀", "\u2028\u2029", "a\u2028b\u2029c",
		"\xff", "\xe2\x80", "\xe2\x80\xa8\xe2", "\xed\xa0\x80", "\xf0\x9f\x98", "\xc3\x28",
		"\uFFFD", "\U0010FFFF", "\xf4\x90\x80\x80", "\x80\x81\x82\x83\x84\x85\x86\x87\x88",
		strings.Repeat("x", 100), strings.Repeat(`ab"cd\ef`, 20),
		strings.Repeat("é", 50) + "\n", "0123456\"89abcde\x01", "01234567\u2028",
	}
	for c := 0; c < 256; c++ {
		for _, pos := range []int{0, 3, 7, 8, 13, 16} {
			b := []byte(strings.Repeat("z", 20))
			b[pos] = byte(c)
			s = append(s, string(b))
		}
	}
	return s
}

func TestAppendMessageGolden(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"zero", Message{}, `{"id":"","type":"","role":"","content":"","timestamp":0}`},
		{"full", Message{ID: "m1", Type: TypeMessage, Role: RoleUser, Content: "hi",
			Metadata: json.RawMessage(`{"a":[1,2]}`), Timestamp: 1700000000123},
			`{"id":"m1","type":"message","role":"user","content":"hi","metadata":{"a":[1,2]},"timestamp":1700000000123}`},
		{"escapes", Message{Type: TypeSystem, Content: "q\"b\\n\nr\rt\tb\bf\f\x00\x1f"},
			`{"id":"","type":"system","role":"","content":"q\"b\\n\nr\rt\tb\bf\f\u0000\u001f","timestamp":0}`},
		{"html not escaped", Message{Content: "<a href=\"x\">&</a>"},
			`{"id":"","type":"","role":"","content":"<a href=\"x\">&</a>","timestamp":0}`},
		{"line separators", Message{Content: "a\u2028b\u2029"},
			`{"id":"","type":"","role":"","content":"a\u2028b\u2029","timestamp":0}`},
		{"invalid utf8", Message{ID: "\xff", Content: "a\xe2\x80b"},
			`{"id":"\ufffd","type":"","role":"","content":"a\ufffd\ufffdb","timestamp":0}`},
		{"non-ascii kept", Message{Content: "é中😀"},
			`{"id":"","type":"","role":"","content":"é中😀","timestamp":0}`},
		{"metadata verbatim", Message{Metadata: json.RawMessage(`{ "x" : "<" }`), Timestamp: -1},
			`{"id":"","type":"","role":"","content":"","metadata":{ "x" : "<" },"timestamp":-1}`},
		{"min timestamp", Message{Timestamp: math.MinInt64},
			`{"id":"","type":"","role":"","content":"","timestamp":-9223372036854775808}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendMessage([]byte("prefix"), &tt.m)
			if want := "prefix" + tt.want; string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestAppendMessageMatchesEncodingJSON compares the encoder with encoding/json for the same
// Message. encoding/json escapes '<', '>' and '&' by default; the codec does not, by design,
// so the reference runs with SetEscapeHTML(false).
func TestAppendMessageMatchesEncodingJSON(t *testing.T) {
	for _, s := range codecStrings() {
		m := Message{ID: s, Type: Type(s), Role: Role(s), Content: s,
			Metadata: json.RawMessage(`{"k":"v"}`), Timestamp: int64(len(s)) * 1e11}
		got, want := AppendMessage(nil, &m), referenceEncode(t, &m)
		// Both write U+FFFD for invalid UTF-8, encoding/json v1 as the escape \ufffd and v2
		// (GOEXPERIMENT=jsonv2) as the character itself. No test string holds a backslash
		// followed by "ufffd", so the replacement below cannot change anything else.
		got = bytes.ReplaceAll(got, []byte(`\ufffd`), []byte("\uFFFD"))
		want = bytes.ReplaceAll(want, []byte(`\ufffd`), []byte("\uFFFD"))
		if !bytes.Equal(got, want) {
			t.Errorf("%+q:\ngot  %s\nwant %s", s, got, want)
		}
	}
}

// wantError checks that err is a *DecodeError with the given text.
func wantError(t *testing.T, input string, err error, text string) {
	t.Helper()
	var e *DecodeError
	if !errors.As(err, &e) {
		t.Fatalf("Decode(%q) = %v, want *DecodeError %q", input, err, text)
	}
	if e.Text != text {
		t.Errorf("Decode(%q) = %q, want %q", input, e.Text, text)
	}
}

func typeError(value string) string { return errTextType + value + errTextTypeTail }

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		// Not JSON.
		{``, errTextParse},
		{`   `, errTextParse},
		{`{`, errTextParse},
		{`{"type":"message","content":"x"`, errTextParse},
		{`{"type":"message","content":"x"}}`, errTextParse},
		{`{"type":"message","content":"x"} x`, errTextParse},
		{`{"type":"message","content":"x"}{}`, errTextParse},
		{`{"type":"message","content":"x",}`, errTextParse},
		{`{"type":"message" "content":"x"}`, errTextParse},
		{`{"type" "message"}`, errTextParse},
		{`{type:"message"}`, errTextParse},
		{`{'type':'message'}`, errTextParse},
		{`{"type":"message","content":"a` + "\n" + `b"}`, errTextParse},
		{`{"type":"message","content":"a` + "\x00" + `b"}`, errTextParse},
		{`{"type":"message","content":"\x"}`, errTextParse},
		{`{"type":"message","content":"\u12"}`, errTextParse},
		{`{"type":"message","content":"\u12g4"}`, errTextParse},
		{`{"type":"message","content":"x","n":01}`, errTextParse},
		{`{"type":"message","content":"x","n":+1}`, errTextParse},
		{`{"type":"message","content":"x","n":.5}`, errTextParse},
		{`{"type":"message","content":"x","n":1.}`, errTextParse},
		{`{"type":"message","content":"x","n":1e}`, errTextParse},
		{`{"type":"message","content":"x","n":1e+}`, errTextParse},
		{`{"type":"message","content":"x","n":-}`, errTextParse},
		{`{"type":"message","content":"x","n":NaN}`, errTextParse},
		{`{"type":"message","content":"x","n":tru}`, errTextParse},
		{`{"type":"message","content":"x","n":nul}`, errTextParse},
		{`{"type":"message","content":"x","n":[1,]}`, errTextParse},
		{`{"type":"message","content":"x","n":[,1]}`, errTextParse},
		{`{"type":"message","content":"x","n":{"a"}}`, errTextParse},
		{`{"type":"message","content":"x","n":{"a":1,}}`, errTextParse},
		{`{"type":"message","content":"x","n":{1:1}}`, errTextParse},
		{`{"type":"message","content":"x","n":[1}`, errTextParse},
		{`{"type":"message","content":"x","metadata":{"a":1]}`, errTextParse},
		{"\xef\xbb\xbf{}", errTextParse}, // a byte order mark is not JSON
		{"{\"type\":\"message\",\"content\":\"x\"}\x00", errTextParse},
		{`[1,`, errTextParse},
		{`"abc`, errTextParse},
		{`nulll`, errTextParse},
		{`1 2`, errTextParse},
		// Valid JSON, not an object.
		{`"message"`, errTextNotObject},
		{`42`, errTextNotObject},
		{` -1.5e+3 `, errTextNotObject},
		{`true`, errTextNotObject},
		{`false`, errTextNotObject},
		{`null`, errTextNotObject},
		{`[]`, errTextNotObject},
		{`[{"type":"message","content":"x"}]`, errTextNotObject},
		// Type.
		{`{}`, typeError("undefined")},
		{`{"content":"x"}`, typeError("undefined")},
		{`{"Type":"message","content":"x"}`, typeError("undefined")},
		{`{"type":"chat","content":"x"}`, typeError("chat")},
		{`{"type":"","content":"x"}`, typeError("")},
		{`{"type":"Message","content":"x"}`, typeError("Message")},
		{`{"type":"message ","content":"x"}`, typeError("message ")},
		{`{"type":"a\"b\u00e9\n","content":"x"}`, typeError("a\"bé\n")},
		{`{"type":"` + strings.Repeat("x", 70) + `"}`, typeError(strings.Repeat("x", 70))},
		{`{"type":"\u0074\u006f\u006f\u006c\u005f\u0072\u0065\u0073\u0075\u006c\u0074s"}`, typeError("tool_results")},
		{"{\"type\":\"mess\xffage\"}", typeError("mess\uFFFDage")},
		{`{"type":null,"content":"x"}`, typeError("null")},
		{`{"type":true}`, typeError("true")},
		{`{"type":false}`, typeError("false")},
		{`{"type":42}`, typeError("42")},
		{`{"type":-1.5e3}`, typeError("-1.5e3")},
		{`{"type":1.50}`, typeError("1.50")}, // the raw token: JavaScript would show 1.5
		{`{"type":1e2}`, typeError("1e2")},   // JavaScript would show 100
		{`{"type":{}}`, typeError("[object Object]")},
		{`{"type":{"type":"message"}}`, typeError("[object Object]")},
		{`{"type":[]}`, typeError("")},
		{`{"type":["message"]}`, typeError("message")},
		{`{"type":[1,"a",true,null,{"x":[1,2]},[2,[3,"b"]],[]]}`, typeError("1,a,true,,[object Object],2,3,b,")},
		{`{"type":[ "a" , "b,c" ]}`, typeError("a,b,c")},
		{`{"type":"message","type":"nope","content":"x"}`, typeError("nope")},
		{`{"type":"message","type":null,"content":"x"}`, typeError("null")},
		// Type is checked before content.
		{`{"type":"bad"}`, typeError("bad")},
		{`{"content":1,"type":1}`, typeError("1")},
		// Content.
		{`{"type":"message"}`, errTextContent},
		{`{"type":"message","content":null}`, errTextContent},
		{`{"type":"message","content":1}`, errTextContent},
		{`{"type":"message","content":true}`, errTextContent},
		{`{"type":"message","content":["x"]}`, errTextContent},
		{`{"type":"message","content":{"text":"x"}}`, errTextContent},
		{`{"type":"typing","Content":"x"}`, errTextContent},
		{`{"type":"message","content":"x","content":null}`, errTextContent},
	}
	for _, tt := range tests {
		m := Message{ID: "stale", Content: "stale", Timestamp: 1}
		err := Decode([]byte(tt.in), &m)
		wantError(t, tt.in, err, tt.want)
		if !equalMessage(m, Message{}) {
			t.Errorf("Decode(%q) left %+v, want a zero Message", tt.in, m)
		}
		if tt.want == errTextParse && json.Valid([]byte(tt.in)) {
			t.Errorf("%q: json.Valid disagrees with the parse error", tt.in)
		}
		if tt.want != errTextParse && !json.Valid([]byte(tt.in)) {
			t.Errorf("%q: json.Valid says invalid", tt.in)
		}
	}
}

func TestDecodeHeartbeat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Type
	}{
		{`{"type":"ping"}`, "ping"},
		{`{"type":"pong"}`, "pong"},
		{` { "id" : "x", "type" : "ping", "content": 5, "metadata": {} } `, "ping"},
		{`{"type":"\u0070ong","timestamp":12}`, "pong"},
		{`{"type":"message","type":"ping"}`, "ping"},
	} {
		m := Message{ID: "stale", Content: "stale"}
		if err := Decode([]byte(tt.in), &m); err != ErrHeartbeat {
			t.Errorf("Decode(%q) = %v, want ErrHeartbeat", tt.in, err)
		}
		if want := (Message{Type: tt.want}); !equalMessage(m, want) {
			t.Errorf("Decode(%q): %+v, want %+v", tt.in, m, want)
		}
	}
	for _, in := range []string{`{"type":"PING"}`, `{"type":" ping"}`, `{"type":["ping"]}`} {
		if err := Decode([]byte(in), new(Message)); err == ErrHeartbeat {
			t.Errorf("Decode(%q) = ErrHeartbeat", in)
		}
	}
	if err := Decode([]byte(`{"type":"ping"`), new(Message)); err == ErrHeartbeat {
		t.Error("invalid JSON with a ping type is a heartbeat")
	}
}

func equalMessage(a, b Message) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Role == b.Role && a.Content == b.Content &&
		bytes.Equal(a.Metadata, b.Metadata) && (a.Metadata == nil) == (b.Metadata == nil) &&
		a.Timestamp == b.Timestamp
}

func TestDecodeFields(t *testing.T) {
	tests := []struct {
		in   string
		want Message
	}{
		{`{"type":"message","content":""}`, Message{Type: TypeMessage}},
		{`{"id":"m1","type":"message","role":"user","content":"hi","metadata":{"a":1},"timestamp":1700000000123}`,
			Message{ID: "m1", Type: TypeMessage, Role: RoleUser, Content: "hi",
				Metadata: json.RawMessage(`{"a":1}`), Timestamp: 1700000000123}},
		{" \t\r\n{ \"timestamp\" : 5 , \"content\" : \"c\" , \"type\" : \"typing\" } \n",
			Message{Type: TypeTyping, Content: "c", Timestamp: 5}},
		{`{"type":"error","content":"x","role":"assistant"}`, Message{Type: TypeError, Role: RoleAssistant, Content: "x"}},
		{`{"type":"tool_call","content":"x","role":"system"}`, Message{Type: TypeToolCall, Role: RoleSystem, Content: "x"}},
		{`{"type":"tool_result","content":"x","role":"robot"}`, Message{Type: TypeToolResult, Role: "robot", Content: "x"}},
		{`{"type":"system","content":"x","role":"us\u0065r"}`, Message{Type: TypeSystem, Role: RoleUser, Content: "x"}},
		// Escaped keys and values.
		{`{"\u0069\u0064":"\u0041","\u0074\u0079\u0070\u0065":"\u0074\u006f\u006f\u006c\u005f\u0072\u0065\u0073\u0075\u006c\u0074","\u0063ontent":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`,
			Message{ID: "A", Type: TypeToolResult, Content: "\"\\/\b\f\n\r\té😀"}},
		// Keys match exactly.
		{`{"type":"message","content":"x","ID":"no","Role":"user","Timestamp":3,"Metadata":{}}`,
			Message{Type: TypeMessage, Content: "x"}},
		// Wrong kinds are dropped.
		{`{"type":"message","content":"x","id":1,"role":null,"metadata":[1],"timestamp":"5"}`,
			Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","id":{},"role":["user"],"metadata":"{}","timestamp":null}`,
			Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","metadata":null}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","metadata":{}}`, Message{Type: TypeMessage, Content: "x", Metadata: json.RawMessage(`{}`)}},
		{"{\"type\":\"message\",\"content\":\"x\",\"metadata\":{\"k\":\"a\xffb\xe2\x80\",\"\xed\xa0\x80\":\"é\"}}",
			Message{Type: TypeMessage, Content: "x", Metadata: json.RawMessage(`{"k":"a\ufffdb\ufffd\ufffd","\ufffd\ufffd\ufffd":"é"}`)}},
		{`{"type":"message","content":"x","metadata":{ "n" : [ 1 , {"d":"\u00e9"} ] }}`,
			Message{Type: TypeMessage, Content: "x", Metadata: json.RawMessage(`{ "n" : [ 1 , {"d":"\u00e9"} ] }`)}},
		// Timestamps.
		{`{"type":"message","content":"x","timestamp":-9223372036854775808}`, Message{Type: TypeMessage, Content: "x", Timestamp: math.MinInt64}},
		{`{"type":"message","content":"x","timestamp":9223372036854775807}`, Message{Type: TypeMessage, Content: "x", Timestamp: math.MaxInt64}},
		{`{"type":"message","content":"x","timestamp":9223372036854775808}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","timestamp":-9223372036854775809}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","timestamp":99999999999999999999}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","timestamp":-0}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","timestamp":1.5}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","timestamp":1.0}`, Message{Type: TypeMessage, Content: "x"}},
		{`{"type":"message","content":"x","timestamp":1e3}`, Message{Type: TypeMessage, Content: "x"}},
		// Unknown members are skipped, whatever they hold.
		{`{"x":{"a":[1,2,{"b":null}],"c":"\""},"type":"message","y":[[],{}],"content":"x","z":-0.5e-7,"w":true,"v":false,"u":null}`,
			Message{Type: TypeMessage, Content: "x"}},
		// The last of repeated keys wins.
		{`{"type":"bad","type":"message","content":1,"content":"x","id":"a","id":"b","id":2,"timestamp":1,"timestamp":2}`,
			Message{Type: TypeMessage, Content: "x", Timestamp: 2}},
		// Strings with everything the unescaper handles.
		{`{"type":"message","content":"\ud800\u0041"}`, Message{Type: TypeMessage, Content: "\uFFFDA"}},
		{`{"type":"message","content":"\ud800"}`, Message{Type: TypeMessage, Content: "\uFFFD"}},
		{`{"type":"message","content":"\udc00\ud800"}`, Message{Type: TypeMessage, Content: "\uFFFD\uFFFD"}},
		{`{"type":"message","content":"\ud800\ud800\udc00"}`, Message{Type: TypeMessage, Content: "\uFFFD\U00010000"}},
		{`{"type":"message","content":"\ud800\n"}`, Message{Type: TypeMessage, Content: "\uFFFD\n"}},
		{`{"type":"message","content":"\u0000\u001F\u2028"}`, Message{Type: TypeMessage, Content: "\x00\x1f\u2028"}},
		{"{\"type\":\"message\",\"content\":\"a\xffb\xe2\x80\"}", Message{Type: TypeMessage, Content: "a\uFFFDb\uFFFD\uFFFD"}},
		{"{\"type\":\"message\",\"content\":\"\xed\xa0\x80\\n\"}", Message{Type: TypeMessage, Content: "\uFFFD\uFFFD\uFFFD\n"}},
		{"{\"type\":\"message\",\"content\":\"\x7f<>&\u2028\"}", Message{Type: TypeMessage, Content: "\x7f<>&\u2028"}},
	}
	for _, tt := range tests {
		m := Message{ID: "stale", Role: "stale", Metadata: json.RawMessage(`{}`), Timestamp: 9}
		if err := Decode([]byte(tt.in), &m); err != nil {
			t.Errorf("Decode(%q): %v", tt.in, err)
			continue
		}
		if !equalMessage(m, tt.want) {
			t.Errorf("Decode(%q):\ngot  %+v\nwant %+v", tt.in, m, tt.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	metas := []json.RawMessage{nil, json.RawMessage(`{}`), json.RawMessage(`{"a":[1,"é",null],"b":{"c":true}}`)}
	types := []Type{TypeMessage, TypeTyping, TypeError, TypeToolCall, TypeToolResult, TypeSystem}
	roles := []Role{RoleUser, RoleAssistant, RoleSystem, "", "custom role"}
	for i, s := range codecStrings() {
		m := Message{ID: s, Type: types[i%len(types)], Role: roles[i%len(roles)], Content: s,
			Metadata: metas[i%len(metas)], Timestamp: int64(i) * -123456789}
		if i%4 == 0 {
			m.Role = Role(s)
		}
		var got Message
		if err := Decode(AppendMessage(nil, &m), &got); err != nil {
			t.Fatalf("%+q: %v", s, err)
		}
		m.ID, m.Content, m.Role = replaceInvalidUTF8(m.ID), replaceInvalidUTF8(m.Content), Role(replaceInvalidUTF8(string(m.Role)))
		if !equalMessage(got, m) {
			t.Errorf("round trip of %+q:\ngot  %+v\nwant %+v", s, got, m)
		}
	}
}
