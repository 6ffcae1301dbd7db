package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// Answer is a person's answer to a pending request, as a client sends it: in the metadata
// of an answer frame ({"type":"system","metadata":{"answer":{…}}}), or through Hub.Answer.
type Answer struct {
	// ID is the request's id (an approval id, a question id).
	ID string `json:"id"`
	// Approved (required for approvals) and Reason (optional) answer an approval.
	Approved *bool  `json:"approved,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Action (required for questions: accept, decline, cancel) and Content (the fields,
	// with accept) answer a question.
	Action  string          `json:"action,omitempty"`
	Content json.RawMessage `json:"content,omitempty"`
}

// maxReasonLen bounds an answer's reason (bytes).
const maxReasonLen = 2000

// PrincipalName is how an answer records who gave it: a principal that is a string is
// itself, a fmt.Stringer its String(), anything else (and nil) "".
func PrincipalName(principal any) string {
	switch p := principal.(type) {
	case string:
		return p
	case fmt.Stringer:
		return p.String()
	}
	return ""
}

// Answer gives a person's answer to a pending request of the session, wherever the handler
// that waits for it runs: exactly one answer wins. principal is who answers (the caller has
// already checked that it may act on the session, as the hub does for its connections and
// the AI SDK endpoint through Options.Admit); it is recorded with PrincipalName.
//
// Errors are *Error, safe to show: REQUEST_NOT_FOUND (no such request in the session, or
// its reply ended), ALREADY_ANSWERED, REQUEST_EXPIRED, INVALID_ANSWER (malformed, wrong
// kind, content not matching the question's schema), STORE_UNAVAILABLE; ErrPendingUnsupported
// without a storage.PendingStore. On error nothing changes and the handler keeps waiting.
func (h *Hub) Answer(ctx context.Context, sessionID string, principal any, a Answer) (PendingRequest, error) {
	ps, ok := h.store.(storage.PendingStore)
	if !ok {
		return PendingRequest{}, ErrPendingUnsupported
	}
	if a.ID == "" || len(a.ID) > 128 {
		return PendingRequest{}, NewError(CodeInvalidAnswer, "The answer has no valid request id")
	}
	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	req, err := ps.PendingGet(sctx, sessionID, a.ID)
	if err != nil {
		return PendingRequest{}, pendingError(err)
	}
	now := envelope.NowMillis()
	switch {
	case req.Answer != nil:
		return PendingRequest{}, pendingError(ErrPendingAnswered)
	case req.Expires != 0 && now >= req.Expires:
		return PendingRequest{}, pendingError(ErrPendingExpired)
	}
	ans := storage.PendingAnswer{By: PrincipalName(principal), At: now}
	switch req.Kind {
	case storage.PendingApproval:
		if a.Approved == nil || a.Action != "" || len(a.Content) > 0 {
			return PendingRequest{}, NewError(CodeInvalidAnswer, "An approval takes \"approved\": true or false (and an optional reason)")
		}
		if len(a.Reason) > maxReasonLen {
			return PendingRequest{}, NewError(CodeInvalidAnswer, "The reason is too long")
		}
		ans.Approved, ans.Reason = *a.Approved, a.Reason
	case storage.PendingQuestion:
		if a.Approved != nil || a.Reason != "" {
			return PendingRequest{}, NewError(CodeInvalidAnswer, "A question takes \"action\" (accept, decline, cancel) and, to accept, \"content\"")
		}
		switch a.Action {
		case AnswerAccept:
			var schema *questionSchema
			if req.Question != nil {
				schema, _ = parseQuestionSchema(req.Question.Schema) // checked by Ask
			}
			if err := schema.validate(a.Content); err != nil {
				return PendingRequest{}, NewError(CodeInvalidAnswer, "The answer does not match the question: "+err.Error())
			}
			ans.Content = a.Content
		case AnswerDecline, AnswerCancel:
			if len(a.Content) > 0 {
				return PendingRequest{}, NewError(CodeInvalidAnswer, "Only an accepted answer has content")
			}
		default:
			return PendingRequest{}, NewError(CodeInvalidAnswer, "A question takes \"action\": accept, decline or cancel")
		}
		ans.Action = a.Action
	default:
		return PendingRequest{}, pendingError(ErrPendingNotFound)
	}
	// The reply that asked must still run: a request left behind by a producer that died
	// is not pending any more (its stream ended, or will, with an error state).
	live, err := h.liveStreamIDs(sctx, sessionID)
	if err != nil {
		return PendingRequest{}, WrapError(CodeStoreUnavailable, "The answer could not be recorded; please retry", err)
	}
	if !live[req.StreamID] {
		// A rival answer may have won and let the reply finish since PendingGet above: that
		// answer is the reason, not a missing request.
		if again, err := ps.PendingGet(sctx, sessionID, a.ID); err == nil && again.Answer != nil {
			return PendingRequest{}, pendingError(ErrPendingAnswered)
		}
		return PendingRequest{}, pendingError(ErrPendingNotFound)
	}
	got, err := ps.PendingAnswer(sctx, sessionID, a.ID, ans, now)
	if err != nil {
		return PendingRequest{}, pendingError(err)
	}
	return got, nil
}

// pendingError maps a storage.PendingStore error onto the client-visible error.
func pendingError(err error) *Error {
	switch {
	case errors.Is(err, ErrPendingNotFound):
		return WrapError(CodeRequestNotFound, "No such request is waiting for an answer", err)
	case errors.Is(err, ErrPendingAnswered):
		return WrapError(CodeAlreadyAnswered, "The request was already answered", err)
	case errors.Is(err, ErrPendingExpired):
		return WrapError(CodeRequestExpired, "The time to answer the request has passed", err)
	case errors.Is(err, ErrInvalidSessionID):
		return WrapError(CodeRequestNotFound, "No such request is waiting for an answer", err)
	}
	return WrapError(CodeStoreUnavailable, "The answer could not be recorded; please retry", err)
}

// answerRequest reports whether m is a client's answer frame
// {"type":"system","metadata":{"answer":{…}}}; malformed is set when it is one but its
// answer is not an object.
func answerRequest(m *Message) (a Answer, ok bool, malformed bool) {
	if m.Type != TypeSystem || len(m.Metadata) == 0 {
		return Answer{}, false, false
	}
	var v struct {
		Answer json.RawMessage `json:"answer"`
	}
	if json.Unmarshal(m.Metadata, &v) != nil || len(v.Answer) == 0 {
		return Answer{}, false, false
	}
	if json.Unmarshal(v.Answer, &a) != nil || a.ID == "" {
		return Answer{}, true, true
	}
	return a, true, false
}

// answer handles a client's answer frame: an ANSWER_ACCEPTED system envelope to this
// connection when it won, else an error envelope with the code; both carry
// metadata.answer = the request id.
func (c *connection) answer(a Answer, malformed bool) {
	var e *Error
	if malformed {
		e = NewError(CodeInvalidAnswer, "The answer is malformed: metadata.answer needs an id")
	} else if c.sess == nil {
		e = NewError(CodeRequestNotFound, "No such request is waiting for an answer")
	} else if _, err := c.hub.Answer(c.ctx, c.info.SessionID, c.info.Principal, a); err != nil {
		if !errors.As(err, &e) {
			e = WrapError(CodeRequestNotFound, "No such request is waiting for an answer", err)
		}
	}
	meta := func(code ErrorCode) json.RawMessage {
		b, _ := json.Marshal(struct {
			Code   ErrorCode `json:"code"`
			Answer string    `json:"answer,omitempty"`
		}{code, a.ID})
		return b
	}
	m := &Message{ID: NewID(), Role: RoleSystem, Timestamp: envelope.NowMillis()}
	if e != nil {
		if errors.Is(e, ErrStoreUnavailable) || e.Code == CodeStoreUnavailable {
			c.hub.log.Warn("chatwire: answer not recorded", "session", c.info.SessionID, "conn", c.id, "err", e)
		}
		m.Type, m.Content, m.Metadata = TypeError, e.Text, meta(e.Code)
	} else {
		m.Type, m.Content, m.Metadata = TypeSystem, "Answer recorded", meta(CodeAnswerAccepted)
	}
	c.send(m)
}

// CodeAnswerAccepted is carried by the system envelope that confirms an answer frame won.
const CodeAnswerAccepted ErrorCode = "ANSWER_ACCEPTED"

// PendingRequests returns the requests of the session that wait for an answer (unanswered,
// not expired, their reply still running), oldest first. Without a storage.PendingStore: none.
func (h *Hub) PendingRequests(ctx context.Context, sessionID string) ([]PendingRequest, error) {
	ps, ok := h.store.(storage.PendingStore)
	if !ok {
		return nil, nil
	}
	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	list, err := ps.PendingList(sctx, sessionID)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	running, err := h.liveStreamIDs(sctx, sessionID)
	if err != nil {
		return nil, err
	}
	now := envelope.NowMillis()
	var out []PendingRequest
	for _, r := range list {
		if r.Answer == nil && running[r.StreamID] && (r.Expires == 0 || now < r.Expires) {
			out = append(out, r)
		}
	}
	return out, nil
}
