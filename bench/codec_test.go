package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/bytedance/sonic"
	sonicenc "github.com/bytedance/sonic/encoder"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	gojson "github.com/goccy/go-json"
)

// The codec comparison. Every implementation handles the same envelopes (see Payloads) and
// reports throughput against the same length, chatwire's encoding of the envelope.
//
// How each one is used, so that the work is the same:
//
//   - chatwire: envelope.AppendMessage into a reused buffer; envelope.Decode into a reused Message.
//   - encoding_json, goccy: a reused Encoder over a reused bytes.Buffer with HTML escaping
//     off (chatwire does not escape HTML either); json.Unmarshal / gojson.Unmarshal into a
//     reused wireMessage.
//   - sonic: encoder.EncodeInto a reused buffer, and Unmarshal, with ValidateString on (so
//     that it replaces invalid UTF-8 when encoding and rejects raw control characters when
//     decoding, as chatwire does) and NoValidateJSONMarshaler plus CompactMarshaler (so that
//     it writes Metadata verbatim, as chatwire does). Its Unmarshal copies the frame once and
//     the decoded strings point into that copy, so they do not alias the input either.
//   - memcpy: copies the frame; the floor for any codec.
//
// After decoding, the third-party codecs also do the checks chatwire's Decode does that are
// cheap to add: the type is one of the six and content is present. (They do not produce
// chatwire's exact error texts, find heartbeats, or decode the keys case-sensitively.)

