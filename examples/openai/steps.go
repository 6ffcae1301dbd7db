package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chatwire/chatwire/core"
	"github.com/openai/openai-go/v3"
)

// run calls the model step after step: each step streams one chat completion onto out; when
// the model called tools, they run and their results go back to the model in the next step.
func (m *Model) run(ctx context.Context, out replyParts, msgs []openai.ChatCompletionMessageParamUnion) error {
	steps := m.maxSteps()
	var usage Usage
	for step := 1; ; step++ {
		if err := out.StartStep(ctx); err != nil {
			return err
		}
		res, err := m.step(ctx, out, msgs, step < steps)
		if err != nil {
			return err
		}
		usage.InputTokens += res.usage.InputTokens
		usage.OutputTokens += res.usage.OutputTokens
		if len(res.calls) == 0 {
			if err := out.FinishStep(ctx); err != nil {
				return err
			}
			return out.Finish(ctx, finishReason(res.finish), usage)
		}
		if step >= steps { // called tools although none were offered
			return modelError(fmt.Errorf("tool calls in step %d, after the step limit", step))
		}
		msgs = append(msgs, res.assistant())
		for _, c := range res.calls {
			result, err := m.call(ctx, out, c)
			if err != nil {
				return err
			}
			msgs = append(msgs, openai.ToolMessage(result, c.id))
		}
		if err := out.FinishStep(ctx); err != nil {
			return err
		}
	}
}

// stepResult is what one streamed completion produced.
type stepResult struct {
	text   strings.Builder
	calls  []*toolCall
	finish string
	usage  Usage
}

// toolCall is one tool call assembled from streamed fragments.
type toolCall struct {
	index   int64
	id      string
	name    string
	args    strings.Builder
	started bool // ToolInputStart was written
	pending []string
}

func (r *stepResult) assistant() openai.ChatCompletionMessageParamUnion {
	a := openai.ChatCompletionAssistantMessageParam{}
	if r.text.Len() > 0 {
		a.Content.OfString = openai.String(r.text.String())
	}
	for _, c := range r.calls {
		a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
			OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
				ID:       c.id,
				Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.name, Arguments: c.args.String()},
			},
		})
	}
	return openai.ChatCompletionMessageParamUnion{OfAssistant: &a}
}

// step streams one completion onto out.
func (m *Model) step(ctx context.Context, out replyParts, msgs []openai.ChatCompletionMessageParamUnion, withTools bool) (*stepResult, error) {
	params := openai.ChatCompletionNewParams{
		Model:         m.Model,
		Messages:      msgs,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if withTools {
		for _, t := range m.Tools {
			params.Tools = append(params.Tools, t.param())
		}
	}
	callCtx, cancel := context.WithTimeout(ctx, m.stepTimeout())
	defer cancel()
	stream := m.Client.Chat.Completions.NewStreaming(callCtx, params)
	defer stream.Close()
	res := &stepResult{}
	for stream.Next() {
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() {
			res.usage = Usage{InputTokens: chunk.Usage.PromptTokens, OutputTokens: chunk.Usage.CompletionTokens}
		}
		if len(chunk.Choices) == 0 {
			continue // the usage chunk
		}
		ch := chunk.Choices[0]
		if r := reasoningOf(ch.Delta); r != "" {
			if err := out.Reasoning(ctx, r); err != nil {
				return nil, err
			}
		}
		if ch.Delta.Content != "" {
			res.text.WriteString(ch.Delta.Content)
			if err := out.Text(ctx, ch.Delta.Content); err != nil {
				return nil, err
			}
		}
		for _, d := range ch.Delta.ToolCalls {
			if err := res.toolDelta(ctx, out, d); err != nil {
				return nil, err
			}
		}
		if ch.FinishReason != "" {
			res.finish = ch.FinishReason
		}
	}
	if err := stream.Err(); err != nil {
		if ctx.Err() != nil { // cancelled by a client, or the hub's shutdown
			return nil, context.Cause(ctx)
		}
		return nil, modelError(err) // the provider failed, or the step timed out
	}
	for _, c := range res.calls {
		if c.name == "" {
			return nil, modelError(fmt.Errorf("tool call %d has no function name", c.index))
		}
	}
	return res, nil
}

// toolDelta folds one streamed tool-call fragment into its call. The first fragment of a
// call carries its id and name (OpenAI, vLLM); some providers send the whole call at once
// (Ollama). Fragments that arrive before the name are held until it is known.
func (r *stepResult) toolDelta(ctx context.Context, out replyParts, d openai.ChatCompletionChunkChoiceDeltaToolCall) error {
	var c *toolCall
	for _, x := range r.calls {
		if x.index == d.Index {
			c = x
			break
		}
	}
	if c == nil {
		c = &toolCall{index: d.Index}
		r.calls = append(r.calls, c)
	}
	if c.id == "" && d.ID != "" {
		c.id = d.ID
	}
	if d.Function.Name != "" && c.name == "" {
		c.name = d.Function.Name
	}
	if frag := d.Function.Arguments; frag != "" {
		c.args.WriteString(frag)
		c.pending = append(c.pending, frag)
	}
	if c.name == "" {
		return nil
	}
	if !c.started {
		if c.id == "" {
			c.id = "call_" + core.NewID() // a provider that sends no ids
		}
		c.started = true
		if err := out.ToolInputStart(ctx, c.id, c.name); err != nil {
			return err
		}
	}
	for _, frag := range c.pending {
		if err := out.ToolInputDelta(ctx, c.id, frag); err != nil {
			return err
		}
	}
	c.pending = c.pending[:0]
	return nil
}

// call runs one tool call and writes its input and outcome onto out. It returns what goes
// back to the model: the tool's JSON output, or {"error": "..."}.
func (m *Model) call(ctx context.Context, out replyParts, c *toolCall) (string, error) {
	raw := strings.TrimSpace(c.args.String())
	if raw == "" {
		raw = "{}" // a call without arguments
	}
	if !json.Valid([]byte(raw)) {
		msg := "the tool input is not valid JSON"
		return errorJSON(msg), out.ToolError(ctx, c.id, msg)
	}
	if err := out.ToolInputAvailable(ctx, c.id, c.name, json.RawMessage(raw)); err != nil {
		return "", err
	}
	var tool *Tool
	for i := range m.Tools {
		if m.Tools[i].Name == c.name {
			tool = &m.Tools[i]
		}
	}
	if tool == nil {
		msg := fmt.Sprintf("there is no tool named %q", c.name)
		return errorJSON(msg), out.ToolError(ctx, c.id, msg)
	}
	result, err := tool.Run(ctx, json.RawMessage(raw))
	if err != nil {
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		return errorJSON(err.Error()), out.ToolError(ctx, c.id, err.Error())
	}
	return string(result), out.ToolOutput(ctx, c.id, result)
}

func errorJSON(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

// reasoningOf returns the reasoning text of a delta. The OpenAI API itself streams no
// reasoning in chat completions; compatible servers send it beside content, as
// "reasoning_content" (DeepSeek, vLLM before 0.10) or "reasoning" (vLLM, Ollama, OpenRouter).
func reasoningOf(d openai.ChatCompletionChunkChoiceDelta) string {
	for _, key := range []string{"reasoning_content", "reasoning"} {
		f, ok := d.JSON.ExtraFields[key] // unknown to the SDK: kept raw (Valid is false for them)
		if !ok || f.Raw() == "" || f.Raw() == "null" {
			continue
		}
		var s string
		if json.Unmarshal([]byte(f.Raw()), &s) == nil && s != "" {
			return s
		}
	}
	return ""
}
