package storage

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/chatwire/chatwire/envelope"
)

// Errors of PendingStore (core re-exports them: core.Hub.Answer returns them too).
var (
	// ErrPendingNotFound: no request with that id waits in the session (never asked,
	// withdrawn because its handler ended, or its reply ended).
	ErrPendingNotFound = errors.New("chatwire: no such pending request")
	// ErrPendingAnswered: the request already has an answer (another tab, instance or the
	// timeout won).
	ErrPendingAnswered = errors.New("chatwire: request already answered")
	// ErrPendingExpired: the request's time to answer has passed.
	ErrPendingExpired = errors.New("chatwire: request expired")
)

// MaxPendingPerSession bounds the pending requests a core.MemoryStore (and the hub) keeps per
// session: a handler asking more at once gets an error.
const MaxPendingPerSession = 64

// Kinds of PendingRequest.
const (
	// PendingApproval asks a person to approve or deny a tool call.
	PendingApproval = "approval"
	// PendingQuestion asks a person a question (MCP elicitation's shape).
	PendingQuestion = "question"
)

// PendingRequest is a request a handler waits on: the approval of a tool call or a question
// to the user. A PendingStore holds it so that every instance sees it and exactly one answer
// wins. Its JSON is what stores keep.
type PendingRequest struct {
	// ID names the request (the approval id, the question id); unique in its session.
	ID string `json:"id"`
	// Kind is PendingApproval or PendingQuestion.
	Kind string `json:"kind"`
	// StreamID is the reply (stream) that asks.
	StreamID string `json:"streamId"`
	// ToolCallID and ToolName: the tool call to approve (approvals).
	ToolCallID string `json:"toolCallId,omitempty"`
	ToolName   string `json:"toolName,omitempty"`
	// Question is what the question asks (questions).
	Question *Question `json:"question,omitempty"`
	// Created is when it was asked, Expires when it stops taking answers (0: never), in ms
	// since the Unix epoch.
	Created int64 `json:"created"`
	Expires int64 `json:"expires,omitempty"`
	// Answer is the winning answer; nil while none was given.
	Answer *PendingAnswer `json:"answer,omitempty"`
}

// PendingAnswer is the answer to a PendingRequest.
type PendingAnswer struct {
	// Approved and Reason answer an approval.
	Approved bool   `json:"approved,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Action and Content answer a question: core.AnswerAccept (with Content, an object of the
	// question's fields), AnswerDecline or AnswerCancel.
	Action  string          `json:"action,omitempty"`
	Content json.RawMessage `json:"content,omitempty"`
	// By names who answered (core.PrincipalName of the answering connection; "" when unknown).
	By string `json:"by,omitempty"`
	// At is when the answer was given, in ms since the Unix epoch.
	At int64 `json:"at"`
	// Timeout reports an answer given by the request's own timeout (a denial, or a
	// question's cancel), not by a person.
	Timeout bool `json:"timeout,omitempty"`
}

// PendingStore is the optional part of a Store that holds pending requests (human in the
// loop). core.MemoryStore and redisstore implement it; the conformance suite (core/storetest)
// tests it. Without it, core.Stream.Ask and core.ToolCall.RequestApproval return
// core.ErrPendingUnsupported.
type PendingStore interface {
	// PendingAdd stores a new request, unanswered. A request with the same id already in
	// the session: ErrDuplicate, nothing changes.
	PendingAdd(ctx context.Context, sessionID string, req PendingRequest) error

	// PendingGet returns the request (answered or not); ErrPendingNotFound when the
	// session holds none with that id.
	PendingGet(ctx context.Context, sessionID, id string) (PendingRequest, error)

	// PendingList returns the session's requests (answered or not) in the order they were
	// added.
	PendingList(ctx context.Context, sessionID string) ([]PendingRequest, error)

	// PendingAnswer records ans as the request's answer and notifies the session's
	// subscribers with an ephemeral notification whose message is PendingNotice(id), as
	// one atomic step: of concurrent answers exactly one succeeds. It returns the request
	// with its answer; ErrPendingNotFound for an unknown id, ErrPendingAnswered when it
	// already has an answer, ErrPendingExpired when now (ms since the Unix epoch) is at or
	// after its Expires (now = 0 skips that check: the waiting handler's own timeout). On
	// error nothing changes.
	PendingAnswer(ctx context.Context, sessionID, id string, ans PendingAnswer, now int64) (PendingRequest, error)

	// PendingDelete removes the request (done, withdrawn). Removing an unknown id does
	// nothing.
	PendingDelete(ctx context.Context, sessionID, id string) error
}

// pendingNoticeCode marks the ephemeral system message that tells a session's subscribers a
// pending request was answered. The hub consumes it: clients never see it.
const pendingNoticeCode = "PENDING_ANSWERED"

// PendingNotice returns the ephemeral message a PendingStore publishes when request id was
// answered: {"type":"system","metadata":{"code":"PENDING_ANSWERED","pending":"<id>"}}. Hubs
// wake the handler waiting on it and never deliver it to clients.
func PendingNotice(id string) envelope.Message {
	meta := append([]byte(`{"code":"`+pendingNoticeCode+`","pending":`), envelope.AppendString(nil, id)...)
	meta = append(meta, '}')
	return envelope.Message{ID: "pending:" + id, Type: envelope.TypeSystem, Role: envelope.RoleSystem, Content: "", Metadata: meta, Timestamp: envelope.NowMillis()}
}

// PendingNoticeID returns the request id of a PendingNotice message; ok is false for any
// other message.
func PendingNoticeID(m *envelope.Message) (string, bool) {
	if m.Type != envelope.TypeSystem || len(m.Metadata) == 0 || !json.Valid(m.Metadata) {
		return "", false
	}
	var v struct {
		Code    string `json:"code"`
		Pending string `json:"pending"`
	}
	if json.Unmarshal(m.Metadata, &v) != nil || v.Code != pendingNoticeCode || v.Pending == "" {
		return "", false
	}
	return v.Pending, true
}

// Question is what a handler asks the user (core.Stream.Ask), in the shape of MCP's elicitation
// request.
type Question struct {
	// Message is the question, shown to the user.
	Message string `json:"message"`
	// Schema, optional, is the form of the answer: MCP's requestedSchema, a JSON Schema
	// object whose properties are simple fields only:
	//   {"type":"object","properties":{"<name>":{"type":"string"|"number"|"integer"|"boolean",
	//    "title":…,"description":…,"enum":[…],"minLength":…,"maxLength":…,"minimum":…,
	//    "maximum":…}},"required":["<name>",…]}
	// An accepted answer's content must be an object of these fields. Without a schema, an
	// accepted answer's content may be any JSON object.
	Schema json.RawMessage `json:"schema,omitempty"`
}
