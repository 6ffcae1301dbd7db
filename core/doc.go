// Package core is chatwire's transport: the chat envelope and its codec, the Hub that runs
// WebSocket connections, the Store interface that makes sessions persistent and shared
// between instances, and the in-memory Store. It imports only the standard library;
// adapters (wshttp, wsecho, wsfiber) connect it to HTTP frameworks.
//
// # Envelope
//
// Every frame is one JSON Message (id, type, role, content, metadata, timestamp), the wire
// format of the TypeScript package @workkit/chat; PROTOCOL.md in the repository root is the
// exact specification. AppendMessage and Decode are the codec, shared by servers, clients
// and tests.
//
// # Hub
//
// A Hub is configured by Options (every zero field has a documented default). Adapters
// check the upgrade request with CheckHandshake, upgrade it, and call Hub.Serve, which
// runs the connection:
//
//   - The calling goroutine reads. A frame above Options.MaxMessageSize is discarded while
//     it is read and answered with an error envelope; undecodable frames get the seed's
//     exact error texts; heartbeats ({"type":"ping"}/{"type":"pong"}) are accepted.
//   - One writer goroutine per connection, started on demand, performs every write,
//     heartbeats included. Its queue is bounded (Options.SendQueueSize); a client that does
//     not keep up is closed with 1008.
//   - The Handler runs on a per-connection goroutine, one message at a time, with a context
//     that ends with the connection. Replies go through a ReplyWriter.
//   - With a Store, inbound messages and replies are appended to the session's history and
//     delivered to every connection of the session on every hub sharing the store; a client
//     that reconnects with lastMessageId first receives what it missed, without gap or
//     duplicate, then live messages.
//
// An idle connection costs one goroutine (the reader) and no buffers: the writer and
// handler goroutines exist only while they have work.
//
// # Concurrency
//
// Hub, MemoryStore and the package functions are safe for concurrent use. A ReplyWriter is
// valid only during the ServeChat call it was passed to. Message values may be shared for
// reading. Hub.Shutdown closes every connection with 1001 and waits for every goroutine.
package core
