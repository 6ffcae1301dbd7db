package parts

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/chatwire/chatwire/envelope"
)

// Chunk types: one change to a streamed reply's parts. They are the chunk types of the AI
// SDK's UI message stream protocol (package `ai` on npm, 5.0 and later), and a Chunk's JSON is
// exactly that protocol's chunk, with only the fields every supported version accepts.
const (
	ChunkTextStart           = "text-start"
	ChunkTextDelta           = "text-delta"
	ChunkTextEnd             = "text-end"
	ChunkReasoningStart      = "reasoning-start"
	ChunkReasoningDelta      = "reasoning-delta"
	ChunkReasoningEnd        = "reasoning-end"
	ChunkToolInputStart      = "tool-input-start"
	ChunkToolInputDelta      = "tool-input-delta"
	ChunkToolInputAvailable  = "tool-input-available"
	ChunkToolOutputAvailable = "tool-output-available"
	ChunkToolOutputError     = "tool-output-error"
	// ChunkToolOutputDenied is accepted only by `ai` 6 and later clients; it is written only
	// after a tool approval was denied (approvals need `ai` 6).
	ChunkToolOutputDenied = "tool-output-denied"
	// ChunkToolApprovalRequest asks a person to approve a tool call (approval-requested;
	// `ai` 6 and later). Fields: ApprovalID, ToolCallID.
	ChunkToolApprovalRequest = "tool-approval-request"
	// ChunkToolApprovalResponse is chatwire's own (no AI SDK version has it): the answer a
	// person gave to an approval request (approval-responded). It travels on chatwire's
	// WebSocket frames and in the store; the AI SDK endpoint never sends it. Fields:
	// ApprovalID, ToolCallID, Approved, Reason, AnsweredBy, AnsweredAt.
	ChunkToolApprovalResponse = "tool-approval-response"
	ChunkSourceURL            = "source-url"
	ChunkSourceDocument       = "source-document"
	ChunkFile                 = "file"
	ChunkStartStep            = "start-step"
	ChunkFinishStep           = "finish-step"
	ChunkMessageMetadata      = "message-metadata"
	// ChunkDataPrefix starts the type of a data chunk: "data-" + its name.
	ChunkDataPrefix = "data-"
	// The chunks below frame a whole reply on the AI SDK's SSE stream; a stream's own
	// chunks never use them.
	ChunkStart  = "start"
	ChunkFinish = "finish"
	ChunkError  = "error"
	ChunkAbort  = "abort"
)

// Chunk is one change to the parts of a streamed reply: a text delta, a tool call's input
// becoming available, a source, and so on. Type says which; each type uses the fields its
// comment names and ignores the others. Handlers do not build chunks: they call the typed
// methods of Stream, TextPart and ToolCall. Clients (and the AI SDK endpoint) read them from
// a stream frame's metadata and fold them into Parts with a Builder.
type Chunk struct {
	// Type is one of the Chunk* constants, or "data-<name>".
	Type string
	// ID names a text or reasoning part (text-*, reasoning-*), or a data part (data-*,
	// optional: a later data chunk with the same type and ID replaces the earlier one).
	ID string
	// Delta is the text appended by text-delta and reasoning-delta.
	Delta string
	// ToolCallID names the tool call (tool-*).
	ToolCallID string
	// ToolName is the tool's name (tool-input-start, tool-input-available).
	ToolName string
	// InputTextDelta is the input JSON text appended by tool-input-delta.
	InputTextDelta string
	// Input is the tool call's complete input, a JSON value (tool-input-available).
	Input json.RawMessage
	// Output is the tool's result, a JSON value (tool-output-available).
	Output json.RawMessage
	// ErrorText is the tool's error (tool-output-error).
	ErrorText string
	// ProviderExecuted reports a tool the model provider ran itself (tool-*).
	ProviderExecuted bool
	// Dynamic reports a tool not known in advance, such as one from an MCP server (tool-*).
	Dynamic bool
	// SourceID names a source (source-url, source-document).
	SourceID string
	// URL is the source's (source-url) or file's (file) address.
	URL string
	// Title is the source's title (source-url optional; source-document required).
	Title string
	// MediaType is the IANA media type (source-document, file).
	MediaType string
	// Filename is the document's file name (source-document, optional).
	Filename string
	// Data is a data part's JSON value (data-*).
	Data json.RawMessage
	// Transient marks a data part that is delivered but never stored (data-*).
	Transient bool
	// MessageMetadata is a JSON object merged into the message's metadata
	// (message-metadata; also start and finish on the SSE stream).
	MessageMetadata json.RawMessage
	// MessageID is the assistant message's id (start, SSE only).
	MessageID string
	// ApprovalID names an approval request (tool-approval-request, tool-approval-response).
	ApprovalID string
	// Approved, Reason, AnsweredBy, AnsweredAt: the answer (tool-approval-response).
	Approved   bool
	Reason     string
	AnsweredBy string
	AnsweredAt int64
	// ErrorText for the error chunk is ErrorText above.
}

