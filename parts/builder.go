package parts

import (
	"encoding/json"
	"strings"
)

// Builder folds chunks into the parts of one message, the way the AI SDK's client
// does: text and reasoning deltas append to their part, tool chunks move their call through
// its states, data chunks with an id replace the earlier data part with the same type and
// id, transient data chunks are dropped, message-metadata chunks are merged. Compact turns
// the result back into the fewest chunks that rebuild it. The zero value is ready to use; a
// Builder is not safe for concurrent use.
type Builder struct {
	parts    []Part             // finish-step boundaries are kept as parts of type ChunkFinishStep
	texts    []*strings.Builder // per part: text (text, reasoning) or input text (tools) so far
	index    map[partKey]int
	markers  int
	metadata json.RawMessage
}

// partKey names a part for the index: kind 't' text, 'r' reasoning (id), 'c' a tool call
// (its call id), 'd' a data part (its type and id). The zero key names nothing.
type partKey struct {
	kind byte
	typ  string
	id   string
}

// textKey returns the key of a text or reasoning part from a chunk or part type ("text-…",
// "reasoning-…", "text", "reasoning").
func textKey(typ, id string) partKey { return partKey{kind: typ[0], id: id} }

func callKey(id string) partKey { return partKey{kind: 'c', id: id} }

// sync copies the text accumulated for part i into it (Builder.String does not copy).
func (b *Builder) sync(i int) *Part {
	p := &b.parts[i]
	switch {
	case p.Type == PartText || p.Type == PartReasoning:
		p.Text = b.texts[i].String()
	case p.IsTool():
		p.InputText = b.texts[i].String()
	}
	return p
}

func (b *Builder) find(key partKey) (*Part, bool) {
	i, ok := b.index[key]
	if !ok {
		return nil, false
	}
	return &b.parts[i], true
}

func (b *Builder) push(key partKey, p Part) *Part {
	if b.index == nil {
		b.index = make(map[partKey]int)
	}
	if key.kind != 0 {
		b.index[key] = len(b.parts)
	}
	b.parts = append(b.parts, p)
	t := &strings.Builder{}
	b.texts = append(b.texts, t)
	t.WriteString(p.Text)
	t.WriteString(p.InputText)
	return &b.parts[len(b.parts)-1]
}

// appendText appends s to the text of the part key names, reporting whether it exists.
func (b *Builder) appendText(key partKey, s string) bool {
	i, ok := b.index[key]
	if ok {
		b.texts[i].WriteString(s)
	}
	return ok
}

// Apply folds one chunk in. Chunks that refer to a part that does not exist (a delta for
// a part never started, an output for an unknown tool call) and chunk types that carry no
// part (start, finish, error, abort) are ignored.
func (b *Builder) Apply(c *Chunk) {
	switch c.Type {
	case ChunkTextStart, ChunkReasoningStart:
		typ := PartText
		if c.Type == ChunkReasoningStart {
			typ = PartReasoning
		}
		b.push(textKey(typ, c.ID), Part{Type: typ, ID: c.ID, State: PartStreaming})
	case ChunkTextDelta, ChunkReasoningDelta:
		b.appendText(textKey(c.Type, c.ID), c.Delta)
	case ChunkTextEnd, ChunkReasoningEnd:
		if p, ok := b.find(textKey(c.Type, c.ID)); ok {
			p.State = PartDone
		}
	case ChunkToolInputStart:
		if p, ok := b.find(callKey(c.ToolCallID)); ok {
			p.State = ToolInputStreaming
			return
		}
		b.push(callKey(c.ToolCallID), toolPart(c, ToolInputStreaming))
	case ChunkToolInputDelta:
		if p, ok := b.find(callKey(c.ToolCallID)); ok && p.State == ToolInputStreaming {
			b.appendText(callKey(c.ToolCallID), c.InputTextDelta)
		}
	case ChunkToolInputAvailable:
		p, ok := b.find(callKey(c.ToolCallID))
		if !ok {
			p = b.push(callKey(c.ToolCallID), toolPart(c, ToolInputAvailable))
		}
		p.State, p.Input, p.InputText = ToolInputAvailable, c.Input, ""
		b.texts[b.index[callKey(c.ToolCallID)]].Reset()
		p.ProviderExecuted = p.ProviderExecuted || c.ProviderExecuted
	case ChunkToolOutputAvailable:
		if p, ok := b.find(callKey(c.ToolCallID)); ok {
			p.State, p.Output = ToolOutputAvailable, c.Output
		}
	case ChunkToolOutputError:
		if p, ok := b.find(callKey(c.ToolCallID)); ok {
			p.State, p.ErrorText = ToolOutputError, c.ErrorText
		}
	case ChunkToolOutputDenied:
		if p, ok := b.find(callKey(c.ToolCallID)); ok {
			p.State = ToolOutputDenied
		}
	case ChunkToolApprovalRequest, ChunkToolApprovalResponse:
		b.applyApproval(c)
	case ChunkSourceURL:
		b.push(partKey{}, Part{Type: PartSourceURL, SourceID: c.SourceID, URL: c.URL, Title: c.Title})
	case ChunkSourceDocument:
		b.push(partKey{}, Part{Type: PartSourceDocument, SourceID: c.SourceID, MediaType: c.MediaType, Title: c.Title, Filename: c.Filename})
	case ChunkFile:
		b.push(partKey{}, Part{Type: PartFile, URL: c.URL, MediaType: c.MediaType})
	case ChunkStartStep:
		b.push(partKey{}, Part{Type: PartStepStart})
	case ChunkFinishStep:
		b.markers++
		b.push(partKey{}, Part{Type: ChunkFinishStep})
	case ChunkMessageMetadata:
		b.metadata = mergeJSONObjects(b.metadata, c.MessageMetadata)
	default:
		if !c.IsData() || c.Transient {
			return
		}
		if c.ID != "" {
			if p, ok := b.find(partKey{kind: 'd', typ: c.Type, id: c.ID}); ok {
				p.Data = c.Data
				return
			}
		}
		var key partKey
		if c.ID != "" {
			key = partKey{kind: 'd', typ: c.Type, id: c.ID}
		}
		b.push(key, Part{Type: c.Type, ID: c.ID, Data: c.Data})
	}
}

