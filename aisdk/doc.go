// Package aisdk serves the Vercel AI SDK's UI message stream over SSE from a chatwire Hub, so
// a front end using `useChat` (npm package `ai`, 5.0 and later) with its default
// DefaultChatTransport talks to the same hub, handler and sessions as chatwire's WebSocket
// clients.
//
// An Endpoint answers three requests under the path it is mounted at (say /api/chat):
//
//   - POST /api/chat with useChat's JSON body ({id, messages, trigger, messageId}): the chat
//     id is the chatwire session; the newest message, which must be the user's, is stored and
//     handled like a message arriving on a WebSocket, and the reply streams back as UI
//     message chunks, ending with "data: [DONE]".
//   - GET /api/chat/{id}/stream resumes the reply running in the session, on any instance
//     sharing the hub's Store: 204 when none runs, else a start chunk with the same message id,
//     the parts so far compacted into as few chunks as the protocol allows, then the live
//     chunks.
//   - POST /api/chat/{id}/stop cancels the running reply wherever it runs. A client that
//     disconnects (useChat's stop() only aborts its fetch) does not cancel the reply.
//
// Endpoint is an http.Handler for net/http and Echo (echo.WrapHandler); Handle is the
// framework-neutral form package aisdkfiber serves natively on Fiber.
//
// # Security
//
// The POST runs a model, so it must not be triggerable cross-site: requests need
// Content-Type application/json, pass the same host and origin policy as the WebSocket
// upgrade (adapterkit.HostAllowed and adapterkit.OriginAllowed with Options.AllowedHosts
// and Options.AllowedOrigins) and the hub's own core.Options.Admit (auth, caps, rate
// limits, session authorization: a refusal with 404 hides a chat the caller may not read).
// Bodies are bounded (413). Only the newest user message's text is taken from the body:
// earlier history and tool inputs stay in the store.
//
// The SSE body must reach the client unbuffered: do not wrap the endpoint in middleware
// that compresses or buffers responses (it needs http.Flusher / http.ResponseController).
//
// # Concurrency
//
// An Endpoint is safe for concurrent use. Each request runs on its caller's goroutine plus
// the hub connection it creates, which ends before the request returns.
package aisdk
