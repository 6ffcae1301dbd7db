package aisdk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/internal/hubport"
	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/storage"
)

// Tool approvals over the UI message stream (`ai` 6 and later):
//
//  1. The POST (or resume) stream that carries a tool-approval-request chunk ends right
//     after it with finish and [DONE], while the handler waits; a resume GET meanwhile
//     answers 204 (the stream waits for the user, not for the model).
//  2. useChat's addToolApprovalResponse makes the next POST carry the assistant message
//     (same id) with the tool part in state approval-responded. The endpoint takes only
//     each approval's id, approved and reason from it (never the tool's input: the store
//     holds what was asked), answers the pending requests through the hub (exactly one
//     answer wins, from any instance), and streams the continuation of the same message:
//     start with the same message id, then only what the client does not have yet.

// approvalAnswer is one answer read from an approval-responded tool part.
type approvalAnswer struct {
	id       string
	approved bool
	reason   string
}

// approvalTurn reads the answers of an assistant message that ends a POST body (the last
// message). It reports a 400 problem for an assistant message without any.
func approvalTurn(raw json.RawMessage) (messageID string, answers []approvalAnswer, p *problem) {
	var msg struct {
		ID    string `json:"id"`
		Parts []struct {
			Type     string `json:"type"`
			State    string `json:"state"`
			Approval *struct {
				ID       string `json:"id"`
				Approved *bool  `json:"approved"`
				Reason   string `json:"reason"`
			} `json:"approval"`
		} `json:"parts"`
	}
	bad := &problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: "The last message must be the user's, or the assistant's with a tool approval response"}
	if json.Unmarshal(raw, &msg) != nil || !core.ValidSessionID(msg.ID) {
		return "", nil, bad
	}
	for _, part := range msg.Parts {
		if part.State != parts.ToolApprovalResponded || part.Approval == nil {
			continue
		}
		if part.Approval.ID == "" || part.Approval.Approved == nil {
			return "", nil, &problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: "A tool approval response needs approval.id and approval.approved"}
		}
		answers = append(answers, approvalAnswer{id: part.Approval.ID, approved: *part.Approval.Approved, reason: part.Approval.Reason})
	}
	if len(answers) == 0 {
		return "", nil, bad
	}
	return msg.ID, answers, nil
}

// answerProblem maps an answer's error onto the HTTP status and code of the JSON error body.
func answerProblem(err error) *problem {
	var e *core.Error
	if !errors.As(err, &e) {
		return &problem{status: http.StatusServiceUnavailable, code: CodeRefused, message: "Approvals are not available"}
	}
	status := http.StatusServiceUnavailable
	switch e.Code {
	case core.CodeRequestNotFound:
		status = http.StatusNotFound
	case core.CodeAlreadyAnswered:
		status = http.StatusConflict
	case core.CodeRequestExpired:
		status = http.StatusGone
	case core.CodeInvalidAnswer:
		status = http.StatusBadRequest
	}
	return &problem{status: status, code: string(e.Code), message: e.Text}
}