func toolPart(c *Chunk, state string) Part {
	p := Part{ToolCallID: c.ToolCallID, ToolName: c.ToolName, State: state, ProviderExecuted: c.ProviderExecuted, Dynamic: c.Dynamic}
	if c.Dynamic {
		p.Type = PartDynamicTool
	} else {
		p.Type = PartToolPrefix + c.ToolName
	}
	return p
}

// Streaming reports whether the text (or reasoning, when reasoning is set) part id was
// started and not yet ended.
func (b *Builder) Streaming(reasoning bool, id string) bool {
	key := textKey(PartText, id)
	if reasoning {
		key = textKey(PartReasoning, id)
	}
	p, ok := b.find(key)
	return ok && p.State == PartStreaming
}

// EndChunks appends to dst the end chunks of the text and reasoning parts still open.
func (b *Builder) EndChunks(dst []Chunk) []Chunk {
	for i := range b.parts {
		p := &b.parts[i]
		if p.State != PartStreaming || p.ID == "" {
			continue
		}
		switch p.Type {
		case PartText:
			dst = append(dst, Chunk{Type: ChunkTextEnd, ID: p.ID})
		case PartReasoning:
			dst = append(dst, Chunk{Type: ChunkReasoningEnd, ID: p.ID})
		}
	}
	return dst
}

// Parts returns the message's parts in order. The slice is a copy; the builder keeps going.
func (b *Builder) Parts() []Part {
	out := make([]Part, 0, len(b.parts)-b.markers)
	for i := range b.parts {
		if p := b.sync(i); p.Type != ChunkFinishStep {
			out = append(out, *p)
		}
	}
	return out
}

// Len returns the number of parts so far.
func (b *Builder) Len() int { return len(b.parts) - b.markers }

// Text returns the message's text: its text parts joined with "" (reasoning, tool input and
// everything else left out), the content a client that knows nothing about parts shows.
func (b *Builder) Text() string {
	n, count := 0, 0
	var only string
	for i := range b.parts {
		if b.parts[i].Type == PartText {
			n += b.texts[i].Len()
			count++
			only = b.texts[i].String()
		}
	}
	if count <= 1 {
		return only
	}
	var sb strings.Builder
	sb.Grow(n)
	for i := range b.parts {
		if b.parts[i].Type == PartText {
			sb.WriteString(b.texts[i].String())
		}
	}
	return sb.String()
}

// MessageMetadata returns the merged message metadata (nil when none was sent).
func (b *Builder) MessageMetadata() json.RawMessage { return b.metadata }

