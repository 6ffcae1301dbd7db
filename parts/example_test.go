package parts_test

import (
	"fmt"

	"github.com/chatwire/chatwire/parts"
)

// A Builder folds chunks into parts, the way a client assembles a reply, and Compact
// turns the parts back into the fewest chunks, as a resume frame carries them.
func ExampleBuilder() {
	var b parts.Builder
	for _, c := range []parts.Chunk{
		{Type: parts.ChunkReasoningStart, ID: "r1"},
		{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "Think"},
		{Type: parts.ChunkReasoningDelta, ID: "r1", Delta: "ing."},
		{Type: parts.ChunkTextStart, ID: "t1"},
		{Type: parts.ChunkTextDelta, ID: "t1", Delta: "Hello"},
		{Type: parts.ChunkTextDelta, ID: "t1", Delta: ", world"},
	} {
		b.Apply(&c)
	}
	fmt.Println(b.Text())
	for _, c := range b.Compact(nil) {
		fmt.Println(string(parts.AppendChunk(nil, &c)))
	}
	// Output:
	// Hello, world
	// {"type":"reasoning-start","id":"r1"}
	// {"type":"reasoning-delta","id":"r1","delta":"Thinking."}
	// {"type":"text-start","id":"t1"}
	// {"type":"text-delta","id":"t1","delta":"Hello, world"}
}