// approve answers the approvals of turn and streams the continuation of the message.
func (e *Endpoint) approve(ctx context.Context, info hubport.ConnInfo, turn userTurn) *Response {
	if !e.hub.HasStore() {
		return (&problem{status: http.StatusNotFound, code: string(core.CodeRequestNotFound), message: "No such request is waiting for an answer"}).response()
	}
	// Every approval must name a request of this message that waits: checked before any is
	// answered, so that a bad body changes nothing.
	waiting, err := e.hub.PendingRequests(ctx, info.SessionID)
	if err != nil {
		return (&problem{status: http.StatusServiceUnavailable, code: CodeRefused, message: "Session unavailable"}).response()
	}
	for _, a := range turn.approvals {
		found, other := false, false
		for _, w := range waiting {
			if w.ID == a.id {
				found = w.Kind == storage.PendingApproval && w.StreamID == turn.assistantID
				other = !found
			}
		}
		switch {
		case other:
			return (&problem{status: http.StatusNotFound, code: string(core.CodeRequestNotFound), message: "No such request is waiting for an answer"}).response()
		case !found:
			// Not waiting: the hub says why (answered, expired, unknown) and records nothing.
			no := false
			_, err := e.hub.Answer(ctx, info.SessionID, info.Principal, core.Answer{ID: a.id, Approved: &no})
			if err == nil {
				err = core.NewError(core.CodeAlreadyAnswered, "The request was already answered") // unreachable: it did not wait
			}
			return answerProblem(err).response()
		}
	}
	// Join first (the continuation is in the resume frame the join queues, or in the live
	// deltas after it), then answer: the handler runs on at once.
	pipe := newPipe(nil)
	pending, err := e.port.Prepare(ctx, info)
	if err != nil {
		return refused(err)
	}
	ids := make(map[string]bool, len(turn.approvals))
	for _, a := range turn.approvals {
		approved := a.approved
		if _, err := e.hub.Answer(ctx, info.SessionID, info.Principal, core.Answer{ID: a.id, Approved: &approved, Reason: a.reason}); err != nil {
			if len(ids) == 0 {
				pending.Abort()
				return answerProblem(err).response()
			}
			// An earlier approval of the body was recorded: stream what follows from it.
			e.log.Warn("aisdk: an approval of the request was not recorded", "session", info.SessionID, "err", err)
			continue
		}
		ids[a.id] = true
	}
	return e.serve(ctx, pending, pipe, &reply{target: turn.assistantID, answered: ids})
}

// waitingForApproval returns the ids of the session's streams that wait for an approval.
func (e *Endpoint) waitingForApproval(ctx context.Context, sessionID string) (map[string]bool, error) {
	reqs, err := e.hub.PendingRequests(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range reqs {
		if r.Kind == storage.PendingApproval {
			out[r.StreamID] = true
		}
	}
	return out, nil
}

// clientHas returns the parts a client holds of a reply it saw up to its approval requests
// (answered: ids): the parts up to the last tool part asking one of them, that part in
// state approval-requested (the client's own approval-responded state is its local view).
func clientHas(ps []parts.Part, answered map[string]bool) []parts.Part {
	last := -1
	for i, p := range ps {
		if p.IsTool() && p.Approval != nil && answered[p.Approval.ID] {
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	out := append([]parts.Part(nil), ps[:last+1]...)
	for i := range out {
		if p := &out[i]; p.IsTool() && p.Approval != nil && answered[p.Approval.ID] {
			p.State = parts.ToolApprovalRequested
			p.Approval = &parts.ToolApproval{ID: p.Approval.ID}
			p.Output, p.ErrorText = nil, ""
		}
	}
	return out
}

// noteParts records the approvals of the reply's parts (a resume frame).
func (r *reply) noteParts(ps []parts.Part) {
	for _, p := range ps {
		if p.IsTool() && p.Approval != nil && p.Approval.ID != "" {
			r.noteApproval(p.Approval.ID, p.Approval.Approved != nil)
		}
	}
}

// noteChunks records the approvals asked and answered by live chunks.
func (r *reply) noteChunks(chunks []parts.Chunk) {
	for i := range chunks {
		switch c := &chunks[i]; c.Type {
		case parts.ChunkToolApprovalRequest:
			r.noteApproval(c.ApprovalID, false)
		case parts.ChunkToolApprovalResponse:
			r.noteApproval(c.ApprovalID, true)
		}
	}
}

func (r *reply) noteApproval(id string, answered bool) {
	if r.approvals == nil {
		r.approvals = make(map[string]bool)
	}
	r.approvals[id] = r.approvals[id] || answered || r.answered[id]
}

// awaiting reports whether the reply waits for an approval nobody gave yet: its stream then
// ends, and the client continues the message with its answer.
func (r *reply) awaiting() bool {
	for _, answered := range r.approvals {
		if !answered {
			return true
		}
	}
	return false
}
