package aisdk

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chatwire/chatwire/parts"
)

// catchUp returns the chunks that bring a client holding sent's parts up to target's, and
// applies them to sent. It is used when the hub sends a compacted resume frame or a final
// message to a request that has already streamed part of the reply: only what is new goes
// out (more text, a new state, new parts), never a part twice.
func catchUp(sent *parts.Builder, target []parts.Part, targetMeta json.RawMessage) []parts.Chunk {
	var out []parts.Chunk
	have := sent.Parts()
	for i, p := range target {
		if i >= len(have) {
			out = append(out, partChunks(p, "c"+strconv.Itoa(i))...)
			continue
		}
		out = append(out, advance(have[i], p)...)
	}
	if len(targetMeta) > 0 && !bytes.Equal(targetMeta, sent.MessageMetadata()) {
		out = append(out, parts.Chunk{Type: parts.ChunkMessageMetadata, MessageMetadata: targetMeta})
	}
	for i := range out {
		sent.Apply(&out[i])
	}
	return out
}

// partChunks returns the chunks that create p from nothing. A text or reasoning part without
// an id (as stored) gets id.
func partChunks(p parts.Part, id string) []parts.Chunk {
	if (p.Type == parts.PartText || p.Type == parts.PartReasoning) && p.ID == "" {
		p.ID = id
	}
	return parts.NewBuilder([]parts.Part{p}, nil).Compact(nil)
}

// advance returns the chunks that move a client's part have to p (the same part, further
// on). Parts that do not match (another type, another call) are left as they are.
func advance(have, p parts.Part) []parts.Chunk {
	if have.Type != p.Type {
		return nil
	}
	var out []parts.Chunk
	switch {
	case p.Type == parts.PartText || p.Type == parts.PartReasoning:
		delta, end := parts.ChunkTextDelta, parts.ChunkTextEnd
		if p.Type == parts.PartReasoning {
			delta, end = parts.ChunkReasoningDelta, parts.ChunkReasoningEnd
		}
		if len(p.Text) > len(have.Text) && strings.HasPrefix(p.Text, have.Text) {
			out = append(out, parts.Chunk{Type: delta, ID: have.ID, Delta: p.Text[len(have.Text):]})
		}
		if p.State == parts.PartDone && have.State != parts.PartDone {
			out = append(out, parts.Chunk{Type: end, ID: have.ID})
		}
	case p.IsTool():
		if have.ToolCallID != p.ToolCallID {
			return nil
		}
		base := parts.Chunk{ToolCallID: p.ToolCallID, ProviderExecuted: p.ProviderExecuted, Dynamic: p.Dynamic}
		if have.State == parts.ToolInputStreaming {
			if p.State == parts.ToolInputStreaming {
				if len(p.InputText) > len(have.InputText) && strings.HasPrefix(p.InputText, have.InputText) {
					out = append(out, parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: p.ToolCallID, InputTextDelta: p.InputText[len(have.InputText):]})
				}
				return out
			}
			c := base
			c.Type, c.ToolName, c.Input = parts.ChunkToolInputAvailable, p.ToolName, p.Input
			out = append(out, c)
		}
		if p.Approval != nil && p.Approval.ID != "" && (have.Approval == nil || have.Approval.ID != p.Approval.ID) {
			out = append(out, parts.Chunk{Type: parts.ChunkToolApprovalRequest, ApprovalID: p.Approval.ID, ToolCallID: p.ToolCallID})
		}
		if outcome(have.State) || !outcome(p.State) {
			return out
		}
		c := base
		switch p.State {
		case parts.ToolOutputAvailable:
			c.Type, c.Output = parts.ChunkToolOutputAvailable, p.Output
		case parts.ToolOutputError:
			c.Type, c.ErrorText = parts.ChunkToolOutputError, p.ErrorText
		case parts.ToolOutputDenied:
			c = parts.Chunk{Type: parts.ChunkToolOutputDenied, ToolCallID: p.ToolCallID}
		}
		out = append(out, c)
	case strings.HasPrefix(p.Type, parts.PartDataPrefix):
		if p.ID != "" && p.ID == have.ID && !bytes.Equal(p.Data, have.Data) {
			out = append(out, parts.Chunk{Type: p.Type, ID: p.ID, Data: p.Data})
		}
	}
	return out
}

func outcome(state string) bool {
	return state == parts.ToolOutputAvailable || state == parts.ToolOutputError || state == parts.ToolOutputDenied
}
