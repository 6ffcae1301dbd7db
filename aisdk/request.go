package aisdk

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/chatwire/chatwire/core"
)

// The triggers useChat sends with a POST.
const (
	TriggerSubmit     = "submit-message"
	TriggerRegenerate = "regenerate-message"
)

// Error codes of the endpoint's JSON error bodies ({"error":{"code":...,"message":...}}).
const (
	CodeInvalidRequest       = "INVALID_REQUEST"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeBodyTooLarge         = "BODY_TOO_LARGE"
	CodeOriginNotAllowed     = "ORIGIN_NOT_ALLOWED"
	CodeHostNotAllowed       = "HOST_NOT_ALLOWED"
	CodeRefused              = "REFUSED"
	CodeNotFound             = "NOT_FOUND"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
)

// chatRequest is the part of useChat's POST body the endpoint reads.
type chatRequest struct {
	ID        *string           `json:"id"`
	Messages  []json.RawMessage `json:"messages"`
	Trigger   *string           `json:"trigger"`
	MessageID string            `json:"messageId"`
}

// uiMessage is the part of an AI SDK UIMessage the endpoint reads: only the newest one.
type uiMessage struct {
	ID    string `json:"id"`
	Role  string `json:"role"`
	Parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
}

// userTurn is what a valid POST body yields: the chat and the new user message.
type userTurn struct {
	chatID    string
	messageID string // the client's id for the user message ("" when unusable)
	text      string
	trigger   string
	// assistantID and approvals: a body whose last message is the assistant's with tool
	// approval responses (approval.go) instead of a user message.
	assistantID string
	approvals   []approvalAnswer
}

// isJSONContentType reports whether the Content-Type header is application/json (any
// parameters, such as charset, allowed).
func isJSONContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == "application/json"
}

// readBody reads at most limit bytes of r; a longer body is errTooLarge.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

var errTooLarge = errors.New("aisdk: body too large")

// parseChatRequest validates a POST body and returns the user turn, or a 400 problem.
func parseChatRequest(body []byte) (userTurn, *problem) {
	bad := func(msg string) (userTurn, *problem) {
		return userTurn{}, &problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: msg}
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return bad("Body is not valid JSON")
	}
	if req.ID == nil || !core.ValidSessionID(*req.ID) {
		return bad("Missing or invalid 'id'")
	}
	if len(req.Messages) == 0 {
		return bad("Missing 'messages'")
	}
	if req.Trigger == nil || (*req.Trigger != TriggerSubmit && *req.Trigger != TriggerRegenerate) {
		return bad("Unknown 'trigger'")
	}
	var last uiMessage
	if err := json.Unmarshal(req.Messages[len(req.Messages)-1], &last); err != nil {
		return bad("The last message is malformed")
	}
	if last.Role == "assistant" {
		id, answers, p := approvalTurn(req.Messages[len(req.Messages)-1])
		if p != nil {
			return userTurn{}, p
		}
		return userTurn{chatID: *req.ID, trigger: *req.Trigger, assistantID: id, approvals: answers}, nil
	}
	if last.Role != "user" {
		return bad("The last message must be the user's")
	}
	var text strings.Builder
	for _, p := range last.Parts {
		if p.Type == "text" {
			text.WriteString(p.Text)
		}
	}
	turn := userTurn{chatID: *req.ID, text: text.String(), trigger: *req.Trigger}
	if core.ValidSessionID(last.ID) {
		turn.messageID = last.ID
	}
	return turn, nil
}

// problem is a refusal answered with a JSON error body.
type problem struct {
	status  int
	code    string
	message string
}

func (p *problem) body() []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": p.code, "message": p.message}})
	return b
}
