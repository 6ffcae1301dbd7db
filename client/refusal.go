package client

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

// refusalOfClose returns the refusal a close code 4400-4599 reports, nil for any other code.
func refusalOfClose(code int, reason, text string) *RefusalError {
	if code < 4400 || code > 4599 {
		return nil
	}
	return &RefusalError{Code: core.ErrorCode(reason), Status: code - 4000, CloseCode: code, Message: text}
}

// refusalOfEnvelope returns the refusal an error envelope sent in place of the welcome frame
// reports (metadata {"code":…,"status":4xx|5xx,"close":44xx|45xx}), nil for anything else.
func refusalOfEnvelope(m *core.Message) *RefusalError {
	if m.Type != core.TypeError || len(m.Metadata) == 0 {
		return nil
	}
	var meta struct {
		Code   core.ErrorCode `json:"code"`
		Status int            `json:"status"`
		Close  int            `json:"close"`
	}
	if json.Unmarshal(m.Metadata, &meta) != nil || meta.Status < 400 || meta.Status > 599 || meta.Close != 4000+meta.Status {
		return nil
	}
	return &RefusalError{Code: meta.Code, Status: meta.Status, CloseCode: meta.Close, Message: m.Content}
}

// finishRefusal reads the close frame that follows a refusal envelope (briefly), answers it
// and returns r, with the close code the server actually sent when it differs.
func (c *Client) finishRefusal(cn *conn, r *RefusalError) error {
	_ = cn.ws.SetReadDeadline(time.Now().Add(time.Second))
	for {
		if _, _, err := cn.ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code >= 4400 && ce.Code <= 4599 {
				r.CloseCode, r.Status = ce.Code, ce.Code-4000
			}
			return r
		}
	}
}
