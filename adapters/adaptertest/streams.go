package adaptertest

import (
	"encoding/json"
	"testing"

	"github.com/chatwire/chatwire/core"
)

// streamMeta is metadata.stream of stream frames.
type streamMeta struct {
	ID     string            `json:"id"`
	Seq    uint64            `json:"seq"`
	State  core.StreamStatus `json:"state"`
	Resume bool              `json:"resume"`
}

func streamOf(m core.Message) (streamMeta, bool) {
	if len(m.Metadata) == 0 {
		return streamMeta{}, false
	}
	var v struct {
		Stream *streamMeta `json:"stream"`
	}
	if json.Unmarshal(m.Metadata, &v) != nil || v.Stream == nil {
		return streamMeta{}, false
	}
	return *v.Stream, true
}

// assembly is a client-side view of one stream, built the way PROTOCOL.md tells clients to.
type assembly struct {
	text   string
	seq    uint64
	frames int               // delta and resume frames applied
	final  core.StreamStatus // the state of the final message, "" while running
	stored core.Message
}

// assembler assembles streams from envelopes.
type assembler struct {
	t       *testing.T
	streams map[string]*assembly
	order   []string
}

func newAssembler(t *testing.T) *assembler {
	return &assembler{t: t, streams: map[string]*assembly{}}
}

// apply feeds one envelope; it returns the stream it belonged to ("" for others).
func (a *assembler) apply(m core.Message) string {
	a.t.Helper()
	sm, ok := streamOf(m)
	if !ok || sm.ID == "" {
		return ""
	}
	s := a.streams[sm.ID]
	if s == nil {
		s = &assembly{}
		a.streams[sm.ID] = s
		a.order = append(a.order, sm.ID)
	}
	switch {
	case m.Type == core.TypeTyping && sm.Resume:
		if sm.Seq < s.seq {
			a.t.Fatalf("resume frame at seq %d after seq %d", sm.Seq, s.seq)
		}
		s.text, s.seq = m.Content, sm.Seq
		s.frames++
	case m.Type == core.TypeTyping && sm.State == core.StreamStateDelta:
		if sm.Seq <= s.seq {
			a.t.Fatalf("stream %s: delta seq %d after %d (duplicate)", sm.ID, sm.Seq, s.seq)
		}
		s.text += m.Content
		s.seq = sm.Seq
		s.frames++
	case m.Type == core.TypeMessage && sm.State != "":
		if m.ID != sm.ID {
			a.t.Fatalf("final message id %q differs from its stream id %q", m.ID, sm.ID)
		}
		if s.final == "" && s.frames > 0 && m.Content != s.text {
			a.t.Fatalf("final content (%d bytes) differs from the assembled deltas (%d bytes)", len(m.Content), len(s.text))
		}
		s.final, s.stored, s.text = sm.State, m, m.Content
	}
	return sm.ID
}

// readStream reads envelopes from c until one stream has its final message, and returns it.
// Envelopes that are not part of a stream are returned in others.
func (a *assembler) readStream(c *Client) (s *assembly, others []core.Message) {
	a.t.Helper()
	for {
		m := c.Read()
		id := a.apply(m)
		if id == "" || m.Type == core.TypeToolCall || m.Type == core.TypeToolResult {
			others = append(others, m)
			continue
		}
		if st := a.streams[id]; st.final != "" {
			return st, others
		}
	}
}
