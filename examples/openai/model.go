package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/openai/openai-go/v3"
)

// Codes of the errors a client may see when the model fails. The provider's own error text
// is logged, never sent: it can hold account details, quota data or request ids.
const (
	// CodeModelError: the model provider refused or failed the request.
	CodeModelError = "MODEL_ERROR"
	// CodeModelBusy: the provider rate-limited or was overloaded; retrying later may work.
	CodeModelBusy = "MODEL_BUSY"
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
// session's earlier turns (from the store) and the new user message.
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
		var earlier []openai.ChatCompletionMessageParamUnion
		for _, r := range page.Records {
			msg := r.Message
			if msg.Type != core.TypeMessage || msg.Content == "" || msg.ID == req.Message.ID {
				continue
			}
			switch msg.Role {
			case core.RoleUser:
				earlier = append(earlier, openai.UserMessage(msg.Content))
			case core.RoleAssistant:
				earlier = append(earlier, openai.AssistantMessage(msg.Content))
			}
		}
		if len(earlier) > limit {
			earlier = earlier[len(earlier)-limit:]
		}
		msgs = append(msgs, earlier...)
	}
	return append(msgs, openai.UserMessage(req.Message.Content))
}

// modelError turns a provider error into the *core.Error a client sees.
func modelError(err error) error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode == http.StatusServiceUnavailable) {
		return core.WrapError(CodeModelBusy, "The model is busy; try again later", err)
	}
	return core.WrapError(CodeModelError, "The model could not answer", err)
}
