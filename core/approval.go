package core

import (
	"context"
	"time"

	"github.com/chatwire/chatwire/parts"
	"github.com/chatwire/chatwire/storage"
)

// ApprovalOptions configures ToolCall.RequestApproval. The zero value waits without a
// timeout.
type ApprovalOptions struct {
	// Timeout bounds the wait: when it passes without an answer, the call is denied with
	// reason "timeout" (answeredBy "timeout"). Zero means no timeout: the wait ends with
	// an answer or when ctx or the stream's context ends.
	Timeout time.Duration
}

// Approval is the answer to an approval request.
type Approval struct {
	// ID is the approval request's id.
	ID string
	// Approved is the decision; Reason the optional reason given with it.
	Approved bool
	Reason   string
	// By names who answered (PrincipalName of the answering client; "" when unknown,
	// "timeout" for a timeout); At is when, in ms since the Unix epoch.
	By string
	At int64
	// Timeout reports that nobody answered in time (Approved is false).
	Timeout bool
}

// TimeoutAnswerer is the AnsweredBy of an answer given by a request's own timeout.
const TimeoutAnswerer = "timeout"

// RequestApproval asks a person to approve the call before the handler runs the tool, and
// blocks until someone answers, opts.Timeout passes (denied), or ctx or the stream's
// context ends (the request is withdrawn and context.Cause is returned). The input must be
// available (Input) and the call must have no outcome yet.
//
// The request is held by the hub's store (it must implement storage.PendingStore; else
// ErrPendingUnsupported): every connection of the session, on every instance, sees the
// tool part in state approval-requested (also after a reconnect: compacted resume), the
// answer may come from any of them (a client's answer frame, or the AI SDK endpoint's next
// request), and exactly one answer wins. The answer is written into the stream (state
// approval-responded, with who answered and when). A denial also ends the call:
// output-denied is written and the handler must not run the tool; an approval leaves the
// call for the handler to run and finish with Output or Fail.
func (t *ToolCall) RequestApproval(ctx context.Context, opts ApprovalOptions) (Approval, error) {
	s := t.s
	s.mu.Lock()
	state := t.state
	s.mu.Unlock()
	if state != parts.ToolInputAvailable {
		return Approval{}, invalidPart("approval requested before the input or after an approval or outcome")
	}
	req := PendingRequest{ID: NewID(), Kind: storage.PendingApproval, ToolCallID: t.info.ID, ToolName: t.info.Name}
	show := func() error {
		if err := s.writeLocked(ctx, parts.Chunk{Type: parts.ChunkToolApprovalRequest, ApprovalID: req.ID, ToolCallID: t.info.ID}); err != nil {
			return err
		}
		t.state = parts.ToolApprovalRequested
		return nil
	}
	got, err := s.awaitPending(ctx, req, opts.Timeout, storage.PendingAnswer{Approved: false, Reason: TimeoutAnswerer, By: TimeoutAnswerer}, show)
	if err != nil {
		return Approval{}, err
	}
	a := got.Answer
	out := Approval{ID: req.ID, Approved: a.Approved, Reason: a.Reason, By: a.By, At: a.At, Timeout: a.Timeout}
	chunks := []parts.Chunk{{Type: parts.ChunkToolApprovalResponse, ApprovalID: req.ID, ToolCallID: t.info.ID,
		Approved: a.Approved, Reason: a.Reason, AnsweredBy: a.By, AnsweredAt: a.At}}
	if !a.Approved {
		chunks = append(chunks, parts.Chunk{Type: parts.ChunkToolOutputDenied, ToolCallID: t.info.ID})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeLocked(context.WithoutCancel(ctx), chunks...); err != nil {
		return out, err
	}
	t.state = parts.ToolApprovalResponded
	if !a.Approved {
		t.state = parts.ToolOutputDenied
	}
	return out, nil
}
