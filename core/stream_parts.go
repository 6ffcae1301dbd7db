package core

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/chatwire/chatwire/parts"
)

// ErrInvalidPart is returned (wrapped) by the part methods of Stream, TextPart and ToolCall
// for an argument the wire cannot carry: a tool call without a name, input or output that
// is not JSON, a data part without a name, message metadata that is not a JSON object, or
// a call that does not fit the part's state (a delta after End, an output before input).
var ErrInvalidPart = errors.New("chatwire: invalid part")

func invalidPart(what string) error {
	return errors.Join(ErrInvalidPart, errors.New("chatwire: "+what))
}

// TextPart is a text or reasoning part of a streamed reply: deltas, then End. Start one with
// Stream.StartText or Stream.StartReasoning. Its methods are safe for concurrent use.
type TextPart struct {
	s         *Stream
	id        string
	reasoning bool
	ended     bool
}

// ToolCall is a tool call in a streamed reply. Its input may stream in (InputDelta) before it
// is available (Input); then the tool's Output, Fail or Deny ends it. Start one with
// Stream.StartToolCall or Stream.ToolCall. Its methods are safe for concurrent use.
type ToolCall struct {
	s     *Stream
	info  ToolCallInfo
	state string
}

// ToolCallInfo describes a tool call.
type ToolCallInfo struct {
	// ID is the tool call's id; "" (the default) gets a new one.
	ID string
	// Name is the tool's name. Required.
	Name string
	// ProviderExecuted reports a tool that the model provider runs itself. Default false.
	ProviderExecuted bool
	// Dynamic reports a tool not known in advance (from an MCP server, say): its part has type
	// "dynamic-tool" instead of "tool-<name>". Default false.
	Dynamic bool
}

// SourceURL is a source the reply cites by URL.
type SourceURL struct {
	// ID identifies the source within the reply; "" gets a new one.
	ID string
	// URL is the source's address. Required.
	URL string
	// Title is the source's title; "" for none.
	Title string
}

// SourceDocument is a document the reply cites.
type SourceDocument struct {
	// ID identifies the source within the reply; "" gets a new one.
	ID string
	// MediaType is the document's IANA media type, e.g. "application/pdf". Required.
	MediaType string
	// Title is the document's title. Required.
	Title string
	// Filename is its file name; "" for none.
	Filename string
}

// File is a file in the reply (an image a model generated, say).
type File struct {
	// MediaType is the file's IANA media type. Required.
	MediaType string
	// URL is where the file is: an https: URL or a data: URL. Required.
	URL string
}

// Data is a custom data part (progress, a workflow step, ...), the AI SDK's data-<name> part.
type Data struct {
	// Name makes the part's type "data-<Name>". Required.
	Name string
	// ID, when set, makes a later Data with the same Name and ID replace this one in the
	// message (progress that updates in place). Default "": every Data is a new part.
	ID string
	// Value is the part's JSON value. Required.
	Value json.RawMessage
	// Transient data is delivered to the clients watching now but never stored: it is not in
	// the final message nor in a resumed stream. Default false.
	Transient bool
}

// newPartIDLocked returns a part id unique within the stream. s.mu must be held.
func (s *Stream) newPartIDLocked(prefix string) string {
	s.nextPart++
	return prefix + strconv.Itoa(s.nextPart)
}

// writeLocked checks that the stream can take chunks and appends them. s.mu must be held.
func (s *Stream) writeLocked(ctx context.Context, chunks ...parts.Chunk) error {
	if s.ended {
		return ErrStreamEnded
	}
	if err := s.ctx.Err(); err != nil {
		return context.Cause(s.ctx)
	}
	return s.appendLocked(ctx, chunks...)
}

// StartText starts a text part. Its deltas are the reply's visible text.
func (s *Stream) StartText(ctx context.Context) (*TextPart, error) {
	return s.startText(ctx, false)
}

// StartReasoning starts a reasoning part (a thinking model's reasoning). It is never part of
// the message's content.
func (s *Stream) StartReasoning(ctx context.Context) (*TextPart, error) {
	return s.startText(ctx, true)
}

func (s *Stream) startText(ctx context.Context, reasoning bool) (*TextPart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	typ, prefix := parts.ChunkTextStart, "t"
	if reasoning {
		typ, prefix = parts.ChunkReasoningStart, "r"
	}
	p := &TextPart{s: s, id: s.newPartIDLocked(prefix), reasoning: reasoning}
	if err := s.writeLocked(ctx, parts.Chunk{Type: typ, ID: p.id}); err != nil {
		return nil, err
	}
	s.textPart = nil // Delta starts its own text part after this one
	return p, nil
}

// ID returns the part's id within the stream.
func (p *TextPart) ID() string { return p.id }

