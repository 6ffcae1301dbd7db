// Package bench holds chatwire's benchmarks and the payloads they share. The codec
// comparison is in codec_test.go; README.md has the results and how to reproduce them.
package bench

import (
	"encoding/json"
	"math/rand/v2"
	"strings"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

// Payload is one envelope the codec benchmarks encode and decode.
type Payload struct {
	// Size names the payload: S, M or L.
	Size string
	// Message is the envelope.
	Message core.Message
}

// Frame returns the payload's wire form as chatwire encodes it. Every implementation's
// benchmark reports throughput against this length, so MB/s compare like with like.
func (p *Payload) Frame() []byte { return envelope.AppendMessage(nil, &p.Message) }

// Payloads returns the three benchmark envelopes. They are generated from a fixed seed, so
// they are the same on every run and machine:
//
//   - S: a user message with about 100 bytes of plain ASCII content and no metadata, the
//     common case of a chat frame.
//   - M: an assistant reply with about 2 KB of prose that has quotes, newlines and non-ASCII
//     text (é, 中文, emoji), and a small metadata object.
//   - L: a tool result with 64 KB of mixed prose and code: quotes, backslashes, tabs,
//     newlines and non-ASCII text throughout.
func Payloads() []Payload {
	r := rand.New(rand.NewPCG(20240607, 1))
	return []Payload{
		{Size: "S", Message: core.Message{
			ID:        "msg_01HZX3K9V7Q2M4N6P8R0S2T4V6",
			Type:      core.TypeMessage,
			Role:      core.RoleUser,
			Content:   prose(r, 100, false),
			Timestamp: 1717755000123,
		}},
		{Size: "M", Message: core.Message{
			ID:        "msg_01HZX3KA1B3C5D7E9F1G3H5J7K",
			Type:      core.TypeMessage,
			Role:      core.RoleAssistant,
			Content:   prose(r, 2048, true),
			Metadata:  json.RawMessage(`{"model":"chat-large-2","usage":{"input_tokens":412,"output_tokens":587},"finish_reason":"stop","citations":["doc-17","doc-42"]}`),
			Timestamp: 1717755001456,
		}},
		{Size: "L", Message: core.Message{
			ID:        "msg_01HZX3KB2C4D6E8F0G2H4J6K8M",
			Type:      core.TypeToolResult,
			Role:      core.RoleAssistant,
			Content:   mixed(r, 64<<10),
			Metadata:  json.RawMessage(`{"tool":"read_file","path":"docs/guide.md","truncated":false}`),
			Timestamp: 1717755002789,
		}},
	}
}

var (
	plainWords = strings.Fields(`the a to of and in is it you that for on with as this be
		are was at by or from an have not can will your we if more when which their about
		message session server client history replay reply token stream network latency
		request response handler connection socket frame buffer retry timeout queue`)
	richWords = []string{"café", "naïve", "über", "déjà vu", "中文", "東京", "你好",
		"😀", "🚀", "👍🏽", "—", "…", "“quoted”", "Ελληνικά", "Привет", "¿qué?"}
)

// prose returns about n bytes of sentences. Without rich it is plain ASCII words; with rich,
// about one word in twelve is non-ASCII, some words are in double quotes, and paragraphs end
// with newlines.
func prose(r *rand.Rand, n int, rich bool) string {
	var b strings.Builder
	sentence := 0
	for b.Len() < n {
		words := 6 + r.IntN(10)
		for w := 0; w < words; w++ {
			word := plainWords[r.IntN(len(plainWords))]
			if rich {
				switch r.IntN(24) {
				case 0, 1:
					word = richWords[r.IntN(len(richWords))]
				case 2:
					word = `"` + word + `"`
				}
			}
			if w == 0 {
				word = strings.ToUpper(word[:1]) + word[1:]
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(word)
		}
		b.WriteByte('.')
		sentence++
		if rich && sentence%4 == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte(' ')
		}
	}
	s := b.String()
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}

// codeLines are lines of source code and shell output, the other half of a tool result.
var codeLines = []string{
	"func main() {",
	"\tfmt.Println(\"hello, world\")",
	"\tpath := \"C:\\\\Users\\\\chat\\\\notes.txt\"",
	"\tif err != nil { return fmt.Errorf(\"open %q: %w\", path, err) }",
	"}",
	"$ grep -n \"TODO\" *.go | wc -l",
	"const re = /\\d+\\s*\"[^\"]*\"/g;",
	"{\"id\": 17, \"name\": \"Zoë\", \"tags\": [\"a\", \"b\"]}",
	"\t\tlog.Printf(\"retry %d/%d after %s\\n\", n, max, d)",
}

// mixed returns at most n bytes of alternating prose paragraphs and code blocks.
func mixed(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(prose(r, 300+r.IntN(500), true))
		b.WriteString("\n```go\n")
		for k := 3 + r.IntN(8); k > 0; k-- {
			b.WriteString(codeLines[r.IntN(len(codeLines))])
			b.WriteByte('\n')
		}
		b.WriteString("```\n\n")
	}
	return strings.ToValidUTF8(b.String()[:n], "")
}