// IsData reports whether c is a data chunk ("data-<name>").
func (c *Chunk) IsData() bool { return strings.HasPrefix(c.Type, ChunkDataPrefix) }

// errBadChunk is returned when a chunk cannot be decoded.
var errBadChunk = errors.New("chatwire: malformed chunk")

// MarshalJSON writes the chunk in the AI SDK's UI message stream form.
func (c Chunk) MarshalJSON() ([]byte, error) {
	return AppendChunk(nil, &c), nil
}

// AppendChunk appends c's JSON to dst: exactly the fields of its type that every `ai`
// version from 5.0 on accepts (optional ones only when set), in a fixed order. Invalid UTF-8
// in strings becomes U+FFFD; a JSON field that is not set is written as null.
func AppendChunk(dst []byte, c *Chunk) []byte {
	dst = append(dst, `{"type":`...)
	dst = envelope.AppendString(dst, c.Type)
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
	raw := func(key string, v json.RawMessage) {
		dst = append(dst, ',', '"')
		dst = append(dst, key...)
		dst = append(dst, '"', ':')
		if len(v) == 0 {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, v...)
		}
	}
	flag := func(key string, v bool) {
		if v {
			dst = append(dst, ',', '"')
			dst = append(dst, key...)
			dst = append(dst, `":true`...)
		}
	}
	switch c.Type {
	case ChunkTextStart, ChunkTextEnd, ChunkReasoningStart, ChunkReasoningEnd:
		str("id", c.ID)
	case ChunkTextDelta, ChunkReasoningDelta:
		str("id", c.ID)
		str("delta", c.Delta)
	case ChunkToolInputStart:
		str("toolCallId", c.ToolCallID)
		str("toolName", c.ToolName)
		flag("providerExecuted", c.ProviderExecuted)
		flag("dynamic", c.Dynamic)
	case ChunkToolInputDelta:
		str("toolCallId", c.ToolCallID)
		str("inputTextDelta", c.InputTextDelta)
	case ChunkToolInputAvailable:
		str("toolCallId", c.ToolCallID)
		str("toolName", c.ToolName)
		raw("input", c.Input)
		flag("providerExecuted", c.ProviderExecuted)
		flag("dynamic", c.Dynamic)
	case ChunkToolOutputAvailable:
		str("toolCallId", c.ToolCallID)
		raw("output", c.Output)
		flag("providerExecuted", c.ProviderExecuted)
		flag("dynamic", c.Dynamic)
	case ChunkToolOutputError:
		str("toolCallId", c.ToolCallID)
		str("errorText", c.ErrorText)
		flag("providerExecuted", c.ProviderExecuted)
		flag("dynamic", c.Dynamic)
	case ChunkToolOutputDenied:
		str("toolCallId", c.ToolCallID)
	case ChunkToolApprovalRequest:
		str("approvalId", c.ApprovalID)
		str("toolCallId", c.ToolCallID)
	case ChunkToolApprovalResponse:
		dst = appendApprovalResponse(dst, c)
	case ChunkSourceURL:
		str("sourceId", c.SourceID)
		str("url", c.URL)
		optStr("title", c.Title)
	case ChunkSourceDocument:
		str("sourceId", c.SourceID)
		str("mediaType", c.MediaType)
		str("title", c.Title)
		optStr("filename", c.Filename)
	case ChunkFile:
		str("url", c.URL)
		str("mediaType", c.MediaType)
	case ChunkMessageMetadata:
		raw("messageMetadata", c.MessageMetadata)
	case ChunkStart:
		optStr("messageId", c.MessageID)
		if len(c.MessageMetadata) > 0 {
			raw("messageMetadata", c.MessageMetadata)
		}
	case ChunkFinish:
		if len(c.MessageMetadata) > 0 {
			raw("messageMetadata", c.MessageMetadata)
		}
	case ChunkError:
		str("errorText", c.ErrorText)
	case ChunkStartStep, ChunkFinishStep, ChunkAbort:
	default:
		if c.IsData() {
			optStr("id", c.ID)
			raw("data", c.Data)
			flag("transient", c.Transient)
		}
	}
	return append(dst, '}')
}

