package parts

import "encoding/json"

// QuestionPart is the name of the data part a question is shown as: "data-" + QuestionPart,
// its id the question's id. Its value is a QuestionState, replaced when the answer comes.
const QuestionPart = "chatwire-question"

// QuestionState is the value of a question's data part.
type QuestionState struct {
	// ID is the question's id (answers name it).
	ID string `json:"id"`
	// Message and Schema: the question (see Question).
	Message string          `json:"message"`
	Schema  json.RawMessage `json:"schema,omitempty"`
	// State is "pending" until answered, then the answer's action (accept, decline,
	// cancel).
	State string `json:"state"`
	// Content is an accepted answer's fields.
	Content json.RawMessage `json:"content,omitempty"`
	// AnsweredBy, AnsweredAt: who answered and when (ms since the Unix epoch).
	AnsweredBy string `json:"answeredBy,omitempty"`
	AnsweredAt int64  `json:"answeredAt,omitempty"`
	// Expires is when the question stops taking answers (ms; omitted: never).
	Expires int64 `json:"expires,omitempty"`
}

// QuestionPending is QuestionState.State while a question waits for its answer.
const QuestionPending = "pending"
