package demo

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/chatwire/chatwire/core"
)

// The fake model's human in the loop: a message with the word "approve" makes it ask for
// approval of its roll_die call before running it; one with the word "ask" makes it ask the
// user how many sides the die has first (a question with a one-field form).

// HITLTimeout is how long the fake model waits for an approval or an answer before it
// takes the timeout's answer (denied, cancelled).
const HITLTimeout = 10 * time.Minute

// SidesSchema is the form of the fake model's question: the die's number of sides.
const SidesSchema = `{"type":"object","properties":{"sides":{"type":"integer","title":"Sides","description":"How many sides the die has","minimum":2,"maximum":100}},"required":["sides"]}`

// hasWord reports whether text contains word as a whole word (case-insensitive).
func hasWord(text, word string) bool {
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if f == word {
			return true
		}
	}
	return false
}

// WantsApproval reports whether the fake model asks for approval before its tool call.
func WantsApproval(question string) bool { return hasWord(question, "approve") }

// WantsQuestion reports whether the fake model asks the user a question first.
func WantsQuestion(question string) bool { return hasWord(question, "ask") }

// askSides asks the user how many sides the die has; 6 unless an answer accepted another
// number.
func (r *fakeReply) askSides(ctx context.Context) (int, error) {
	a, err := r.s.Ask(ctx, core.Question{Message: "How many sides should the die have?", Schema: json.RawMessage(SidesSchema)}, core.AskOptions{Timeout: HITLTimeout})
	if err != nil {
		return 0, err
	}
	if a.Action != core.AnswerAccept {
		return 6, nil
	}
	var v struct {
		Sides int `json:"sides"`
	}
	if json.Unmarshal(a.Content, &v) != nil || v.Sides < 2 {
		return 6, nil
	}
	return v.Sides, nil
}

// approve asks for approval of the call; false means denied (the call ends output-denied).
func approve(ctx context.Context, call *core.ToolCall) (bool, error) {
	a, err := call.RequestApproval(ctx, core.ApprovalOptions{Timeout: HITLTimeout})
	if err != nil {
		return false, err
	}
	return a.Approved, nil
}

// DeniedText is the fake model's first sentence after its roll_die call was denied (in
// place of "The die shows N. ").
const DeniedText = "I did not roll the die. "
