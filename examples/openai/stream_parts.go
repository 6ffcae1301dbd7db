package main

import (
	"context"
	"encoding/json"

	"github.com/chatwire/chatwire/core"
)

// streamParts writes a reply's parts onto a chatwire stream with the typed parts API: text
// and reasoning parts (a part of the other kind, a tool call or a step boundary ends the
// open one), tool calls whose input streams in, the finish reason, and the token usage as
// message metadata ({"usage":{"inputTokens":N,"outputTokens":N}}, when the provider
// reports it).
type streamParts struct {
	s         *core.Stream
	text      *core.TextPart
	reasoning *core.TextPart
	calls     map[string]*core.ToolCall
}

var _ replyParts = (*streamParts)(nil)

func newStreamParts(s *core.Stream) *streamParts {
	return &streamParts{s: s, calls: make(map[string]*core.ToolCall)}
}

// endOpen ends the open text or reasoning part, if any.
func (p *streamParts) endOpen(ctx context.Context) error {
	for _, tp := range []**core.TextPart{&p.text, &p.reasoning} {
		if *tp != nil {
			if err := (*tp).End(ctx); err != nil {
				return err
			}
			*tp = nil
		}
	}
	return nil
}

func (p *streamParts) StartStep(ctx context.Context) error {
	if err := p.endOpen(ctx); err != nil {
		return err
	}
	return p.s.StartStep(ctx)
}

func (p *streamParts) FinishStep(ctx context.Context) error {
	if err := p.endOpen(ctx); err != nil {
		return err
	}
	return p.s.FinishStep(ctx)
}

func (p *streamParts) Reasoning(ctx context.Context, delta string) error {
	if p.reasoning == nil {
		if err := p.endOpen(ctx); err != nil {
			return err
		}
		r, err := p.s.StartReasoning(ctx)
		if err != nil {
			return err
		}
		p.reasoning = r
	}
	return p.reasoning.Delta(ctx, delta)
}

func (p *streamParts) Text(ctx context.Context, delta string) error {
	if p.text == nil {
		if err := p.endOpen(ctx); err != nil {
			return err
		}
		t, err := p.s.StartText(ctx)
		if err != nil {
			return err
		}
		p.text = t
	}
	return p.text.Delta(ctx, delta)
}

func (p *streamParts) ToolInputStart(ctx context.Context, callID, name string) error {
	if err := p.endOpen(ctx); err != nil {
		return err
	}
	c, err := p.s.StartToolCall(ctx, core.ToolCallInfo{ID: callID, Name: name})
	if err != nil {
		return err
	}
	p.calls[callID] = c
	return nil
}

func (p *streamParts) ToolInputDelta(ctx context.Context, callID, delta string) error {
	if c := p.calls[callID]; c != nil {
		return c.InputDelta(ctx, delta)
	}
	return nil
}

func (p *streamParts) ToolInputAvailable(ctx context.Context, callID, name string, input json.RawMessage) error {
	if c := p.calls[callID]; c != nil {
		return c.Input(ctx, input)
	}
	if err := p.endOpen(ctx); err != nil {
		return err
	}
	c, err := p.s.ToolCall(ctx, core.ToolCallInfo{ID: callID, Name: name}, input)
	if err != nil {
		return err
	}
	p.calls[callID] = c
	return nil
}

func (p *streamParts) ToolOutput(ctx context.Context, callID string, output json.RawMessage) error {
	if c := p.calls[callID]; c != nil {
		return c.Output(ctx, output)
	}
	return nil
}

func (p *streamParts) ToolError(ctx context.Context, callID, text string) error {
	if c := p.calls[callID]; c != nil {
		return c.Fail(ctx, text)
	}
	return nil
}

func (p *streamParts) Finish(ctx context.Context, reason string, usage Usage) error {
	if err := p.endOpen(ctx); err != nil {
		return err
	}
	p.s.SetFinishReason(core.FinishReason(reason))
	if usage == (Usage{}) {
		return nil // the provider reported none
	}
	md, err := json.Marshal(map[string]Usage{"usage": usage})
	if err != nil {
		return err
	}
	return p.s.MessageMetadata(ctx, md)
}