// Delta appends text to the part. Empty text is ignored.
func (p *TextPart) Delta(ctx context.Context, text string) error {
	if text == "" {
		return nil
	}
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ended || !s.parts.Streaming(p.reasoning, p.id) {
		return invalidPart("delta after the part ended")
	}
	typ := parts.ChunkTextDelta
	if p.reasoning {
		typ = parts.ChunkReasoningDelta
	}
	return s.writeLocked(ctx, parts.Chunk{Type: typ, ID: p.id, Delta: text})
}

// Write implements io.Writer by appending b as one delta with the stream's context.
func (p *TextPart) Write(b []byte) (int, error) {
	if err := p.Delta(p.s.ctx, string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// End ends the part. Ending an ended part does nothing.
func (p *TextPart) End(ctx context.Context) error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ended || !s.parts.Streaming(p.reasoning, p.id) {
		p.ended = true
		return nil
	}
	typ := parts.ChunkTextEnd
	if p.reasoning {
		typ = parts.ChunkReasoningEnd
	}
	if err := s.writeLocked(ctx, parts.Chunk{Type: typ, ID: p.id}); err != nil {
		return err
	}
	p.ended = true
	return nil
}

func (s *Stream) newToolCall(info ToolCallInfo) (*ToolCall, error) {
	if info.Name == "" {
		return nil, invalidPart("tool call without a name")
	}
	if info.ID == "" {
		info.ID = NewID()
	}
	return &ToolCall{s: s, info: info}, nil
}

func (t *ToolCall) chunk(typ string) parts.Chunk {
	return parts.Chunk{Type: typ, ToolCallID: t.info.ID, ToolName: t.info.Name, ProviderExecuted: t.info.ProviderExecuted, Dynamic: t.info.Dynamic}
}

// StartToolCall starts a tool call whose input streams in (state input-streaming): send the
// input's JSON text with InputDelta, then the parsed input with Input.
func (s *Stream) StartToolCall(ctx context.Context, info ToolCallInfo) (*ToolCall, error) {
	t, err := s.newToolCall(info)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeLocked(ctx, t.chunk(parts.ChunkToolInputStart)); err != nil {
		return nil, err
	}
	s.textPart = nil
	t.state = parts.ToolInputStreaming
	return t, nil
}

// ToolCall adds a tool call whose input is known at once (state input-available). input
// must be a JSON value.
func (s *Stream) ToolCall(ctx context.Context, info ToolCallInfo, input json.RawMessage) (*ToolCall, error) {
	t, err := s.newToolCall(info)
	if err != nil {
		return nil, err
	}
	if !json.Valid(input) {
		return nil, invalidPart("tool input is not JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := t.chunk(parts.ChunkToolInputAvailable)
	c.Input = input
	if err := s.writeLocked(ctx, c); err != nil {
		return nil, err
	}
	s.textPart = nil
	t.state = parts.ToolInputAvailable
	return t, nil
}

// ID returns the tool call's id.
func (t *ToolCall) ID() string { return t.info.ID }

// Name returns the tool's name.
func (t *ToolCall) Name() string { return t.info.Name }

// State returns the call's state (parts.ToolInputStreaming, parts.ToolInputAvailable, ...).
func (t *ToolCall) State() string {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.state
}

// InputDelta appends text to the input's JSON text while it streams in.
func (t *ToolCall) InputDelta(ctx context.Context, text string) error {
	if text == "" {
		return nil
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state != parts.ToolInputStreaming {
		return invalidPart("tool input delta after the input was complete")
	}
	return s.writeLocked(ctx, parts.Chunk{Type: parts.ChunkToolInputDelta, ToolCallID: t.info.ID, InputTextDelta: text})
}

// Input makes the call's complete input available (state input-available). input must be a
// JSON value.
func (t *ToolCall) Input(ctx context.Context, input json.RawMessage) error {
	if !json.Valid(input) {
		return invalidPart("tool input is not JSON")
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state != parts.ToolInputStreaming {
		return invalidPart("tool input after the input was complete")
	}
	c := t.chunk(parts.ChunkToolInputAvailable)
	c.Input = input
	if err := s.writeLocked(ctx, c); err != nil {
		return err
	}
	t.state = parts.ToolInputAvailable
	return nil
}

// ended reports whether the call has an outcome. s.mu must be held.
func (t *ToolCall) endedLocked() bool {
	return t.state == parts.ToolOutputAvailable || t.state == parts.ToolOutputError || t.state == parts.ToolOutputDenied
}

// Output records the tool's result (state output-available). output must be a JSON value.
// The input must be available first.
func (t *ToolCall) Output(ctx context.Context, output json.RawMessage) error {
	if !json.Valid(output) {
		return invalidPart("tool output is not JSON")
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state == parts.ToolInputStreaming || t.endedLocked() {
		return invalidPart("tool output before the input or after the outcome")
	}
	c := t.chunk(parts.ChunkToolOutputAvailable)
	c.ToolName, c.Output = "", output
	if err := s.writeLocked(ctx, c); err != nil {
		return err
	}
	t.state = parts.ToolOutputAvailable
	return nil
}

// Fail records that the tool failed (state output-error) with errorText, which clients show:
// never put internal error details in it. A call whose input was still streaming gets its
// input as null first.
func (t *ToolCall) Fail(ctx context.Context, errorText string) error {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.endedLocked() {
		return invalidPart("tool error after the outcome")
	}
	var chunks []parts.Chunk
	if t.state == parts.ToolInputStreaming {
		in := t.chunk(parts.ChunkToolInputAvailable)
		in.Input = json.RawMessage("null")
		chunks = append(chunks, in)
	}
	c := t.chunk(parts.ChunkToolOutputError)
	c.ToolName, c.ErrorText = "", errorText
	if err := s.writeLocked(ctx, append(chunks, c)...); err != nil {
		return err
	}
	t.state = parts.ToolOutputError
	return nil
}

// Deny records that the call was not run because a person denied it (state
// output-denied). The chunk is understood by `ai` 6 and later clients only; it belongs to
// tool approvals, which need them.
func (t *ToolCall) Deny(ctx context.Context) error {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state == parts.ToolInputStreaming || t.endedLocked() {
		return invalidPart("tool denial before the input or after the outcome")
	}
	if err := s.writeLocked(ctx, parts.Chunk{Type: parts.ChunkToolOutputDenied, ToolCallID: t.info.ID}); err != nil {
		return err
	}
	t.state = parts.ToolOutputDenied
	return nil
}

// write is the common body of the one-chunk part methods.
func (s *Stream) write(ctx context.Context, c parts.Chunk) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeLocked(ctx, c); err != nil {
		return err
	}
	if c.Type != parts.ChunkMessageMetadata && !(c.IsData() && c.Transient) {
		s.textPart = nil
	}
	return nil
}

// SourceURL adds a source cited by URL.
func (s *Stream) SourceURL(ctx context.Context, src SourceURL) error {
	if src.URL == "" {
		return invalidPart("source without a URL")
	}
	if src.ID == "" {
		src.ID = NewID()
	}
	return s.write(ctx, parts.Chunk{Type: parts.ChunkSourceURL, SourceID: src.ID, URL: src.URL, Title: src.Title})
}

// SourceDocument adds a cited document.
func (s *Stream) SourceDocument(ctx context.Context, doc SourceDocument) error {
	if doc.MediaType == "" || doc.Title == "" {
		return invalidPart("source document without a media type or title")
	}
	if doc.ID == "" {
		doc.ID = NewID()
	}
	return s.write(ctx, parts.Chunk{Type: parts.ChunkSourceDocument, SourceID: doc.ID, MediaType: doc.MediaType, Title: doc.Title, Filename: doc.Filename})
}

// File adds a file.
func (s *Stream) File(ctx context.Context, f File) error {
	if f.MediaType == "" || f.URL == "" {
		return invalidPart("file without a media type or URL")
	}
	return s.write(ctx, parts.Chunk{Type: parts.ChunkFile, MediaType: f.MediaType, URL: f.URL})
}

// Data adds (or, with an ID already used, replaces) a data part.
func (s *Stream) Data(ctx context.Context, d Data) error {
	if d.Name == "" {
		return invalidPart("data part without a name")
	}
	if !json.Valid(d.Value) {
		return invalidPart("data value is not JSON")
	}
	return s.write(ctx, parts.Chunk{Type: parts.ChunkDataPrefix + d.Name, ID: d.ID, Data: d.Value, Transient: d.Transient})
}

// StartStep marks the start of a step (one model call in a multi-step reply).
func (s *Stream) StartStep(ctx context.Context) error {
	return s.write(ctx, parts.Chunk{Type: parts.ChunkStartStep})
}

// FinishStep marks the end of a step. Text and reasoning parts still open are ended first
// (AI SDK clients forget open parts at a step's end), so they cannot be continued after it.
func (s *Stream) FinishStep(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	chunks := s.parts.EndChunks(nil)
	if err := s.writeLocked(ctx, append(chunks, parts.Chunk{Type: parts.ChunkFinishStep})...); err != nil {
		return err
	}
	s.textPart = nil
	return nil
}

// MessageMetadata merges md, a JSON object, into the message's metadata (nested objects
// merge, other values replace), as the AI SDK does. It is stored in the final message's
// metadata under "messageMetadata".
func (s *Stream) MessageMetadata(ctx context.Context, md json.RawMessage) error {
	if !isJSONObject(md) {
		return invalidPart("message metadata is not a JSON object")
	}
	return s.write(ctx, parts.Chunk{Type: parts.ChunkMessageMetadata, MessageMetadata: md})
}

// SetFinishReason records why the model stopped; it is stored with the final message
// (metadata.stream.finishReason). Default: none.
func (s *Stream) SetFinishReason(r FinishReason) {
	s.mu.Lock()
	s.finishReason = r
	s.mu.Unlock()
}
