package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/storage"
)

// AskOptions configures Stream.Ask. The zero value waits without a timeout.
type AskOptions struct {
	// Timeout bounds the wait; when it passes the answer is AnswerCancel with Timeout set.
	// Zero means no timeout.
	Timeout time.Duration
}

// QuestionAnswer is the answer to a question.
type QuestionAnswer struct {
	// ID is the question's id.
	ID string
	// Action is AnswerAccept (Content holds the fields, valid against the schema),
	// AnswerDecline or AnswerCancel.
	Action  string
	Content json.RawMessage
	// By names who answered (PrincipalName; "timeout" for a timeout); At is when.
	By string
	At int64
	// Timeout reports that nobody answered in time (Action is AnswerCancel).
	Timeout bool
}

// Ask asks the user a question and blocks until someone answers it, opts.Timeout passes
// (cancel), or ctx or the stream's context ends (the question is withdrawn and
// context.Cause is returned). It follows MCP's elicitation: q.Schema, optional, lists
// simple fields (see Question); an answer accepts with content matching it, declines or
// cancels. Answers that do not match the schema are refused (INVALID_ANSWER) and the
// question keeps waiting.
//
// The question is a data part "data-chatwire-question" (parts.QuestionPart) of the reply, with
// id the question's id and value a parts.QuestionState, replaced by the answered state; it is held
// by the store like an approval (see ToolCall.RequestApproval): any connection on any
// instance sees it and may answer it, exactly one answer wins.
func (s *Stream) Ask(ctx context.Context, q Question, opts AskOptions) (QuestionAnswer, error) {
	if _, err := parseQuestionSchema(q.Schema); err != nil {
		return QuestionAnswer{}, err
	}
	if q.Message == "" {
		return QuestionAnswer{}, invalidPart("question without a message")
	}
	req := PendingRequest{ID: NewID(), Kind: storage.PendingQuestion, Question: &q}
	state := parts.QuestionState{ID: req.ID, Message: q.Message, Schema: q.Schema, State: parts.QuestionPending}
	if opts.Timeout > 0 {
		state.Expires = time.Now().Add(opts.Timeout).UnixMilli()
	}
	show := func() error {
		v, _ := json.Marshal(state)
		if err := s.writeLocked(ctx, parts.Chunk{Type: parts.ChunkDataPrefix + parts.QuestionPart, ID: req.ID, Data: v}); err != nil {
			return err
		}
		s.textPart = nil
		return nil
	}
	got, err := s.awaitPending(ctx, req, opts.Timeout, storage.PendingAnswer{Action: AnswerCancel, By: TimeoutAnswerer}, show)
	if err != nil {
		return QuestionAnswer{}, err
	}
	a := got.Answer
	state.State, state.Content, state.AnsweredBy, state.AnsweredAt = a.Action, a.Content, a.By, a.At
	v, _ := json.Marshal(state)
	out := QuestionAnswer{ID: req.ID, Action: a.Action, Content: a.Content, By: a.By, At: a.At, Timeout: a.Timeout}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeLocked(context.WithoutCancel(ctx), parts.Chunk{Type: parts.ChunkDataPrefix + parts.QuestionPart, ID: req.ID, Data: v}); err != nil {
		return out, err
	}
	s.textPart = nil
	return out, nil
}
