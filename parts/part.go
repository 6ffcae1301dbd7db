package parts

import (
	"encoding/json"
	"strings"

	"github.com/chatwire/chatwire/envelope"
)

// Part types (Part.Type). Tool parts are "tool-<name>" (or "dynamic-tool"), data parts
// "data-<name>": the part types of the AI SDK's UIMessage.
const (
	PartText           = "text"
	PartReasoning      = "reasoning"
	PartSourceURL      = "source-url"
	PartSourceDocument = "source-document"
	PartFile           = "file"
	PartStepStart      = "step-start"
	PartDynamicTool    = "dynamic-tool"
	// PartToolPrefix starts the type of a (static) tool part: "tool-" + the tool's name.
	PartToolPrefix = "tool-"
	// PartDataPrefix starts the type of a data part: "data-" + its name.
	PartDataPrefix = "data-"
)

// States of a text or reasoning part (Part.State).
const (
	PartStreaming = "streaming"
	PartDone      = "done"
)

// States of a tool part (Part.State), in the order a call goes through them. The approval
// states belong to tool approvals (human in the loop).
const (
	ToolInputStreaming    = "input-streaming"
	ToolInputAvailable    = "input-available"
	ToolApprovalRequested = "approval-requested"
	ToolApprovalResponded = "approval-responded"
	ToolOutputAvailable   = "output-available"
	ToolOutputError       = "output-error"
	ToolOutputDenied      = "output-denied"
)

// Part is one part of an assistant message, as a stream leaves it: the compacted result of
// its chunks. Its JSON is the AI SDK's UIMessage part of the same type, so stored messages'
// parts can be handed to useChat as they are. Type says which fields are used.
type Part struct {
	// Type is one of the Part* constants, "tool-<name>" or "data-<name>".
	Type string
	// ID is the part's id within its stream (text, reasoning: the chunks' id; data: the
	// optional data id). Text and reasoning ids are not written to JSON.
	ID string
	// Text is the text of a text or reasoning part.
	Text string
	// State is PartStreaming or PartDone for text and reasoning, a Tool* state for tools.
	State string
	// ToolCallID, ToolName: the tool call (tool parts).
	ToolCallID string
	ToolName   string
	// InputText is the input JSON text received so far while the input streams in.
	InputText string
	// Input is the tool's complete input (from input-available on).
	Input json.RawMessage
	// Output is the tool's result (output-available).
	Output json.RawMessage
	// ErrorText is the tool's error (output-error).
	ErrorText string
	// ProviderExecuted, Dynamic: see Chunk.
	ProviderExecuted bool
	Dynamic          bool
	// Approval is the approval asked for this tool call, when one was (human in the loop).
	Approval *ToolApproval
	// SourceID, URL, Title, MediaType, Filename: sources and files.
	SourceID  string
	URL       string
	Title     string
	MediaType string
	Filename  string
	// Data is a data part's value.
	Data json.RawMessage
}

// ToolApproval is an approval asked for a tool call (the AI SDK's tool part "approval").
type ToolApproval struct {
	// ID identifies the approval request.
	ID string `json:"id"`
	// Approved is the answer; nil while none was given.
	Approved *bool `json:"approved,omitempty"`
	// Reason is the optional reason given with the answer.
	Reason string `json:"reason,omitempty"`
	// AnsweredBy names who answered (see PrincipalName; "" when unknown, "timeout" when
	// the request timed out). chatwire's own field; the AI SDK ignores it.
	AnsweredBy string `json:"answeredBy,omitempty"`
	// AnsweredAt is when the answer was given, in ms since the Unix epoch (0 while none).
	AnsweredAt int64 `json:"answeredAt,omitempty"`
}

// IsTool reports whether p is a tool part (static or dynamic).
func (p *Part) IsTool() bool {
	return p.Type == PartDynamicTool || strings.HasPrefix(p.Type, PartToolPrefix)
}

// MarshalJSON writes the part as the AI SDK's UIMessage part.
func (p Part) MarshalJSON() ([]byte, error) { return AppendPart(nil, &p), nil }

