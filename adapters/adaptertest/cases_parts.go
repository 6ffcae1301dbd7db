package adaptertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

// partsBot streams a reply with every kind of part: message metadata, a step, reasoning, a
// tool call whose input streams in and whose output arrives, a dynamic tool that fails,
// sources, a file, data parts (one replaced in place, one transient), then text. When gate
// is not nil it pauses after the first text delta until gate is closed. With deltas > 0 it
// writes that many small deltas spread over reasoning, tool input and text.
type partsBot struct {
	gate   chan struct{}
	deltas int
}

// Words that may only appear in reasoning and tool input, never in a frame's content.
const (
	secretReasoning = "REASONING-ONLY"
	secretInput     = "INPUT-ONLY"
)

func (b *partsBot) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	step := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	step(s.MessageMetadata(ctx, json.RawMessage(`{"model":"fake","usage":{"in":3}}`)))
	step(s.StartStep(ctx))
	r, err := s.StartReasoning(ctx)
	step(err)
	step(r.Delta(ctx, "The user greets me. "+secretReasoning))
	tc, err := s.StartToolCall(ctx, core.ToolCallInfo{ID: "call-1", Name: "weather"})
	step(err)
	step(tc.InputDelta(ctx, `{"city":"`+secretInput+`",`))
	t, err := s.StartText(ctx)
	step(err)
	for i := 0; i < b.deltas; i++ { // interleaved deltas of three parts
		step(r.Delta(ctx, fmt.Sprintf(" r%d", i)))
		step(tc.InputDelta(ctx, " "))
		step(t.Delta(ctx, fmt.Sprintf("w%d ", i)))
	}
	step(r.End(ctx))
	step(tc.InputDelta(ctx, `"n":1}`))
	step(tc.Input(ctx, json.RawMessage(`{"city":"`+secretInput+`","n":1}`)))
	step(tc.Output(ctx, json.RawMessage(`{"sky":"sunny"}`)))
	bad, err := s.ToolCall(ctx, core.ToolCallInfo{ID: "call-2", Name: "search", Dynamic: true, ProviderExecuted: true}, json.RawMessage(`{"q":"x"}`))
	step(err)
	step(bad.Fail(ctx, "search is down"))
	step(s.SourceURL(ctx, core.SourceURL{ID: "s1", URL: "https://example.com/paris", Title: "Paris"}))
	step(s.SourceDocument(ctx, core.SourceDocument{ID: "s2", MediaType: "application/pdf", Title: "Report", Filename: "r.pdf"}))
	step(s.File(ctx, core.File{MediaType: "image/png", URL: "data:image/png;base64,iVBORw0KGgo="}))
	step(s.Data(ctx, core.Data{Name: "progress", ID: "p", Value: json.RawMessage(`{"pct":10}`)}))
	step(s.Data(ctx, core.Data{Name: "notice", Value: json.RawMessage(`"TRANSIENT-ONLY"`), Transient: true}))
	step(t.Delta(ctx, "Hello"))
	if b.gate != nil {
		select {
		case <-b.gate:
		case <-s.Context().Done():
			return nil
		}
	}
	step(t.Delta(ctx, ", "+req.Message.Content))
	step(s.Data(ctx, core.Data{Name: "progress", ID: "p", Value: json.RawMessage(`{"pct":100}`)}))
	step(s.FinishStep(ctx))
	s.SetFinishReason(core.FinishStop)
	return s.Close(ctx)
}

// partsFrame is metadata.stream of a frame, with its chunks.
type partsFrame struct {
	ID           string        `json:"id"`
	Seq          uint64        `json:"seq"`
	State        string        `json:"state"`
	Resume       bool          `json:"resume"`
	ReplyTo      string        `json:"replyTo"`
	FinishReason string        `json:"finishReason"`
	Chunks       []parts.Chunk `json:"chunks"`
}

