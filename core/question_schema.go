package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// Answers to a question (storage.PendingAnswer.Action), as in MCP's elicitation.
const (
	// AnswerAccept: the user answered; storage.PendingAnswer.Content holds the fields.
	AnswerAccept = "accept"
	// AnswerDecline: the user explicitly refused to answer.
	AnswerDecline = "decline"
	// AnswerCancel: the user dismissed the question without choosing (or it timed out).
	AnswerCancel = "cancel"
)

func cloneQuestion(q *Question) *Question {
	if q == nil {
		return nil
	}
	c := *q
	c.Schema = cloneBytes(q.Schema)
	return &c
}

// questionSchema is the parsed form of Question.Schema.
type questionSchema struct {
	Type       string                   `json:"type"`
	Properties map[string]questionField `json:"properties"`
	Required   []string                 `json:"required"`
}

type questionField struct {
	Type        string            `json:"type"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Enum        []json.RawMessage `json:"enum,omitempty"`
	MinLength   *int              `json:"minLength,omitempty"`
	MaxLength   *int              `json:"maxLength,omitempty"`
	Minimum     *float64          `json:"minimum,omitempty"`
	Maximum     *float64          `json:"maximum,omitempty"`
}

var errBadSchema = errors.New("chatwire: question schema is not an object of simple fields")

// parseQuestionSchema checks a Question's schema (nil for none).
func parseQuestionSchema(raw json.RawMessage) (*questionSchema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var s questionSchema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadSchema, err)
	}
	if s.Type != "object" {
		return nil, errBadSchema
	}
	for name, f := range s.Properties {
		switch f.Type {
		case "string", "number", "integer", "boolean":
		default:
			return nil, fmt.Errorf("%w: field %q has type %q", errBadSchema, name, f.Type)
		}
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			return nil, fmt.Errorf("%w: required field %q is not a property", errBadSchema, r)
		}
	}
	return &s, nil
}

// validate checks an accepted answer's content against the schema; the error text is safe
// to show to a client (it names fields of the question, never internal details).
func (s *questionSchema) validate(content json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(content, &obj); err != nil || obj == nil {
		return errors.New("content must be a JSON object")
	}
	if s == nil {
		return nil
	}
	for _, r := range s.Required {
		if v, ok := obj[r]; !ok || string(v) == "null" {
			return fmt.Errorf("field %q is required", r)
		}
	}
	for name, v := range obj {
		f, ok := s.Properties[name]
		if !ok {
			return fmt.Errorf("field %q is not part of the question", name)
		}
		if err := f.validate(v); err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
	}
	return nil
}

func (f *questionField) validate(v json.RawMessage) error {
	switch f.Type {
	case "string":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return errors.New("must be a string")
		}
		n := utf8.RuneCountInString(s)
		if f.MinLength != nil && n < *f.MinLength {
			return fmt.Errorf("must be at least %d characters", *f.MinLength)
		}
		if f.MaxLength != nil && n > *f.MaxLength {
			return fmt.Errorf("must be at most %d characters", *f.MaxLength)
		}
	case "number", "integer":
		var x float64
		if json.Unmarshal(v, &x) != nil {
			return errors.New("must be a number")
		}
		if f.Type == "integer" && x != math.Trunc(x) {
			return errors.New("must be an integer")
		}
		if f.Minimum != nil && x < *f.Minimum {
			return fmt.Errorf("must be at least %v", *f.Minimum)
		}
		if f.Maximum != nil && x > *f.Maximum {
			return fmt.Errorf("must be at most %v", *f.Maximum)
		}
	case "boolean":
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return errors.New("must be true or false")
		}
	}
	if len(f.Enum) > 0 {
		for _, e := range f.Enum {
			if jsonEqual(e, v) {
				return nil
			}
		}
		return errors.New("is not one of the allowed values")
	}
	return nil
}

// jsonEqual compares two JSON values by meaning.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
