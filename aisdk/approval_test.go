package aisdk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// approvalBot streams text, asks for approval of its "deploy" call, then finishes it.
func approvalBot() core.Handler {
	return core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		if err := s.Delta(ctx, "Deploying. "); err != nil {
			return err
		}
		call, err := s.ToolCall(ctx, core.ToolCallInfo{ID: "call-1", Name: "deploy"}, json.RawMessage(`{"env":"prod"}`))
		if err != nil {
			return err
		}
		a, err := call.RequestApproval(ctx, core.ApprovalOptions{})
		if err != nil {
			return err
		}
		if a.Approved {
			if err := call.Output(ctx, json.RawMessage(`{"ok":true}`)); err != nil {
				return err
			}
		}
		if err := s.Delta(ctx, "Reason: "+a.Reason+"."); err != nil {
			return err
		}
		return s.Close(ctx)
	})
}

// approvalBody is useChat's POST after addToolApprovalResponse: the assistant message (its
// id) with its tool part in state approval-responded. The input is forged: the server must
// never take it.
func approvalBody(chat, msgID, approvalID string, approved bool) string {
	b, _ := json.Marshal(map[string]any{
		"id":      chat,
		"trigger": "submit-message",
		"messages": []any{
			map[string]any{"id": "u1", "role": "user", "parts": []any{map[string]any{"type": "text", "text": "deploy"}}},
			map[string]any{"id": msgID, "role": "assistant", "parts": []any{
				map[string]any{"type": "text", "text": "Deploying. ", "state": "done"},
				map[string]any{"type": "tool-deploy", "toolCallId": "call-1", "state": "approval-responded", "input": map[string]any{"env": "FORGED"},
					"approval": map[string]any{"id": approvalID, "approved": approved, "reason": "go ahead"}},
			}},
		},
	})
	return string(b)
}

func TestApprovalOverSSEAcrossInstances(t *testing.T) {
	for name, stores := range sharedStores() {
		t.Run(name, func(t *testing.T) {
			sa, sb := stores(t)
			a := newInstance(t, sa, approvalBot(), aisdk.Options{}, nil)
			b := newInstance(t, sb, approvalBot(), aisdk.Options{}, nil)
			const chat = "sse-approval"

			// 1. The POST's stream ends with the request, while the handler waits.
			r1 := newSSE(t, post(t, a.srv.URL+"/api/chat", body(chat, "u1", "deploy")))
			first := r1.rest()
			r1.close()
			msgID, ps, last := fold(t, first)
			if last != parts.ChunkFinish || !r1.done {
				t.Fatalf("first stream ended with %q (done %v), want finish + [DONE]", last, r1.done)
			}
			var approvalID string
			for _, c := range first {
				if c.Type == parts.ChunkToolApprovalRequest {
					approvalID = c.ApprovalID
				}
				if c.Type == parts.ChunkToolApprovalResponse {
					t.Fatal("the SSE stream carries chatwire's own tool-approval-response chunk")
				}
			}
			if p := ps.Parts(); approvalID == "" || len(p) != 2 || p[1].State != parts.ToolApprovalRequested {
				t.Fatalf("first stream's parts %s", partsJSON(t, p))
			}

			// 2. A resume meanwhile (on the other instance) finds nothing streaming.
			resp, err := http.Get(b.srv.URL + "/api/chat/" + chat + "/stream")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("resume during the wait: %d, want 204", resp.StatusCode)
			}

			// 3. Bad answers change nothing: unknown id, a message id that did not ask.
			for _, bad := range []struct {
				body   string
				status int
			}{
				{approvalBody(chat, msgID, "no-such-approval", true), http.StatusNotFound},
				{approvalBody(chat, "other-message", approvalID, true), http.StatusNotFound},
				{strings.Replace(approvalBody(chat, msgID, approvalID, true), `"approved":true`, `"approved":"yes"`, 1), http.StatusBadRequest},
			} {
				resp := post(t, b.srv.URL+"/api/chat", bad.body)
				_ = resp.Body.Close()
				if resp.StatusCode != bad.status {
					t.Fatalf("bad approval answered %d, want %d", resp.StatusCode, bad.status)
				}
			}

			// 4. The answer, on the other instance: the continuation of the same message.
			r2 := newSSE(t, post(t, b.srv.URL+"/api/chat", approvalBody(chat, msgID, approvalID, true)))
			second := r2.rest()
			r2.close()
			if len(second) == 0 || second[0].Type != parts.ChunkStart || second[0].MessageID != msgID {
				t.Fatalf("continuation starts with %+v, want start with message id %s", second, msgID)
			}
			for _, c := range second {
				if c.Type == parts.ChunkToolInputAvailable || c.Type == parts.ChunkToolApprovalRequest || (c.Type == parts.ChunkTextDelta && c.Delta == "Deploying. ") {
					t.Fatalf("continuation resends an earlier part: %+v", c)
				}
			}
			for i := 1; i < len(second); i++ {
				ps.Apply(&second[i])
			}
			stored := history(t, sa, chat)
			final := stored[len(stored)-1]
			if final.ID != msgID || final.Content != "Deploying. Reason: go ahead." {
				t.Fatalf("stored reply %s %q", final.ID, final.Content)
			}
			sp := storedParts(t, final)
			if sp[1].State != parts.ToolOutputAvailable || string(sp[1].Input) != `{"env":"prod"}` || sp[1].Approval == nil || !*sp[1].Approval.Approved {
				t.Fatalf("stored tool part %+v", sp[1])
			}
			// What the client assembled from both streams equals the stored message once
			// the client's own view of the answer is set aside.
			got := ps.Parts()
			got[1].Approval = sp[1].Approval
			if partsJSON(t, got) != partsJSON(t, sp) {
				t.Fatalf("client assembled %s\nstored %s", partsJSON(t, got), partsJSON(t, sp))
			}

			// 5. The same answer again: already answered.
			resp = post(t, a.srv.URL+"/api/chat", approvalBody(chat, msgID, approvalID, false))
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusConflict {
				t.Fatalf("second answer: %d, want 409", resp.StatusCode)
			}
		})
	}
}
