package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/chatwire/chatwire/core"
)

// FakeModel is a deterministic stand-in for an LLM, so anyone can watch streaming, cancel and
// resume without an API key. It answers every message with a long text streamed word by
// word, and rolls a die through a tool call half-way. The same question always gets the same
// answer (the die is seeded by the question).
type FakeModel struct {
	// WordDelay is the pause between words. Default: 40ms.
	WordDelay time.Duration
	// Words is the length of an answer in words. Default: 120.
	Words int
}

var _ core.Handler = FakeModel{}

// ServeChat implements core.Handler.
func (f FakeModel) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	if req.Message.Type != core.TypeMessage {
		return nil
	}
	delay, n := f.WordDelay, f.Words
	if delay <= 0 {
		delay = 40 * time.Millisecond
	}
	if n <= 0 {
		n = 120
	}
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	words := Answer(req.Message.Content, n)
	t := time.NewTicker(delay)
	defer t.Stop()
	for i, word := range words {
		if i == len(words)/2 {
			if err := rollDie(ctx, s, req.Message.Content); err != nil {
				return err
			}
		}
		select {
		case <-s.Context().Done():
			return s.Close(context.WithoutCancel(ctx)) // stored as "cancelled" with the text so far
		case <-t.C:
		}
		if err := s.Delta(ctx, word); err != nil {
			return err
		}
	}
	return s.Close(ctx)
}

// rollDie performs the model's tool call: a tool_call envelope, then its tool_result.
func rollDie(ctx context.Context, s *core.Stream, seed string) error {
	args, _ := json.Marshal(map[string]any{"name": "roll_die", "arguments": map[string]int{"sides": 6}})
	if err := s.Send(ctx, core.Message{Type: core.TypeToolCall, Content: string(args)}); err != nil {
		return err
	}
	h := fnv.New32a()
	h.Write([]byte(seed))
	result, _ := json.Marshal(map[string]any{"name": "roll_die", "result": h.Sum32()%6 + 1})
	return s.Send(ctx, core.Message{Type: core.TypeToolResult, Content: string(result)})
}

var vocabulary = strings.Fields(`the socket stays open while tokens arrive one by one and every
connection of the session sees them grow a reconnect resumes from the text so far on any
instance cancel stops the model where it stands history keeps one message per reply not one
per token heartbeats keep idle links honest`)

// Answer returns the deterministic answer to question: n words, each followed by a space
// (the last by a period).
func Answer(question string, n int) []string {
	h := fnv.New64a()
	h.Write([]byte(question))
	x := h.Sum64() | 1
	out := make([]string, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = vocabulary[x%uint64(len(vocabulary))] + " "
	}
	out[0] = fmt.Sprintf("You said %q. ", question)
	out[n-1] = strings.TrimSpace(out[n-1]) + "."
	return out
}
