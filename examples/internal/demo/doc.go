// Package demo holds what the chatwire examples share: the echo bot and the fake model, the
// command-line flags, the routes every example serves (Routes: the WebSocket endpoint at
// /chat, the AI SDK endpoint at /api/chat, the pages and /chatwire.js), the demo login, and
// the run loop with graceful shutdown.
//
// FakeModel is a deterministic stand-in for a thinking model with tools: each reply streams
// reasoning, a roll_die tool call whose input streams in and whose result arrives, a source,
// then text (Reasoning, DieRoll and Text say exactly what), so tests can compare what
// clients assemble with what it wrote.
//
// Everything here is safe for concurrent use; FakeModel and EchoBot are stateless handlers.
package demo