// AppendPart appends p as the AI SDK's UIMessage part (its MarshalJSON form) to dst.
func AppendPart(dst []byte, p *Part) []byte {
	dst = append(dst, `{"type":`...)
	dst = envelope.AppendString(dst, p.Type)
	str := func(key, v string) {
		dst = append(dst, ',', '"')
		dst = append(dst, key...)
		dst = append(dst, '"', ':')
		dst = envelope.AppendString(dst, v)
	}
	optStr := func(key, v string) {
		if v != "" {
			str(key, v)
		}
	}
	optRaw := func(key string, v json.RawMessage) {
		if len(v) > 0 {
			dst = append(dst, ',', '"')
			dst = append(dst, key...)
			dst = append(dst, '"', ':')
			dst = append(dst, v...)
		}
	}
	switch {
	case p.Type == PartText || p.Type == PartReasoning:
		str("text", p.Text)
		optStr("state", p.State)
	case p.IsTool():
		if p.Type == PartDynamicTool {
			str("toolName", p.ToolName)
		}
		str("toolCallId", p.ToolCallID)
		str("state", p.State)
		optRaw("input", p.Input)
		optRaw("output", p.Output)
		optStr("errorText", p.ErrorText)
		if p.ProviderExecuted {
			dst = append(dst, `,"providerExecuted":true`...)
		}
		if p.Approval != nil {
			b, _ := json.Marshal(p.Approval)
			optRaw("approval", b)
		}
	case p.Type == PartSourceURL:
		str("sourceId", p.SourceID)
		str("url", p.URL)
		optStr("title", p.Title)
	case p.Type == PartSourceDocument:
		str("sourceId", p.SourceID)
		str("mediaType", p.MediaType)
		str("title", p.Title)
		optStr("filename", p.Filename)
	case p.Type == PartFile:
		str("mediaType", p.MediaType)
		str("url", p.URL)
	case strings.HasPrefix(p.Type, PartDataPrefix):
		optStr("id", p.ID)
		if len(p.Data) == 0 {
			dst = append(dst, `,"data":null`...)
		} else {
			optRaw("data", p.Data)
		}
	}
	return append(dst, '}')
}

// partJSON is the decoding shape of a Part.
type partJSON struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Text             string          `json:"text"`
	State            string          `json:"state"`
	ToolCallID       string          `json:"toolCallId"`
	ToolName         string          `json:"toolName"`
	Input            json.RawMessage `json:"input"`
	Output           json.RawMessage `json:"output"`
	ErrorText        string          `json:"errorText"`
	ProviderExecuted bool            `json:"providerExecuted"`
	Approval         *ToolApproval   `json:"approval"`
	SourceID         string          `json:"sourceId"`
	URL              string          `json:"url"`
	Title            string          `json:"title"`
	MediaType        string          `json:"mediaType"`
	Filename         string          `json:"filename"`
	Data             json.RawMessage `json:"data"`
}

// UnmarshalJSON reads a part written by MarshalJSON.
func (p *Part) UnmarshalJSON(b []byte) error {
	var j partJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Part{
		Type: j.Type, ID: j.ID, Text: j.Text, State: j.State, ToolCallID: j.ToolCallID,
		ToolName: j.ToolName, Input: nullToNil(j.Input), Output: nullToNil(j.Output),
		ErrorText: j.ErrorText, ProviderExecuted: j.ProviderExecuted, Approval: j.Approval,
		SourceID: j.SourceID, URL: j.URL, Title: j.Title, MediaType: j.MediaType,
		Filename: j.Filename, Data: j.Data,
	}
	if p.Type == PartDynamicTool {
		p.Dynamic = true
	} else if strings.HasPrefix(p.Type, PartToolPrefix) {
		p.ToolName = strings.TrimPrefix(p.Type, PartToolPrefix)
	}
	if p.Type == PartText || p.Type == PartReasoning {
		p.ID = ""
	}
	return nil
}