// Compact appends to dst the fewest chunks that rebuild the parts so far: per text or
// reasoning part a start, one delta with all its text and (when ended) an end; per tool
// call its input at once (input-available, or, while the input streams in, a start and one
// delta) and its outcome; the other parts as they are; the merged message metadata first.
func (b *Builder) Compact(dst []Chunk) []Chunk {
	if len(b.metadata) > 0 {
		dst = append(dst, Chunk{Type: ChunkMessageMetadata, MessageMetadata: b.metadata})
	}
	for i := range b.parts {
		p := b.sync(i)
		switch {
		case p.Type == PartText || p.Type == PartReasoning:
			start, delta, end := ChunkTextStart, ChunkTextDelta, ChunkTextEnd
			if p.Type == PartReasoning {
				start, delta, end = ChunkReasoningStart, ChunkReasoningDelta, ChunkReasoningEnd
			}
			dst = append(dst, Chunk{Type: start, ID: p.ID})
			if p.Text != "" {
				dst = append(dst, Chunk{Type: delta, ID: p.ID, Delta: p.Text})
			}
			if p.State == PartDone {
				dst = append(dst, Chunk{Type: end, ID: p.ID})
			}
		case p.IsTool():
			base := Chunk{ToolCallID: p.ToolCallID, ToolName: p.ToolName, ProviderExecuted: p.ProviderExecuted, Dynamic: p.Dynamic}
			if p.State == ToolInputStreaming {
				c := base
				c.Type = ChunkToolInputStart
				dst = append(dst, c)
				if p.InputText != "" {
					dst = append(dst, Chunk{Type: ChunkToolInputDelta, ToolCallID: p.ToolCallID, InputTextDelta: p.InputText})
				}
				continue
			}
			c := base
			c.Type, c.Input = ChunkToolInputAvailable, p.Input
			dst = append(dst, c)
			dst = appendApprovalChunks(dst, p)
			out := base
			out.ToolName = ""
			switch p.State {
			case ToolOutputAvailable:
				out.Type, out.Output = ChunkToolOutputAvailable, p.Output
				dst = append(dst, out)
			case ToolOutputError:
				out.Type, out.ErrorText = ChunkToolOutputError, p.ErrorText
				dst = append(dst, out)
			case ToolOutputDenied:
				dst = append(dst, Chunk{Type: ChunkToolOutputDenied, ToolCallID: p.ToolCallID})
			}
		case p.Type == PartSourceURL:
			dst = append(dst, Chunk{Type: ChunkSourceURL, SourceID: p.SourceID, URL: p.URL, Title: p.Title})
		case p.Type == PartSourceDocument:
			dst = append(dst, Chunk{Type: ChunkSourceDocument, SourceID: p.SourceID, MediaType: p.MediaType, Title: p.Title, Filename: p.Filename})
		case p.Type == PartFile:
			dst = append(dst, Chunk{Type: ChunkFile, URL: p.URL, MediaType: p.MediaType})
		case p.Type == PartStepStart:
			dst = append(dst, Chunk{Type: ChunkStartStep})
		case p.Type == ChunkFinishStep:
			dst = append(dst, Chunk{Type: ChunkFinishStep})
		case strings.HasPrefix(p.Type, PartDataPrefix):
			dst = append(dst, Chunk{Type: p.Type, ID: p.ID, Data: p.Data})
		}
	}
	return dst
}

// mergeJSONObjects merges the JSON object over into base the way the AI SDK merges message
// metadata: nested objects merge, anything else is replaced. A value that is not a JSON
// object replaces base entirely.
func mergeJSONObjects(base, over json.RawMessage) json.RawMessage {
	if len(base) == 0 {
		return over
	}
	var a, b map[string]any
	if json.Unmarshal(base, &a) != nil || json.Unmarshal(over, &b) != nil || a == nil || b == nil {
		return over
	}
	mergeMaps(a, b)
	out, err := json.Marshal(a)
	if err != nil {
		return over
	}
	return out
}

func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeMaps(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}

// NewBuilder returns a builder holding parts (as a stored message's metadata.parts
// has them) and messageMetadata, ready for more chunks or for Compact.
func NewBuilder(parts []Part, messageMetadata json.RawMessage) *Builder {
	b := &Builder{metadata: messageMetadata}
	for _, p := range parts {
		var key partKey
		switch {
		case p.Type == PartText || p.Type == PartReasoning:
			if p.ID != "" {
				key = textKey(p.Type, p.ID)
			}
		case p.IsTool():
			key = callKey(p.ToolCallID)
		case strings.HasPrefix(p.Type, PartDataPrefix) && p.ID != "":
			key = partKey{kind: 'd', typ: p.Type, id: p.ID}
		}
		b.push(key, p)
	}
	return b
}
