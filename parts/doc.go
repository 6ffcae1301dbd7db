// Package parts is the shape of a streamed AI reply on chatwire's wire and in its store:
// the chunks a reply is made of (Chunk, the AI SDK's UI message chunk) and the parts they
// fold into (Part, the AI SDK's UIMessage part: text, reasoning, tool calls, sources,
// files, data).
//
// Its readers are clients, transports and tests that read streamed replies: a typing
// frame's metadata.stream.chunks decode into Chunks, a Builder folds them into Parts (as
// the AI SDK's client does) and compacts them back into the fewest chunks that rebuild
// them, which is what a resume frame carries; a final message's metadata.parts decode into
// Parts. Handlers do not build chunks: they call core.Stream, core.TextPart and
// core.ToolCall, which write them. PROTOCOL.md, "Parts of a streamed reply", describes the
// frames.
//
// JSON: a Chunk marshals to exactly the AI SDK chunk of its type with only the fields every
// supported `ai` version accepts (AppendChunk appends it without reflection); a Part to the
// UIMessage part, so stored parts can be handed to useChat as they are. Questions asked by a
// handler travel as the data part "data-"+QuestionPart whose value is a QuestionState.
//
// The package imports only the standard library and package envelope. Chunk and Part are
// plain values; a Builder is not safe for concurrent use.
package parts
