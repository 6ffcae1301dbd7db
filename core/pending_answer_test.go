package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// TestHubAnswerRefusals checks every refusal of Hub.Answer against a request held by the
// store, and that none of them changes it.
func TestHubAnswerRefusals(t *testing.T) {
	ctx := context.Background()
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	hub := core.NewHub(core.Options{Store: store})
	defer func() { _ = hub.Shutdown(ctx) }()
	const sid = "answers"
	now := time.Now().UnixMilli()
	if err := store.StreamAppend(ctx, sid, "running", 1, "", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	question := &core.Question{Message: "Size?", Schema: json.RawMessage(`{"type":"object","properties":{"size":{"type":"string","maxLength":2}},"required":["size"]}`)}
	for _, r := range []core.PendingRequest{
		{ID: "open", Kind: storage.PendingApproval, StreamID: "running", ToolCallID: "c1", Created: now},
		{ID: "late", Kind: storage.PendingApproval, StreamID: "running", ToolCallID: "c2", Created: now - 2000, Expires: now - 1000},
		{ID: "orphan", Kind: storage.PendingApproval, StreamID: "gone", ToolCallID: "c3", Created: now},
		{ID: "q", Kind: storage.PendingQuestion, StreamID: "running", Question: question, Created: now},
	} {
		if err := store.PendingAdd(ctx, sid, r); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	tests := []struct {
		name string
		sid  string
		a    core.Answer
		want core.ErrorCode
	}{
		{"unknown id", sid, core.Answer{ID: "nope", Approved: &yes}, core.CodeRequestNotFound},
		{"other session", "elsewhere", core.Answer{ID: "open", Approved: &yes}, core.CodeRequestNotFound},
		{"expired", sid, core.Answer{ID: "late", Approved: &yes}, core.CodeRequestExpired},
		{"its reply ended", sid, core.Answer{ID: "orphan", Approved: &yes}, core.CodeRequestNotFound},
		{"no id", sid, core.Answer{Approved: &yes}, core.CodeInvalidAnswer},
		{"approval without approved", sid, core.Answer{ID: "open", Reason: "hm"}, core.CodeInvalidAnswer},
		{"approval with an action", sid, core.Answer{ID: "open", Approved: &yes, Action: core.AnswerAccept}, core.CodeInvalidAnswer},
		{"question with approved", sid, core.Answer{ID: "q", Approved: &yes}, core.CodeInvalidAnswer},
		{"question: field too long", sid, core.Answer{ID: "q", Action: core.AnswerAccept, Content: json.RawMessage(`{"size":"XXL"}`)}, core.CodeInvalidAnswer},
		{"question: decline with content", sid, core.Answer{ID: "q", Action: core.AnswerDecline, Content: json.RawMessage(`{}`)}, core.CodeInvalidAnswer},
		{"question: accept without content", sid, core.Answer{ID: "q", Action: core.AnswerAccept}, core.CodeInvalidAnswer},
	}
	for _, tt := range tests {
		_, err := hub.Answer(ctx, tt.sid, "mallory", tt.a)
		var e *core.Error
		if !errors.As(err, &e) || e.Code != tt.want {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
		}
	}
	list, err := store.PendingList(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		if r.Answer != nil {
			t.Fatalf("a refused answer changed request %s: %+v", r.ID, r.Answer)
		}
	}
	// The good answers still go through, once.
	got, err := hub.Answer(ctx, sid, "alice", core.Answer{ID: "q", Action: core.AnswerAccept, Content: json.RawMessage(`{"size":"M"}`)})
	if err != nil || got.Answer.By != "alice" || string(got.Answer.Content) != `{"size":"M"}` {
		t.Fatalf("good answer: %+v, %v", got.Answer, err)
	}
	if _, err := hub.Answer(ctx, sid, "bob", core.Answer{ID: "q", Action: core.AnswerDecline}); err == nil || !errors.Is(err, core.ErrPendingAnswered) {
		t.Fatalf("second answer: %v, want ALREADY_ANSWERED", err)
	}
	waiting, err := hub.PendingRequests(ctx, sid)
	if err != nil || len(waiting) != 1 || waiting[0].ID != "open" {
		t.Fatalf("PendingRequests = %+v, %v; want only open", waiting, err)
	}
}