// partsView assembles one stream's parts from frames, as PROTOCOL.md tells clients to.
type partsView struct {
	t        *testing.T
	id       string
	seq      uint64
	parts    *parts.Builder
	frames   int
	resumes  int
	final    core.Message
	meta     partsFrame
	stored   []parts.Part
	storedMD json.RawMessage
}

// apply feeds one envelope; it reports whether the stream ended.
func (v *partsView) apply(m core.Message) bool {
	v.t.Helper()
	var md struct {
		Stream          *partsFrame     `json:"stream"`
		Parts           []parts.Part    `json:"parts"`
		MessageMetadata json.RawMessage `json:"messageMetadata"`
	}
	if len(m.Metadata) == 0 || json.Unmarshal(m.Metadata, &md) != nil || md.Stream == nil {
		return false
	}
	sm := md.Stream
	if v.id == "" {
		v.id = sm.ID
	}
	if sm.ID != v.id {
		return false
	}
	for _, secret := range []string{secretReasoning, secretInput, "TRANSIENT-ONLY"} {
		if strings.Contains(m.Content, secret) {
			v.t.Fatalf("frame content shows what only parts may carry (%s): %q", secret, m.Content)
		}
	}
	switch {
	case m.Type == core.TypeTyping && sm.Resume:
		v.parts = &parts.Builder{}
		v.resumes++
		fallthrough
	case m.Type == core.TypeTyping:
		if sm.Seq <= v.seq && !sm.Resume {
			v.t.Fatalf("delta seq %d after %d", sm.Seq, v.seq)
		}
		if v.parts == nil {
			v.parts = &parts.Builder{}
		}
		v.seq = sm.Seq
		v.frames++
		for i := range sm.Chunks {
			v.parts.Apply(&sm.Chunks[i])
		}
		if v.parts.Text() != "" && !strings.HasPrefix(v.parts.Text(), strings.TrimSpace(v.parts.Text())) {
			v.t.Fatalf("text %q", v.parts.Text())
		}
		return false
	case m.Type == core.TypeMessage && sm.State != "":
		v.final, v.meta, v.stored, v.storedMD = m, *sm, md.Parts, md.MessageMetadata
		return true
	}
	return false
}

// read reads frames from c until the stream's final message.
func (v *partsView) read(c *Client) {
	v.t.Helper()
	for !v.apply(c.Read()) {
	}
}

