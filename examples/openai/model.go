package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// Codes of the errors a client may see when the model fails. The provider's own error text
// is logged, never sent: it can hold account details, quota data or request ids.
const (
	// CodeModelError: the model provider refused or failed the request.
	CodeModelError core.ErrorCode = "MODEL_ERROR"
	// CodeModelBusy: the provider rate-limited or was overloaded; retrying later may work.
	CodeModelBusy core.ErrorCode = "MODEL_BUSY"
)

// DefaultSystemPrompt is the system message Model sends when its System field is empty.
const DefaultSystemPrompt = "You are a helpful assistant in a chat. Use the calculate tool for any arithmetic instead of computing it yourself. Answer briefly."

// Model answers chat messages with a chat-completions model of any OpenAI-compatible
// endpoint (OpenAI, Ollama, vLLM, ...), streaming its reasoning, its tool calls (input as it
// streams in, then the tool's output) and its text as one reply, step after step until the
// model answers without calling a tool. It is stateless apart from its configuration and
// safe for concurrent use.
type Model struct {
	// Client talks to the provider. Required.
	Client openai.Client
	// Model is the model name sent with every request. Required.
	Model string
	// System is the system prompt. Default: DefaultSystemPrompt.
	System string
	// Tools the model may call. Default: none.
	Tools []Tool
	// MaxSteps bounds the model calls of one reply; the last one is offered no tools, so it
	// answers in text. Default: 5.
	MaxSteps int
	// StepTimeout bounds one model call (one step, streamed to its end); a step that runs
	// longer ends the reply with CodeModelError. Default: 2 minutes.
	StepTimeout time.Duration
	// Store, when set, is where the conversation is read from (the session's stored user
	// and assistant messages), so the model sees earlier turns. Default: nil, only the new
	// message.
	Store core.Store
	// HistoryLimit bounds how many earlier messages are sent to the model. Default: 20.
	HistoryLimit int
	// Logger receives a warning when the history cannot be read (nil: silent); failed
	// replies are logged by the hub. Message contents are never logged.
	Logger *slog.Logger
}

var _ core.Handler = (*Model)(nil)

// ServeChat implements core.Handler: one streamed reply per user message.
func (m *Model) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	if req.Message.Type != core.TypeMessage {
		return nil
	}
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	msgs := m.conversation(ctx, req)
	err = m.run(s.Context(), newStreamParts(s), msgs)
	switch {
	case err == nil:
		return s.Close(ctx)
	case s.Context().Err() != nil:
		// Cancelled by a client (stored as "cancelled" with what was written so far) or cut
		// short by a shutdown; Close picks the state.
		return s.Close(context.WithoutCancel(ctx))
	default: // the hub logs err (with the provider's text); the client sees only the code
		return s.Fail(context.WithoutCancel(ctx), err)
	}
}

func (m *Model) stepTimeout() time.Duration {
	if m.StepTimeout > 0 {
		return m.StepTimeout
	}
	return 2 * time.Minute
}

func (m *Model) maxSteps() int {
	if m.MaxSteps > 0 {
		return m.MaxSteps
	}
	return 5
}

// conversation builds the messages of the first model call: the system prompt, the
// session's earlier turns (from the store; an assistant reply with its tool calls and their
// results, step by step, from the parts stored with it) and the new user message.
func (m *Model) conversation(ctx context.Context, req *core.Request) []openai.ChatCompletionMessageParamUnion {
	system := m.System
	if system == "" {
		system = DefaultSystemPrompt
	}
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system)}
	limit := m.HistoryLimit
	if limit <= 0 {
		limit = 20
	}
	if m.Store != nil {
		page, err := m.Store.Read(ctx, req.SessionID, 0)
		if err != nil && m.Logger != nil {
			m.Logger.Warn("openai example: history unavailable; answering without it", "session", req.SessionID, "err", err)
		}
		// One group per stored message, trimmed whole: a tool result must follow its call.
		var turns [][]openai.ChatCompletionMessageParamUnion
		n := 0
		for _, r := range page.Records {
			msg := r.Message
			if msg.Type != core.TypeMessage || msg.ID == req.Message.ID {
				continue
			}
			var turn []openai.ChatCompletionMessageParamUnion
			switch msg.Role {
			case core.RoleUser:
				if msg.Content != "" {
					turn = append(turn, openai.UserMessage(msg.Content))
				}
			case core.RoleAssistant:
				turn = assistantTurn(msg)
			}
			if len(turn) > 0 {
				turns = append(turns, turn)
				n += len(turn)
			}
		}
		for len(turns) > 0 && n > limit {
			n -= len(turns[0])
			turns = turns[1:]
		}
		for _, turn := range turns {
			msgs = append(msgs, turn...)
		}
	}
	return append(msgs, openai.UserMessage(req.Message.Content))
}

// assistantTurn turns a stored reply back into what the model said: per step, its text and
// the tool calls it made, followed by their results. Reasoning is not sent back, and tool
// calls without an outcome (a cancelled reply) are left out, as the model would need their
// result. A message without parts is its text.
func assistantTurn(msg core.Message) []openai.ChatCompletionMessageParamUnion {
	var meta struct {
		Parts []parts.Part `json:"parts"`
	}
	if json.Unmarshal(msg.Metadata, &meta) != nil || len(meta.Parts) == 0 {
		if msg.Content == "" {
			return nil
		}
		return []openai.ChatCompletionMessageParamUnion{openai.AssistantMessage(msg.Content)}
	}
	var out []openai.ChatCompletionMessageParamUnion
	var step stepResult
	var results []openai.ChatCompletionMessageParamUnion
	flush := func() {
		if step.text.Len() > 0 || len(step.calls) > 0 {
			out = append(out, step.assistant())
			out = append(out, results...)
		}
		step, results = stepResult{}, nil
	}
	for _, p := range meta.Parts {
		switch {
		case p.Type == parts.PartStepStart:
			flush()
		case p.Type == parts.PartText:
			step.text.WriteString(p.Text)
		case p.IsTool() && !p.ProviderExecuted && (p.State == parts.ToolOutputAvailable || p.State == parts.ToolOutputError):
			c := &toolCall{id: p.ToolCallID, name: p.ToolName}
			c.args.Write(p.Input)
			step.calls = append(step.calls, c)
			result := string(p.Output)
			if p.State == parts.ToolOutputError {
				result = errorJSON(p.ErrorText)
			}
			results = append(results, openai.ToolMessage(result, p.ToolCallID))
		}
	}
	flush()
	return out
}

// modelError turns a provider error into the *core.Error a client sees.
func modelError(err error) error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode == http.StatusServiceUnavailable) {
		return core.WrapError(CodeModelBusy, "The model is busy; try again later", err)
	}
	return core.WrapError(CodeModelError, "The model could not answer", err)
}
