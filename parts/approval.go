package parts

import (
	"strconv"

	"github.com/chatwire/chatwire/envelope"
)

// This file holds the approval side of chunks and parts: how an approval request and its
// answer fold into a tool part (Builder) and come back out of it (Compact).

// applyApproval folds a tool-approval-request or tool-approval-response chunk into its
// tool part. A request sets state approval-requested; a response (chatwire's own chunk) sets
// approval-responded with the answer. Either is ignored for an unknown tool call, and a
// response for another approval id than the part's is ignored.
func (b *Builder) applyApproval(c *Chunk) {
	p, ok := b.find(callKey(c.ToolCallID))
	if !ok || c.ApprovalID == "" {
		return
	}
	if c.Type == ChunkToolApprovalRequest {
		p.State = ToolApprovalRequested
		p.Approval = &ToolApproval{ID: c.ApprovalID}
		return
	}
	if p.Approval == nil || p.Approval.ID != c.ApprovalID {
		return
	}
	approved := c.Approved
	p.State = ToolApprovalResponded
	p.Approval = &ToolApproval{ID: c.ApprovalID, Approved: &approved, Reason: c.Reason, AnsweredBy: c.AnsweredBy, AnsweredAt: c.AnsweredAt}
}

// appendApprovalChunks appends the chunks that rebuild p's approval (none without one): the
// request, then the answer when one was given.
func appendApprovalChunks(dst []Chunk, p *Part) []Chunk {
	a := p.Approval
	if a == nil || a.ID == "" {
		return dst
	}
	dst = append(dst, Chunk{Type: ChunkToolApprovalRequest, ApprovalID: a.ID, ToolCallID: p.ToolCallID})
	if a.Approved != nil {
		dst = append(dst, Chunk{Type: ChunkToolApprovalResponse, ApprovalID: a.ID, ToolCallID: p.ToolCallID,
			Approved: *a.Approved, Reason: a.Reason, AnsweredBy: a.AnsweredBy, AnsweredAt: a.AnsweredAt})
	}
	return dst
}

// appendApprovalResponse appends the fields of a tool-approval-response chunk.
func appendApprovalResponse(dst []byte, c *Chunk) []byte {
	dst = append(dst, `,"approvalId":`...)
	dst = envelope.AppendString(dst, c.ApprovalID)
	dst = append(dst, `,"toolCallId":`...)
	dst = envelope.AppendString(dst, c.ToolCallID)
	dst = append(dst, `,"approved":`...)
	dst = strconv.AppendBool(dst, c.Approved)
	if c.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = envelope.AppendString(dst, c.Reason)
	}
	if c.AnsweredBy != "" {
		dst = append(dst, `,"answeredBy":`...)
		dst = envelope.AppendString(dst, c.AnsweredBy)
	}
	if c.AnsweredAt != 0 {
		dst = append(dst, `,"answeredAt":`...)
		dst = strconv.AppendInt(dst, c.AnsweredAt, 10)
	}
	return dst
}
