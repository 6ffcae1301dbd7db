package aisdk

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chatwire/chatwire/core"
)

// catchUp returns the chunks that bring a client holding sent's parts up to target's, and
// applies them to sent. It is used when the hub sends a compacted resume frame or a final
// message to a request that has already streamed part of the reply: only what is new goes
// out (more text, a new state, new parts), never a part twice.
func catchUp(sent *core.PartsBuilder, target []core.Part, targetMeta json.RawMessage) []core.Chunk {
	var out []core.Chunk
	have := sent.Parts()
	for i, p := range target {
		if i >= len(have) {
			out = append(out, partChunks(p, "c"+strconv.Itoa(i))...)
			continue
		}
		out = append(out, advance(have[i], p)...)
	}
	if len(targetMeta) > 0 && !bytes.Equal(targetMeta, sent.MessageMetadata()) {
		out = append(out, core.Chunk{Type: core.ChunkMessageMetadata, MessageMetadata: targetMeta})
	}
	for i := range out {
		sent.Apply(&out[i])
	}
	return out
}

// partChunks returns the chunks that create p from nothing. A text or reasoning part without
// an id (as stored) gets id.
func partChunks(p core.Part, id string) []core.Chunk {
	if (p.Type == core.PartText || p.Type == core.PartReasoning) && p.ID == "" {
		p.ID = id
	}
	return core.NewPartsBuilder([]core.Part{p}, nil).Compact(nil)
}

// advance returns the chunks that move a client's part have to p (the same part, further
// on). Parts that do not match (another type, another call) are left as they are.
func advance(have, p core.Part) []core.Chunk {
	if have.Type != p.Type {
		return nil
	}
	var out []core.Chunk
	switch {
	case p.Type == core.PartText || p.Type == core.PartReasoning:
		delta, end := core.ChunkTextDelta, core.ChunkTextEnd
		if p.Type == core.PartReasoning {
			delta, end = core.ChunkReasoningDelta, core.ChunkReasoningEnd
		}
		if len(p.Text) > len(have.Text) && strings.HasPrefix(p.Text, have.Text) {
			out = append(out, core.Chunk{Type: delta, ID: have.ID, Delta: p.Text[len(have.Text):]})
		}
		if p.State == core.PartDone && have.State != core.PartDone {
			out = append(out, core.Chunk{Type: end, ID: have.ID})
		}
	case p.IsTool():
		if have.ToolCallID != p.ToolCallID {
			return nil
		}
		base := core.Chunk{ToolCallID: p.ToolCallID, ProviderExecuted: p.ProviderExecuted, Dynamic: p.Dynamic}
		if have.State == core.ToolInputStreaming {
			if p.State == core.ToolInputStreaming {
				if len(p.InputText) > len(have.InputText) && strings.HasPrefix(p.InputText, have.InputText) {
					out = append(out, core.Chunk{Type: core.ChunkToolInputDelta, ToolCallID: p.ToolCallID, InputTextDelta: p.InputText[len(have.InputText):]})
				}
				return out
			}
			c := base
			c.Type, c.ToolName, c.Input = core.ChunkToolInputAvailable, p.ToolName, p.Input
			out = append(out, c)
		}
		if p.Approval != nil && p.Approval.ID != "" && (have.Approval == nil || have.Approval.ID != p.Approval.ID) {
			out = append(out, core.Chunk{Type: core.ChunkToolApprovalRequest, ApprovalID: p.Approval.ID, ToolCallID: p.ToolCallID})
		}
		if outcome(have.State) || !outcome(p.State) {
			return out
		}
		c := base
		switch p.State {
		case core.ToolOutputAvailable:
			c.Type, c.Output = core.ChunkToolOutputAvailable, p.Output
		case core.ToolOutputError:
			c.Type, c.ErrorText = core.ChunkToolOutputError, p.ErrorText
		case core.ToolOutputDenied:
			c = core.Chunk{Type: core.ChunkToolOutputDenied, ToolCallID: p.ToolCallID}
		}
		out = append(out, c)
	case strings.HasPrefix(p.Type, core.PartDataPrefix):
		if p.ID != "" && p.ID == have.ID && !bytes.Equal(p.Data, have.Data) {
			out = append(out, core.Chunk{Type: p.Type, ID: p.ID, Data: p.Data})
		}
	}
	return out
}

func outcome(state string) bool {
	return state == core.ToolOutputAvailable || state == core.ToolOutputError || state == core.ToolOutputDenied
}
