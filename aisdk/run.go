package aisdk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/internal/hubport"
)

// inboundFrame is the envelope the endpoint hands the hub for the user's message.
func inboundFrame(id, text string) []byte {
	b, _ := json.Marshal(struct {
		ID      string `json:"id,omitempty"`
		Type    string `json:"type"`
		Content string `json:"content"`
	}{id, "message", text})
	return b
}

// refused answers a Prepare refusal.
func refused(err error) *Response {
	var he *core.HandshakeError
	if errors.As(err, &he) {
		return (&problem{status: he.Status, code: refusalCode(he.Status), message: he.Body}).response()
	}
	return (&problem{status: http.StatusServiceUnavailable, code: CodeRefused, message: "Unavailable"}).response()
}

// serve runs pending on pipe and makes the response stream r. The goroutine serving the
// in-memory connection is the hub's, as for an upgraded WebSocket: it ends when the pipe is
// closed and the handler it runs has returned (a reply outlives its request), and
// Hub.Shutdown waits for it. The response closes the pipe when it ends.
func (e *Endpoint) serve(ctx context.Context, pending hubport.Pending, pipe *pipeConn, r *reply) *Response {
	go func() { // owned by the hub (Shutdown waits for its Serve calls)
		_ = pending.Serve(context.WithoutCancel(ctx), pipe)
	}()
	end := func() { _ = pipe.Close() }
	resp := &Response{Status: http.StatusOK, Header: sseHeaders(), close: end}
	resp.stream = func(sctx context.Context, w io.Writer, flush func() error) error {
		defer end()
		r.sse = &sseWriter{w: w, flush: flush}
		return r.run(sctx, pipe.frames, pipe.closed)
	}
	return resp
}

// chat stores and handles the user's message and streams the reply.
func (e *Endpoint) chat(ctx context.Context, info hubport.ConnInfo, turn userTurn) *Response {
	id := turn.messageID
	if id == "" {
		id = core.NewID()
	}
	pipe := newPipe(inboundFrame(id, turn.text))
	// Regenerate: the user message is stored already; the hub answers the stored one again
	// (its id, its text) instead of dropping the request as a retry.
	pipe.regen = turn.trigger == TriggerRegenerate
	pending, err := e.port.Prepare(ctx, info)
	if err != nil {
		return refused(err)
	}
	return e.serve(ctx, pending, pipe, &reply{replyTo: id, handled: pipe.handled})
}

// resume streams the reply running in the session: 204 when none runs.
func (e *Endpoint) resume(ctx context.Context, info hubport.ConnInfo) *Response {
	noContent := &Response{Status: http.StatusNoContent, Header: http.Header{}}
	if !e.hub.HasStore() {
		// Without a store a stream is seen only by the connection that asked for it.
		if info.OnClose != nil {
			info.OnClose()
		}
		return noContent
	}
	pipe := newPipe(nil)
	// Join first, then look: a stream found running is then either in the resume frames
	// the join queued or in the live deltas after it.
	pending, err := e.port.Prepare(ctx, info)
	if err != nil {
		return refused(err)
	}
	running, err := e.hub.RunningStreams(ctx, info.SessionID)
	if err == nil && len(running) > 0 {
		// A reply waiting for a person's approval is not streaming: the client has it up to
		// the request and continues it with its answer (approval.go).
		var waiting map[string]bool
		if waiting, err = e.waitingForApproval(ctx, info.SessionID); err == nil {
			kept := running[:0]
			for _, r := range running {
				if !waiting[r.ID] {
					kept = append(kept, r)
				}
			}
			running = kept
		}
	}
	if err != nil || len(running) == 0 {
		pending.Abort()
		if err != nil {
			e.log.Warn("aisdk: running streams could not be read", "session", info.SessionID, "err", err)
			return (&problem{status: http.StatusServiceUnavailable, code: CodeRefused, message: "Session unavailable"}).response()
		}
		return noContent
	}
	target := running[len(running)-1].ID
	return e.serve(ctx, pending, pipe, &reply{target: target})
}

// stopBody is the optional body of a stop request.
type stopBody struct {
	// MessageID names the reply to stop; "" stops every reply running in the chat.
	MessageID string `json:"messageId"`
}

// stop cancels the session's running replies wherever they run.
func (e *Endpoint) stop(ctx context.Context, info hubport.ConnInfo, only string) *Response {
	if info.OnClose != nil {
		defer info.OnClose()
	}
	running, err := e.hub.RunningStreams(ctx, info.SessionID)
	if err != nil {
		return (&problem{status: http.StatusServiceUnavailable, code: CodeRefused, message: "Session unavailable"}).response()
	}
	stopped := []string{}
	for _, st := range running {
		if only != "" && st.ID != only {
			continue
		}
		if err := e.hub.CancelStream(ctx, info.SessionID, st.ID); err != nil {
			return (&problem{status: http.StatusServiceUnavailable, code: CodeRefused, message: "Stop request could not be delivered"}).response()
		}
		stopped = append(stopped, st.ID)
	}
	return jsonResponse(http.StatusOK, map[string]any{"stopped": stopped})
}
