package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

// Tool is a function the model may call. Run gets the call's input (the JSON arguments the
// model wrote) and returns the output as JSON, or an error whose text is shown to the model
// and the user (write it for them: no internal detail).
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the input object.
	Parameters map[string]any
	Run        func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)
}

func (t Tool) param() openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        t.Name,
		Description: openai.String(t.Description),
		Parameters:  t.Parameters,
	})
}

// Calculator is the example's tool: it evaluates an arithmetic expression, offline.
func Calculator() Tool {
	return Tool{
		Name:        "calculate",
		Description: "Evaluate an arithmetic expression exactly. Supports + - * / % ^ and parentheses. Use it for any arithmetic.",
		Parameters: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"expression": map[string]any{"type": "string", "description": "for example (17+5)*3^2"},
			},
			"required":             []string{"expression"},
			"additionalProperties": false,
		},
		Run: func(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				Expression *string `json:"expression"`
			}
			if err := json.Unmarshal(input, &in); err != nil || in.Expression == nil {
				return nil, errors.New(`the input must be {"expression": "<arithmetic>"}`)
			}
			v, err := calculate(*in.Expression)
			if err != nil {
				return nil, err
			}
			return json.RawMessage(fmt.Sprintf(`{"result":%s}`, strconv.FormatFloat(v, 'g', -1, 64))), nil
		},
	}
}
