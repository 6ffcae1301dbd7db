package core

import "testing"

func TestHeldStreamPartsMerge(t *testing.T) {
	tests := []struct {
		name     string
		parts    []deltaPart
		wantText string
		wantSeq  uint64
		resume   bool
		held     int
	}{
		{"deltas append", []deltaPart{{seq: 1, text: []byte("a")}, {seq: 2, text: []byte("b")}}, "ab", 2, false, 1},
		{"resume replaces resume", []deltaPart{{seq: 2, text: []byte("ab"), resume: true}, {seq: 3, text: []byte("abc"), resume: true}}, "abc", 3, true, 1},
		{"resume replaces delta", []deltaPart{{seq: 4, text: []byte("d")}, {seq: 5, text: []byte("abcde"), resume: true}}, "abcde", 5, true, 1},
		{"delta after resume appends", []deltaPart{{seq: 3, text: []byte("abc"), resume: true}, {seq: 4, text: []byte("d")}}, "abcd", 4, true, 1},
		{"gap is kept apart", []deltaPart{{seq: 1, text: []byte("a")}, {seq: 3, text: []byte("c")}}, "a", 1, false, 2},
	}
	for _, tt := range tests {
		c := &connection{replaying: true}
		for i := range tt.parts {
			p := tt.parts[i]
			p.stream = "s"
			c.holdDeltaLocked(p.value())
		}
		first := c.pending[0].delta
		if len(c.pending) != tt.held || string(first.text) != tt.wantText || first.seq != tt.wantSeq || first.resume != tt.resume {
			t.Errorf("%s: held %d parts, first %q seq %d resume %v", tt.name, len(c.pending), first.text, first.seq, first.resume)
		}
	}
}
