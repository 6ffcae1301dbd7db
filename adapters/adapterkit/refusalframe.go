package adapterkit

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

// Refusal frames (PROTOCOL.md, "Refusals a browser can read"): a client that sends
// ?refusal=close is told about a refusal over the WebSocket, since a browser cannot read a
// failed upgrade's status. The pipeline then completes the upgrade, sends one error envelope
// in place of the welcome frame and closes with 4000 + the HTTP status.
const (
	// QueryRefusal is the query parameter that chooses how refusals are delivered.
	QueryRefusal = "refusal"
	// RefusalClose as QueryRefusal's value asks for refusal frames. Any other value but ""
	// is refused with 400 "Invalid refusal" (over HTTP).
	RefusalClose = "close"
	// RefusalSubprotocol is the only subprotocol a refusal upgrade selects, when the client
	// offered it: browsers fail an upgrade that selects none of the offered subprotocols,
	// and a credential offered as one must never be echoed.
	RefusalSubprotocol = "chatwire"
	// RefusalWaitTimeout bounds how long a refusal waits for the client's close frame.
	RefusalWaitTimeout = time.Second
	// refusalWriteTimeout bounds each of the refusal's two writes.
	refusalWriteTimeout = 5 * time.Second
)

// ErrRefused is returned by Pending.Serve for a connection upgraded only to carry a refusal.
var ErrRefused = errors.New("adapterkit: connection refused")

// WantsRefusalFrames reports whether the raw query asks for refusal frames (refusal=close).
// A query that does not parse is read as far as it does.
func WantsRefusalFrames(rawQuery string) bool {
	q, _ := url.ParseQuery(rawQuery)
	return q.Get(QueryRefusal) == RefusalClose
}

// frameable reports whether a refusal with this status may be delivered as frames: every
// one but the checks that guard the upgrade itself (not an upgrade: 426; host or origin
// not allowed: 403 before authentication), which are never upgraded.
func frameable(herr *core.HandshakeError) bool {
	return herr != errNotUpgrade && herr != errHost && herr != errOrigin
}

// offers reports whether the request offered the subprotocol name.
func offers(h http.Header, name string) bool {
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == name {
				return true
			}
		}
	}
	return false
}

// refusalFrame is a refusal waiting for its upgrade.
type refusalFrame struct {
	status int
	body   string
	code   core.ErrorCode
	done   func() // gives the hub back the goroutine it tracks
	once   sync.Once
}

// RefusalEnvelope returns the error envelope of a refusal frame: content is the HTTP
// refusal's body (without its newline), metadata {"code":…,"status":…,"close":4000+status}.
func RefusalEnvelope(status int, body string, code core.ErrorCode) *envelope.Message {
	meta, _ := json.Marshal(struct {
		Code   core.ErrorCode `json:"code"`
		Status int            `json:"status"`
		Close  int            `json:"close"`
	}{code, status, envelope.RefusalCloseCode(status)}) // cannot fail
	return &envelope.Message{ID: core.NewID(), Type: envelope.TypeError, Role: envelope.RoleSystem, Content: body, Metadata: meta, Timestamp: envelope.NowMillis()}
}

// write delivers the refusal on ws: the error envelope, then a close frame with
// 4000 + status and the code as its reason. It then reads (discarding) until the client
// answers the close or RefusalWaitTimeout passes, and closes ws, so that the close frame is
// not lost to a connection reset.
func (r *refusalFrame) write(ws Conn) {
	defer ws.Close()
	deadline := time.Now().Add(refusalWriteTimeout)
	_ = ws.SetWriteDeadline(deadline)
	if ws.WriteMessage(TextMessage, envelope.AppendMessage(nil, RefusalEnvelope(r.status, r.body, r.code))) != nil {
		return
	}
	if ws.WriteControl(CloseMessage, FormatCloseMessage(envelope.RefusalCloseCode(r.status), string(r.code)), time.Now().Add(refusalWriteTimeout)) != nil {
		return
	}
	ws.SetReadLimit(4096)
	_ = ws.SetReadDeadline(time.Now().Add(RefusalWaitTimeout))
	for {
		if _, _, err := ws.NextReader(); err != nil {
			return // the client's close frame, or the wait is over
		}
	}
}

// finish gives the tracked goroutine back to the hub, once.
func (r *refusalFrame) finish() { r.once.Do(r.done) }

// refuse answers x with a refusal: as frames when the client asked for them (frames) and
// the refusal allows it, else over HTTP (Refuse). While the hub shuts down, refusals are
// HTTP: clients retry a draining server anyway.
func (pl *Pipeline) refuse(x Exchange, parts Parts, frames bool, status int, body string, err error) error {
	if !frames {
		return Refuse(x, status, body)
	}
	done, ok := pl.hub.Track()
	if !ok {
		return Refuse(x, status, body)
	}
	p := &Pending{refusal: &refusalFrame{status: status, body: body, code: RefusalCode(status, err), done: done}}
	sub := ""
	if offers(parts.Header, RefusalSubprotocol) {
		sub = RefusalSubprotocol
	}
	if uerr := x.Upgrade(sub, p); uerr != nil {
		p.Abort()
		return uerr
	}
	return nil
}