// partsJSON renders parts as stored (text and reasoning done), for comparisons.
func partsJSON(t *testing.T, ps []parts.Part) string {
	t.Helper()
	for i := range ps {
		if ps[i].State == parts.PartStreaming {
			ps[i].State = parts.PartDone
		}
	}
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkAssembled compares the parts assembled from the frames with the stored message.
func (v *partsView) checkAssembled(wantText string) {
	v.t.Helper()
	if v.final.Content != wantText {
		v.t.Fatalf("final content %q, want %q (the text ps joined)", v.final.Content, wantText)
	}
	if got, want := partsJSON(v.t, v.parts.Parts()), partsJSON(v.t, v.stored); got != want {
		v.t.Fatalf("assembled parts\n%s\nstored ps\n%s", got, want)
	}
	if v.parts.Text() != wantText {
		v.t.Fatalf("assembled text %q, want %q", v.parts.Text(), wantText)
	}
	if string(v.storedMD) != `{"model":"fake","usage":{"in":3}}` || string(v.parts.MessageMetadata()) != string(v.storedMD) {
		v.t.Fatalf("message metadata %s, assembled %s", v.storedMD, v.parts.MessageMetadata())
	}
	if v.meta.FinishReason != string(core.FinishStop) {
		v.t.Fatalf("finish reason %q", v.meta.FinishReason)
	}
	types := map[string]bool{}
	for _, p := range v.stored {
		types[p.Type] = true
		if strings.Contains(p.Type, "notice") {
			v.t.Fatalf("a transient data part was stored: %+v", p)
		}
	}
	for _, want := range []string{parts.PartStepStart, parts.PartReasoning, "tool-weather", parts.PartDynamicTool, parts.PartSourceURL, parts.PartSourceDocument, parts.PartFile, "data-progress", parts.PartText} {
		if !types[want] {
			v.t.Fatalf("stored ps lack %s: %+v", want, v.stored)
		}
	}
}

func partsCases() []testCase {
	return []testCase{
		{"PartsEveryTypeThroughTheWire", func(t *testing.T, mount Mount) {
			for _, store := range []core.Store{nil, core.NewMemoryStore(core.MemoryStoreOptions{})} {
				_, ep := serve(t, mount, core.Options{Handler: &partsBot{}, Store: store})
				c := Dial(t, ep, url.Values{"sessionId": {"parts"}}, nil)
				c.Send(core.Message{ID: "ask", Type: core.TypeMessage, Content: "world"})
				v := &partsView{t: t}
				v.read(c)
				v.checkAssembled("Hello, world")
				if v.meta.ReplyTo != "ask" {
					t.Fatalf("final replyTo %q, want the user message's id", v.meta.ReplyTo)
				}
			}
		}},
		{"PartsCoalescedPerPartForSlowReader", func(t *testing.T, mount Mount) {
			const n = 3000
			_, ep := serve(t, mount, core.Options{Handler: &partsBot{deltas: n}, SendQueueSize: 8})
			c := Dial(t, ep, nil, nil)
			c.Send(msg("world"))
			time.Sleep(200 * time.Millisecond) // the client reads nothing while the deltas pile up
			v := &partsView{t: t}
			merged := false
			for {
				m := c.Read()
				var md struct{ Stream *partsFrame }
				if json.Unmarshal(m.Metadata, &md) == nil && md.Stream != nil && m.Type == core.TypeTyping {
					deltasOf := map[string]int{}
					for _, ch := range md.Stream.Chunks {
						switch ch.Type {
						case parts.ChunkTextDelta, parts.ChunkReasoningDelta:
							deltasOf[ch.Type+ch.ID]++
						case parts.ChunkToolInputDelta:
							deltasOf[ch.Type+ch.ToolCallID]++
						}
					}
					for k, cnt := range deltasOf {
						if cnt > 1 {
							t.Fatalf("frame has %d deltas of part %s: deltas of one part must merge", cnt, k)
						}
						if len(deltasOf) >= 2 {
							merged = true
						}
					}
				}
				if v.apply(m) {
					break
				}
			}
			var words strings.Builder
			for i := 0; i < n; i++ {
				fmt.Fprintf(&words, "w%d ", i)
			}
			v.checkAssembled(words.String() + "Hello, world")
			if !merged || v.frames >= 3*n {
				t.Fatalf("%d frames for %d deltas (merged frames seen: %v): nothing was coalesced", v.frames, 3*n, merged)
			}
		}},
		{"PartsResumeCompactsEveryPart", func(t *testing.T, mount Mount) {
			bot := &partsBot{gate: make(chan struct{}), deltas: 200}
			_, ep := serve(t, mount, core.Options{Handler: bot, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"resume-parts"}}
			a := Dial(t, ep, q, nil)
			a.Send(core.Message{ID: "ask", Type: core.TypeMessage, Content: "world"})
			first := &partsView{t: t}
			for first.parts == nil || !strings.HasSuffix(first.parts.Text(), "Hello") {
				first.apply(a.Read())
			}
			_ = a.Conn.Close()
			b := Dial(t, ep, q, nil)
			v := &partsView{t: t}
			for v.frames == 0 {
				v.apply(b.Read())
			}
			if v.resumes != 1 {
				t.Fatalf("the first stream frame after reconnecting is not a resume frame")
			}
			counts := map[string]int{}
			for _, p := range v.parts.Parts() {
				counts[p.Type]++
			}
			if got, want := partsJSON(t, v.parts.Parts()), partsJSON(t, first.parts.Parts()); got != want {
				t.Fatalf("resumed parts\n%s\nwant what the first client had\n%s", got, want)
			}
			close(bot.gate)
			v.read(b)
			v.checkAssembled(first.parts.Text() + ", world")
		}},
	}
}
