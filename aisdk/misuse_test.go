package aisdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/chatwire/chatwire/core"
)

// TestPartMisuse: calls the wire cannot carry fail with ErrInvalidPart and write nothing;
// writes after Close fail with ErrStreamEnded.
func TestPartMisuse(t *testing.T) {
	var failures []string
	h := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		expect := func(what string, err error, target error) {
			if !errors.Is(err, target) {
				failures = append(failures, fmt.Sprintf("%s: %v, want %v", what, err, target))
			}
		}
		_, err = s.StartToolCall(ctx, core.ToolCallInfo{})
		expect("tool without a name", err, core.ErrInvalidPart)
		_, err = s.ToolCall(ctx, core.ToolCallInfo{Name: "x"}, json.RawMessage(`{bad`))
		expect("tool input not JSON", err, core.ErrInvalidPart)
		tc, err := s.StartToolCall(ctx, core.ToolCallInfo{Name: "x"})
		expect("tool start", err, nil)
		expect("output before input", tc.Output(ctx, json.RawMessage(`1`)), core.ErrInvalidPart)
		expect("deny before input", tc.Deny(ctx), core.ErrInvalidPart)
		expect("input not JSON", tc.Input(ctx, json.RawMessage(`nope`)), core.ErrInvalidPart)
		expect("input", tc.Input(ctx, json.RawMessage(`{}`)), nil)
		expect("input twice", tc.Input(ctx, json.RawMessage(`{}`)), core.ErrInvalidPart)
		expect("input delta after input", tc.InputDelta(ctx, "x"), core.ErrInvalidPart)
		expect("output not JSON", tc.Output(ctx, json.RawMessage(``)), core.ErrInvalidPart)
		expect("output", tc.Output(ctx, json.RawMessage(`1`)), nil)
		expect("fail after output", tc.Fail(ctx, "x"), core.ErrInvalidPart)
		expect("data without name", s.Data(ctx, core.Data{Value: json.RawMessage(`1`)}), core.ErrInvalidPart)
		expect("data not JSON", s.Data(ctx, core.Data{Name: "n", Value: json.RawMessage(`{`)}), core.ErrInvalidPart)
		expect("metadata not an object", s.MessageMetadata(ctx, json.RawMessage(`[1]`)), core.ErrInvalidPart)
		expect("source without URL", s.SourceURL(ctx, core.SourceURL{}), core.ErrInvalidPart)
		expect("document without title", s.SourceDocument(ctx, core.SourceDocument{MediaType: "text/plain"}), core.ErrInvalidPart)
		expect("file without URL", s.File(ctx, core.File{MediaType: "image/png"}), core.ErrInvalidPart)
		p, err := s.StartText(ctx)
		expect("text start", err, nil)
		expect("text", p.Delta(ctx, "ok"), nil)
		expect("finish step", s.FinishStep(ctx), nil)
		expect("delta after the step ended the part", p.Delta(ctx, "late"), core.ErrInvalidPart)
		expect("end after the step ended the part", p.End(ctx), nil)
		expect("close", s.Close(ctx), nil)
		expect("delta after close", s.Delta(ctx, "x"), core.ErrStreamEnded)
		expect("data after close", s.Data(ctx, core.Data{Name: "n", Value: json.RawMessage(`1`)}), core.ErrStreamEnded)
		expect("close twice", s.Close(ctx), core.ErrStreamEnded)
		return nil
	})
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	in := newInstance(t, store, h, aisdk.Options{}, nil)
	resp := post(t, in.srv.URL+"/api/chat", body("misuse", "u1", "x"))
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := newSSE(t, resp)
	_, b, _ := fold(t, r.rest())
	for _, f := range failures {
		t.Error(f)
	}
	hist := history(t, store, "misuse")
	final := hist[len(hist)-1]
	if final.Content != "ok" {
		t.Fatalf("stored content %q", final.Content)
	}
	if got, want := partsJSON(t, b.Parts()), partsJSON(t, storedParts(t, final)); got != want {
		t.Fatalf("streamed %s, stored %s", got, want)
	}
}
