package adapterkit

import (
	"encoding/json"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

// RefusalWaitTimeout bounds how long WriteRefusal waits for the client's close frame.
const RefusalWaitTimeout = time.Second

// WriteRefusal delivers a refusal on a connection upgraded only to carry it: the error
// envelope of RefusalMessage, then a close frame with core.RefusalCloseCode and the refusal code
// as its reason. It then reads (discarding) until the client answers the close or
// RefusalWaitTimeout passes, and closes ws, so the close frame is not lost to a reset. It
// blocks the caller for at most about RefusalWaitTimeout plus two write timeouts.
func WriteRefusal(ws Conn, err error, writeTimeout time.Duration) {
	if writeTimeout <= 0 {
		writeTimeout = core.DefaultWriteTimeout
	}
	defer ws.Close()
	m := RefusalMessage(err)
	status, _ := RefusalOf(err)
	deadline := time.Now().Add(writeTimeout)
	_ = ws.SetWriteDeadline(deadline)
	if ws.WriteMessage(TextMessage, envelope.AppendMessage(nil, m)) != nil {
		return
	}
	if ws.WriteControl(CloseMessage, FormatCloseMessage(core.RefusalCloseCode(status), core.RefusalCode(err)), time.Now().Add(writeTimeout)) != nil {
		return
	}
	ws.SetReadLimit(4096)
	_ = ws.SetReadDeadline(time.Now().Add(RefusalWaitTimeout))
	for {
		if _, _, rerr := ws.NextReader(); rerr != nil {
			return // the client's close frame (or the wait ended)
		}
	}
}

// refusalMeta is the metadata of a refusal's error envelope.
type refusalMeta struct {
	Code   string `json:"code"`
	Status int    `json:"status"`
	Close  int    `json:"close"`
}

// RefusalMessage returns the error envelope of a refusal frame: content is the refusal's
// plain-text body (the one an HTTP refusal has), metadata is
// {"code":"UNAUTHENTICATED","status":401,"close":4401}.
func RefusalMessage(err error) *core.Message {
	status, body := RefusalOf(err)
	meta, _ := json.Marshal(refusalMeta{Code: core.RefusalCode(err), Status: status, Close: core.RefusalCloseCode(status)}) // cannot fail
	return &core.Message{ID: core.NewID(), Type: core.TypeError, Role: core.RoleSystem, Content: body, Metadata: meta, Timestamp: envelope.NowMillis()}
}
