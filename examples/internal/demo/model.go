package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/chatwire/chatwire/core"
)

// FakeModel is a deterministic stand-in for an LLM, so anyone can watch streaming, cancel and
// resume without an API key. Every message gets a reply with the parts a thinking model with
// tools produces, in this order, each streamed piece by piece:
//
//  1. reasoning (a short thought about the question);
//  2. a roll_die tool call whose input streams in ({"sides":6} in two fragments), then its
//     result (the die is seeded by the question);
//  3. a source (source-url) the answer cites;
//  4. the text: Answer's words, with the die's result in the second sentence.
//
// The stored message's content is the text alone. The same question always gets the same
// reply.
type FakeModel struct {
	// WordDelay is the pause between streamed pieces. Default: 40ms.
	WordDelay time.Duration
	// Words is the length of the text in words. Default: DefaultWords.
	Words int
}

// DefaultWords is the length of the fake model's text when FakeModel.Words is 0.
const DefaultWords = 120

// RollDieCallID is the tool call id of the fake model's roll_die call in the reply whose
// stream (and message) id is replyID: unique in the session, as a model's call ids are.
func RollDieCallID(replyID string) string { return "roll-die-" + replyID }

var _ core.Handler = FakeModel{}

// FakeSource is the source every fake reply cites.
var FakeSource = core.SourceURL{ID: "src-protocol", URL: "https://github.com/chatwire/chatwire/blob/main/PROTOCOL.md", Title: "chatwire wire protocol"}

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
		n = DefaultWords
	}
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	r := &fakeReply{s: s, tick: time.NewTicker(delay)}
	defer r.tick.Stop()
	err = r.run(ctx, req.Message.Content, n)
	if s.Context().Err() != nil {
		return s.Close(context.WithoutCancel(ctx)) // stored as "cancelled" with the parts so far
	}
	if err != nil {
		return err
	}
	s.SetFinishReason(core.FinishStop)
	return s.Close(ctx)
}

// fakeReply writes one reply, pausing between pieces.
type fakeReply struct {
	s    *core.Stream
	tick *time.Ticker
}

// wait pauses one tick; it returns the stream's cancel cause when a client cancelled.
func (r *fakeReply) wait() error {
	select {
	case <-r.s.Context().Done():
		return context.Cause(r.s.Context())
	case <-r.tick.C:
		return nil
	}
}

func (r *fakeReply) run(ctx context.Context, question string, n int) error {
	s := r.s
	// Step 1: reasoning, then the tool call.
	if err := s.StartStep(ctx); err != nil {
		return err
	}
	thought, err := s.StartReasoning(ctx)
	if err != nil {
		return err
	}
	for _, w := range Reasoning(question) {
		if err := r.wait(); err != nil {
			return err
		}
		if err := thought.Delta(ctx, w); err != nil {
			return err
		}
	}
	if err := thought.End(ctx); err != nil {
		return err
	}
	sides := 6
	if WantsQuestion(question) { // human in the loop: ask the user (model_hitl.go)
		if sides, err = r.askSides(ctx); err != nil {
			return err
		}
	}
	roll, err := r.rollDie(ctx, question, sides)
	if err != nil {
		return err
	}
	if err := s.FinishStep(ctx); err != nil {
		return err
	}
	// Step 2: the source, then the text.
	if err := s.StartStep(ctx); err != nil {
		return err
	}
	if err := s.SourceURL(ctx, FakeSource); err != nil {
		return err
	}
	for _, w := range Text(question, roll, n) {
		if err := r.wait(); err != nil {
			return err
		}
		if err := s.Delta(ctx, w); err != nil {
			return err
		}
	}
	return s.FinishStep(ctx)
}

// rollDie is the model's tool call: its input streams in, then the result arrives.
// With sides other than 6 (the user's answer to the question), the result is the roll
// folded onto that die; when the call needs approval and is denied, roll is 0.
func (r *fakeReply) rollDie(ctx context.Context, question string, sides int) (int, error) {
	call, err := r.s.StartToolCall(ctx, core.ToolCallInfo{ID: RollDieCallID(r.s.ID()), Name: "roll_die"})
	if err != nil {
		return 0, err
	}
	for _, frag := range []string{`{"sides":`, strconv.Itoa(sides) + `}`} {
		if err := r.wait(); err != nil {
			return 0, err
		}
		if err := call.InputDelta(ctx, frag); err != nil {
			return 0, err
		}
	}
	if err := call.Input(ctx, json.RawMessage(`{"sides":`+strconv.Itoa(sides)+`}`)); err != nil {
		return 0, err
	}
	if WantsApproval(question) { // human in the loop: may the tool run? (model_hitl.go)
		ok, err := approve(ctx, call)
		if err != nil || !ok {
			return 0, err
		}
	}
	if err := r.wait(); err != nil { // the tool runs
		return 0, err
	}
	roll := DieRoll(question)
	if sides != 6 {
		roll = (DieRoll(question)*7919)%sides + 1
	}
	if err := call.Output(ctx, json.RawMessage(`{"result":`+strconv.Itoa(roll)+`}`)); err != nil {
		return 0, err
	}
	return roll, nil
}

// DieRoll is the deterministic result of the fake model's roll_die call for question.
func DieRoll(question string) int {
	h := fnv.New32a()
	h.Write([]byte(question))
	return int(h.Sum32()%6 + 1)
}

// Reasoning returns the fake model's reasoning about question, as the pieces it streams.
func Reasoning(question string) []string {
	return strings.SplitAfter(fmt.Sprintf("The user wrote %d characters. I will roll a six-sided die and cite the protocol.", len(question)), " ")
}

// Text returns the fake model's text for question after rolling roll: Answer's n words, the
// die's result told after the first sentence (DeniedText when roll is 0: the call was
// denied).
func Text(question string, roll, n int) []string {
	words := Answer(question, n)
	out := make([]string, 0, len(words)+1)
	told := fmt.Sprintf("The die shows %d. ", roll)
	if roll == 0 {
		told = DeniedText // the roll_die call was denied (human in the loop)
	}
	out = append(out, words[0], told)
	return append(out, words[1:]...)
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
