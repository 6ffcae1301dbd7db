package client

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// Human in the loop (PROTOCOL.md, "Human in the loop"): a reply may ask for approval of a tool
// call or ask a question; both show in Stream.Parts, and Answer answers them.

// Answer sends a person's answer to a pending request: for an approval
// core.Answer{ID: approvalID, Approved: &yes, Reason: "…"}, for a question
// core.Answer{ID: questionID, Action: core.AnswerAccept, Content: fields}. It returns once the
// frame is written. The server's verdict arrives as an event: an EventMessage whose
// metadata code is ANSWER_ACCEPTED, or an EventError (ServerError.Code REQUEST_NOT_FOUND,
// ALREADY_ANSWERED, REQUEST_EXPIRED, INVALID_ANSWER, ...); both carry metadata.answer = the
// id. The winning answer also shows in the stream's parts, on every connection.
func (c *Client) Answer(ctx context.Context, a core.Answer) error {
	if a.ID == "" {
		return errors.New("chatwire: answer without a request id")
	}
	frame, err := json.Marshal(answerFrame{Type: core.TypeSystem, Content: "answer", Metadata: answerMeta{Answer: a}})
	if err != nil {
		return err
	}
	return c.write(ctx, frame)
}

type answerFrame struct {
	Type     core.Type  `json:"type"`
	Content  string     `json:"content"`
	Metadata answerMeta `json:"metadata"`
}

type answerMeta struct {
	Answer core.Answer `json:"answer"`
}

// PendingApprovals returns the tool parts of the stream that wait for an approval (state
// approval-requested); answer one with Answer and its Approval.ID.
func (s Stream) PendingApprovals() []parts.Part {
	var out []parts.Part
	for _, p := range s.Parts {
		if p.IsTool() && p.State == parts.ToolApprovalRequested && p.Approval != nil {
			out = append(out, p)
		}
	}
	return out
}

// Questions returns the questions the stream asked, answered or not (QuestionState.State is
// parts.QuestionPending while one waits); answer one with Answer and its ID.
func (s Stream) Questions() []parts.QuestionState {
	var out []parts.QuestionState
	for _, p := range s.Parts {
		if p.Type != parts.PartDataPrefix+parts.QuestionPart {
			continue
		}
		var q parts.QuestionState
		if json.Unmarshal(p.Data, &q) == nil {
			out = append(out, q)
		}
	}
	return out
}