// wireMessage is core.Message with encoding/json tags, for the reflection-based codecs.
type wireMessage struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   string          `json:"content"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Timestamp int64           `json:"timestamp"`
}

func toWire(m *core.Message) wireMessage {
	return wireMessage{ID: m.ID, Type: string(m.Type), Role: string(m.Role), Content: m.Content,
		Metadata: m.Metadata, Timestamp: m.Timestamp}
}

// absent is stored in Content before unmarshalling: if it is still there afterwards, the
// frame had no content.
const absent = "\x00absent"

var errInvalid = errors.New("invalid envelope")

// check does the validation the third-party decoders skip.
func (w *wireMessage) check() error {
	if !core.Type(w.Type).Valid() || w.Content == absent {
		return errInvalid
	}
	return nil
}

const sonicEncodeOpts = sonicenc.ValidateString | sonicenc.NoValidateJSONMarshaler | sonicenc.CompactMarshaler

var sonicAPI = sonic.Config{ValidateString: true, NoValidateJSONMarshaler: true, CompactMarshaler: true}.Froze()

// encoder encodes one payload repeatedly; the returned func encodes once and returns the
// output so the benchmark can check it.
type encoderImpl struct {
	name string
	new  func(m *core.Message) func() ([]byte, error)
}

var encoders = []encoderImpl{
	{"chatwire", func(m *core.Message) func() ([]byte, error) {
		var buf []byte
		return func() ([]byte, error) {
			buf = envelope.AppendMessage(buf[:0], m)
			return buf, nil
		}
	}},
	{"encoding_json", func(m *core.Message) func() ([]byte, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		w := toWire(m)
		return func() ([]byte, error) {
			buf.Reset()
			err := enc.Encode(&w)
			return buf.Bytes(), err
		}
	}},
	{"goccy", func(m *core.Message) func() ([]byte, error) {
		var buf bytes.Buffer
		enc := gojson.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		w := toWire(m)
		return func() ([]byte, error) {
			buf.Reset()
			err := enc.Encode(&w)
			return buf.Bytes(), err
		}
	}},
	{"sonic", func(m *core.Message) func() ([]byte, error) {
		var buf []byte
		w := toWire(m)
		return func() ([]byte, error) {
			buf = buf[:0]
			err := sonicenc.EncodeInto(&buf, &w, sonicEncodeOpts)
			return buf, err
		}
	}},
	{"memcpy", func(m *core.Message) func() ([]byte, error) {
		frame := envelope.AppendMessage(nil, m)
		var buf []byte
		return func() ([]byte, error) {
			buf = append(buf[:0], frame...)
			return buf, nil
		}
	}},
}

type decoderImpl struct {
	name string
	new  func() func(frame []byte) (core.Message, error)
}

func fromWire(w *wireMessage) core.Message {
	return core.Message{ID: w.ID, Type: core.Type(w.Type), Role: core.Role(w.Role),
		Content: w.Content, Metadata: w.Metadata, Timestamp: w.Timestamp}
}

var decoders = []decoderImpl{
	{"chatwire", func() func([]byte) (core.Message, error) {
		var m core.Message
		return func(frame []byte) (core.Message, error) {
			err := envelope.Decode(frame, &m)
			return m, err
		}
	}},
	{"encoding_json", func() func([]byte) (core.Message, error) {
		var w wireMessage
		return func(frame []byte) (core.Message, error) {
			w = wireMessage{Content: absent}
			if err := json.Unmarshal(frame, &w); err != nil {
				return core.Message{}, err
			}
			return fromWire(&w), w.check()
		}
	}},
	{"goccy", func() func([]byte) (core.Message, error) {
		var w wireMessage
		return func(frame []byte) (core.Message, error) {
			w = wireMessage{Content: absent}
			if err := gojson.Unmarshal(frame, &w); err != nil {
				return core.Message{}, err
			}
			return fromWire(&w), w.check()
		}
	}},
	{"sonic", func() func([]byte) (core.Message, error) {
		var w wireMessage
		return func(frame []byte) (core.Message, error) {
			w = wireMessage{Content: absent}
			if err := sonicAPI.Unmarshal(frame, &w); err != nil {
				return core.Message{}, err
			}
			return fromWire(&w), w.check()
		}
	}},
	{"memcpy", func() func([]byte) (core.Message, error) {
		var buf []byte
		return func(frame []byte) (core.Message, error) {
			buf = append(buf[:0], frame...)
			return core.Message{}, nil
		}
	}},
}

// sonicProblem is why sonic cannot be benchmarked here ("" if it can). sonic compiles its
// codecs to machine code at run time and supports only some Go versions and CPUs; where it
// fails, its benchmarks are skipped with this reason instead of failing the run.
var sonicProblem = sync.OnceValue(func() (problem string) {
	defer func() {
		if v := recover(); v != nil {
			problem = fmt.Sprintf("sonic panicked on this platform (%s, %s/%s): %v",
				runtime.Version(), runtime.GOOS, runtime.GOARCH, v)
		}
	}()
	m := core.Message{ID: "x", Type: core.TypeMessage, Content: "é\"\n", Timestamp: 1}
	w := toWire(&m)
	var buf []byte
	if err := sonicenc.EncodeInto(&buf, &w, sonicEncodeOpts); err != nil {
		return "sonic cannot encode here: " + err.Error()
	}
	var back wireMessage
	if err := sonicAPI.Unmarshal(buf, &back); err != nil || !sameMessage(fromWire(&back), m) {
		return fmt.Sprintf("sonic does not round-trip here (%v)", err)
	}
	return ""
})

func skipBroken(b *testing.B, impl string) {
	if impl == "sonic" {
		if p := sonicProblem(); p != "" {
			b.Skip(p)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	payloads := Payloads()
	for _, impl := range encoders {
		for i := range payloads {
			p := &payloads[i]
			b.Run("impl="+impl.name+"/size="+p.Size, func(b *testing.B) {
				skipBroken(b, impl.name)
				encode := impl.new(&p.Message)
				b.SetBytes(int64(len(p.Frame())))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := encode(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	payloads := Payloads()
	for _, impl := range decoders {
		for i := range payloads {
			p := &payloads[i]
			b.Run("impl="+impl.name+"/size="+p.Size, func(b *testing.B) {
				skipBroken(b, impl.name)
				decode := impl.new()
				frame := p.Frame()
				b.SetBytes(int64(len(frame)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := decode(frame); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestCodecsAgree checks that every implementation in the comparison does the job: each
// encoder's output decodes (with chatwire) to the payload, and each decoder returns it.
func TestCodecsAgree(t *testing.T) {
	for _, p := range Payloads() {
		want := p.Message
		for _, impl := range encoders {
			if impl.name == "memcpy" || (impl.name == "sonic" && sonicProblem() != "") {
				continue
			}
			out, err := impl.new(&p.Message)()
			if err != nil {
				t.Fatalf("%s encode %s: %v", impl.name, p.Size, err)
			}
			var got core.Message
			if err := envelope.Decode(out, &got); err != nil || !sameMessage(got, want) {
				t.Errorf("%s encode %s: decodes to %v, %v", impl.name, p.Size, summary(got), err)
			}
		}
		for _, impl := range decoders {
			if impl.name == "memcpy" || (impl.name == "sonic" && sonicProblem() != "") {
				continue
			}
			got, err := impl.new()(p.Frame())
			if err != nil || !sameMessage(got, want) {
				t.Errorf("%s decode %s: %v, %v", impl.name, p.Size, summary(got), err)
			}
		}
	}
}

// TestThirdPartyChecks makes sure the validation added to the third-party decoders works.
func TestThirdPartyChecks(t *testing.T) {
	for _, frame := range []string{`{"type":"chat","content":"x"}`, `{"type":"message"}`, `{"content":"x"}`} {
		for _, impl := range decoders {
			if impl.name == "memcpy" || (impl.name == "sonic" && sonicProblem() != "") {
				continue
			}
			if _, err := impl.new()([]byte(frame)); err == nil {
				t.Errorf("%s accepts %s", impl.name, frame)
			}
		}
	}
}

func TestPayloadSizes(t *testing.T) {
	for _, p := range Payloads() {
		t.Logf("%s: content %d bytes, frame %d bytes", p.Size, len(p.Message.Content), len(p.Frame()))
	}
}

func sameMessage(a, b core.Message) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Role == b.Role && a.Content == b.Content &&
		bytes.Equal(a.Metadata, b.Metadata) && a.Timestamp == b.Timestamp
}

func summary(m core.Message) string {
	c := m.Content
	if len(c) > 40 {
		c = c[:40] + "…"
	}
	return string(m.Type) + "/" + string(m.Role) + "/" + m.ID + "/" + c
}

// TestSonicWorks reports whether sonic runs on this platform; the benchmarks skip it if not.
func TestSonicWorks(t *testing.T) {
	if p := sonicProblem(); p != "" {
		t.Skip(p)
	}
}
