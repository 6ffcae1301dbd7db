package readme_test

// The README's "Human in the loop" snippet, verbatim.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatwire/chatwire/core"
)

var _ = humanInTheLoop

func humanInTheLoop(ctx context.Context, s *core.Stream, input json.RawMessage) error {
	call, err := s.ToolCall(ctx, core.ToolCallInfo{Name: "send_email"}, input)
	if err != nil {
		return err
	}
	a, err := call.RequestApproval(ctx, core.ApprovalOptions{Timeout: 10 * time.Minute})
	if err != nil {
		return err // ctx ended, or the reply was cancelled: the request is withdrawn
	}
	if !a.Approved { // already recorded as output-denied (a.Reason, a.By, a.Timeout)
		return s.Close(ctx)
	}
	// run the tool, then call.Output(ctx, result)

	ans, err := s.Ask(ctx, core.Question{Message: "Which size?",
		Schema: json.RawMessage(`{"type":"object","properties":{"size":{"type":"string","enum":["S","M","L"]}},"required":["size"]}`)},
		core.AskOptions{})
	// ans.Action: accept (ans.Content matches the schema), decline or cancel
	_ = ans
	return err
}
