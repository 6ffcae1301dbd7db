package envelope

import (
	"encoding/json"
	"strings"
	"testing"
)

// Decoding tests that need more than a table: agreement with encoding/json on strings and on
// what is valid JSON, the depth limit, and independence from the input buffer.

// TestDecodeMatchesEncodingJSON checks the string rules (escapes, surrogates, invalid UTF-8)
// against encoding/json's Unmarshal. It holds with GOEXPERIMENT=jsonv2 too.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	contents := []string{
		`\ud800\u0041`, `\ud800`, `\udfff`, `\udc00\ud800`, `\ud83d\ude00`, `\uD83D\uDE00x`,
		`\ud83d\ud83d\ude00`, `\ud83d\\`, `\ud83dx`, `\u00e9\u4e2d`, `\ufffd`,
		"\xff", "a\xe2\x80", "\xed\xa0\x80", "\xf0\x9f\x98", "\xc3\x28", "\xf4\x90\x80\x80",
		"\xe2\x80\xa8", "\x7f", `\/\"\\\b\f\n\r\t`, "abc\xffdef\\n\xfe",
	}
	for _, c := range contents {
		in := `{"type":"message","content":"` + c + `","id":"` + c + `"}`
		var ref wireMessage
		if err := json.Unmarshal([]byte(in), &ref); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", in, err)
		}
		var m Message
		if err := Decode([]byte(in), &m); err != nil {
			t.Fatalf("Decode(%q): %v", in, err)
		}
		if m.Content != ref.Content || m.ID != ref.ID {
			t.Errorf("Decode(%q): content %+q id %+q, encoding/json %+q %+q", in, m.Content, m.ID, ref.Content, ref.ID)
		}
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", 64<<10)
	wantError(t, "[[[…", Decode([]byte(deep), new(Message)), errTextParse)
	deep = `{"type":"message","content":"x","m":` + strings.Repeat(`{"a":`, 64<<10)
	wantError(t, `{"a":{"a":…`, Decode([]byte(deep), new(Message)), errTextParse)

	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	wantError(t, "[…] at the limit", Decode([]byte(nest(MaxJSONDepth)), new(Message)), errTextNotObject)
	wantError(t, "[…] past the limit", Decode([]byte(nest(MaxJSONDepth+1)), new(Message)), errTextParse)

	// The envelope object counts as one level.
	inObject := func(n int) string {
		return `{"type":"message","content":"x","metadata":{"a":` + nest(n-2) + `}}`
	}
	var m Message
	if err := Decode([]byte(inObject(MaxJSONDepth)), &m); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
	wantError(t, "{…} past the limit", Decode([]byte(inObject(MaxJSONDepth+1)), &m), errTextParse)
	for _, n := range []int{MaxJSONDepth, MaxJSONDepth + 1} {
		if got, want := Decode([]byte(nest(n)), &m).(*DecodeError).Text == errTextParse, !json.Valid([]byte(nest(n))); got != want {
			t.Errorf("depth %d: parse error %v, json.Valid %v", n, got, !want)
		}
	}
}

func TestDecodeNumbersMatchValid(t *testing.T) {
	nums := []string{"0", "-0", "1", "-1", "10", "01", "-01", "00", "1.5", "1.", ".5", "-.5", "1.05e10",
		"1e5", "1E5", "1e+5", "1e-5", "1e", "1e+", "1e-", "1ee5", "1.5.5", "+1", "--1", "-", "0x1",
		"1_000", "Infinity", "-Infinity", "NaN", "1e05", "0.0", "0e0", "-0.0e-0", "123456789012345678901234567890"}
	for _, n := range nums {
		for _, in := range []string{n, "[" + n + "]", `{"type":"message","content":"x","n":` + n + `}`, `{"type":` + n + `}`} {
			err := Decode([]byte(in), new(Message))
			isParse := err != nil && err.(*DecodeError).Text == errTextParse
			if isParse == json.Valid([]byte(in)) {
				t.Errorf("%q: parse error %v, json.Valid %v", in, isParse, json.Valid([]byte(in)))
			}
		}
	}
}

func TestDecodeDoesNotAlias(t *testing.T) {
	in := []byte(`{"id":"abc","type":"message","role":"robot","content":"hello","metadata":{"k":"v"},"timestamp":1}`)
	var m Message
	if err := Decode(in, &m); err != nil {
		t.Fatal(err)
	}
	want := Message{ID: "abc", Type: TypeMessage, Role: "robot", Content: "hello",
		Metadata: json.RawMessage(`{"k":"v"}`), Timestamp: 1}
	for i := range in {
		in[i] = 'X'
	}
	if !equalMessage(m, want) {
		t.Errorf("after overwriting the input: %+v", m)
	}
}