// chunkJSON is the decoding shape of a Chunk.
type chunkJSON struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Delta            string          `json:"delta"`
	ToolCallID       string          `json:"toolCallId"`
	ToolName         string          `json:"toolName"`
	InputTextDelta   string          `json:"inputTextDelta"`
	Input            json.RawMessage `json:"input"`
	Output           json.RawMessage `json:"output"`
	ErrorText        string          `json:"errorText"`
	ProviderExecuted bool            `json:"providerExecuted"`
	Dynamic          bool            `json:"dynamic"`
	SourceID         string          `json:"sourceId"`
	URL              string          `json:"url"`
	Title            string          `json:"title"`
	MediaType        string          `json:"mediaType"`
	Filename         string          `json:"filename"`
	Data             json.RawMessage `json:"data"`
	Transient        bool            `json:"transient"`
	MessageMetadata  json.RawMessage `json:"messageMetadata"`
	MessageID        string          `json:"messageId"`
	ApprovalID       string          `json:"approvalId"`
	Approved         bool            `json:"approved"`
	Reason           string          `json:"reason"`
	AnsweredBy       string          `json:"answeredBy"`
	AnsweredAt       int64           `json:"answeredAt"`
}

// UnmarshalJSON reads a chunk written by MarshalJSON (or by the AI SDK). A chunk without a
// string type is an error.
func (c *Chunk) UnmarshalJSON(b []byte) error {
	var j chunkJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Type == "" {
		return errBadChunk
	}
	*c = Chunk{
		Type: j.Type, ID: j.ID, Delta: j.Delta, ToolCallID: j.ToolCallID, ToolName: j.ToolName,
		InputTextDelta: j.InputTextDelta, Input: nullToNil(j.Input), Output: nullToNil(j.Output),
		ErrorText: j.ErrorText, ProviderExecuted: j.ProviderExecuted, Dynamic: j.Dynamic,
		SourceID: j.SourceID, URL: j.URL, Title: j.Title, MediaType: j.MediaType,
		Filename: j.Filename, Data: nullToNil(j.Data), Transient: j.Transient,
		MessageMetadata: nullToNil(j.MessageMetadata), MessageID: j.MessageID,
		ApprovalID: j.ApprovalID, Approved: j.Approved, Reason: j.Reason,
		AnsweredBy: j.AnsweredBy, AnsweredAt: j.AnsweredAt,
	}
	return nil
}

func nullToNil(r json.RawMessage) json.RawMessage {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return r
}
