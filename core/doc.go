// Package core is chatwire's application API: the Hub that runs chat connections, the
// Handler that answers messages (HandlerFunc, ReplyFunc, ReplyWriter, Stream), the Store
// that makes sessions persistent and shared between instances, and the in-memory
// MemoryStore. It imports only the standard library and the module's own envelope, parts
// and storage packages, which do the same.
//
// # Names by task
//
// The package's names, grouped by what an application does with them; the rest of this
// overview explains each group.
//
//   - Run a hub: NewHub, Options (and the Default* constants), Hub, Store, NewMemoryStore
//     with MemoryStoreOptions and MemoryStoreStats, CloseCode; Hub.Shutdown and Hub.Drain;
//     ValidSessionID and MaxSessionIDLen for session ids an application makes itself.
//   - Answer messages: Handler, HandlerFunc, ReplyFunc, Request, ReplyWriter, Message, Type,
//     Role, NewID; Error, NewError, WrapError and ErrorCode for what a client may see.
//   - Stream a reply as parts: Stream, TextPart, ToolCall, ToolCallInfo, SourceURL,
//     SourceDocument, File, Data, FinishReason, StreamStatus, RunningStream.
//   - Wait for a person: Approval, ApprovalOptions, Question, AskOptions, QuestionAnswer,
//     Answer (AnswerAccept, AnswerDecline, AnswerCancel; TimeoutAnswerer), PendingRequest,
//     Hub.Answer, ReplyPolicy (Options.WhileReplying).
//   - Conversations: ConversationOptions, Conversation, DefaultOwner, PrincipalName.
//   - Admission, guards and hooks (what package middleware builds on): AdmitFunc,
//     AdmitRequest, Admission, HandshakeError, Guard, ConnEvent, DisconnectEvent, FrameIn,
//     FrameOut, FramePhase.
//   - Errors to test with errors.Is: the Err* variables. Typed constants (Code*, Close*,
//     Finish*, Frame*, Reply*, StreamState*, Type*, Role*) are listed under their types.
//
// Start with NewHub and Options, then mount the hub with an adapter (adapters/wshttp,
// adapters/wsecho, adapters/wsfiber). Middleware (package middleware) installs itself on
// Options with one call. The wire format (Message, Type, Role and the codec) is package
// envelope; core re-exports the types as aliases, so handlers import only core. What only
// an adapter author needs is in adapters/adapterkit; what a store implements is package
// storage; the chunks and parts of a streamed reply, as clients read them, are package parts.
//
// # Hub
//
// A Hub is configured by Options (every zero field has a documented default). For each
// connection:
//
//   - The first frame is the welcome envelope (see envelope.WelcomeOf): it names the
//     session (a new one when the request named none), the connection, and what follows
//     (the replayed messages, the running streams), so any client can resume.
//   - One goroutine reads. A frame above Options.MaxMessageSize is discarded while it is
//     read and answered with an error envelope; undecodable frames get the seed's exact
//     error texts; heartbeats ({"type":"ping"}/{"type":"pong"}) are accepted.
//   - One writer at a time performs every write, heartbeats included: frames already queued
//     go out together in one write call. Its queue is bounded in frames and bytes
//     (Options.SendQueueSize, SendQueueBytes; a reconnect's replay is not counted); a
//     member that sends faster than the session's connections read is slowed before its
//     next message is handled, and a client that still does not keep up is closed with
//     1008 "slow consumer", its close frame ahead of the queued frames.
//   - The Handler runs on a per-connection goroutine, one message at a time. Replies go
//     through a ReplyWriter. See Handler for when its context ends. The writer and the
//     handler's goroutines end after a second without work, so an idle connection has
//     only its reader.
//   - With a Store, inbound messages and replies are appended to the session's history and
//     delivered to every connection of the session on every hub sharing the store; a client
//     that reconnects with lastMessageId first receives what it missed, without gap or
//     duplicate, then live messages. When the store lost a session's history (a new epoch,
//     see storage.Record), every connection is sent HISTORY_RESET and the new history.
//
// MemoryStore, the in-process Store, is bounded by default (MemoryStoreOptions: sessions,
// messages per session, bytes, idle TTL), locks per session, and expires lazily on every
// call, so it needs no goroutine and no Close.
//
// An idle connection costs one goroutine (the reader) and no buffers: the writer and
// handler goroutines exist only while they have work.
//
// # Streams and parts
//
// ReplyWriter.Stream starts a streamed reply. Besides text deltas (Stream.Delta) a stream
// carries typed parts, as an AI SDK UIMessage does: reasoning and text (TextPart), tool
// calls whose input streams in and whose output arrives later (ToolCall), sources, files,
// data parts, step boundaries, message metadata and a finish reason. Each change is a
// chunk (package parts, the AI SDK's UI message chunk); clients fold chunks into parts with a
// parts.Builder, a resuming client gets them compacted, and the final message stores the
// parts in its metadata. Hub.RunningStreams and Hub.CancelStream serve transports that
// resume or stop replies by request (package aisdk).
//
// # Human in the loop
//
// A handler may wait for a person: ToolCall.RequestApproval (approve or deny a tool call) and
// Stream.Ask (a question with an optional form, MCP elicitation's shape). The request is held
// by the store (storage.PendingStore, implemented by MemoryStore and redisstore) and shown as
// a part of the running reply, so any connection on any instance sees it and may answer it
// (Hub.Answer, or a client's answer frame); exactly one answer wins and wakes the waiting
// handler through the store's notifications. Options.WhileReplying chooses what a message
// sent while a reply runs does (queue, steer, interrupt, reject), wherever the reply runs.
//
// # Conversations
//
// With Options.Conversations and a Store that implements storage.DirectoryStore (MemoryStore and
// redisstore do), each owner (by default the authenticated principal) has a directory of
// its conversations (sessions): every connection of the owner, on every hub, gets the list
// and its changes (created, renamed, cleared, deleted, activity, a reply starting and
// ending), and may create, open, rename, clear or delete conversations with system
// envelopes (PROTOCOL.md, "Conversations"). Opening one switches the connection to it
// without reconnecting: it leaves the old session's fan-out and joins the new one with a
// replay and the running streams' resume. A connection shows one conversation at a time;
// the directory's running flag serves a sidebar. Handlers name conversations with
// ReplyWriter.SetTitle. Another owner's conversation is refused exactly like an unknown one.
//
// # Concurrency
//
// Stream, TextPart and ToolCall methods are safe for concurrent use; a parts.Builder is not.
// Hub, MemoryStore and the package functions are safe for concurrent use. A ReplyWriter is
// valid only during the ServeChat call it was passed to. Message values may be shared for
// reading. Hub.Shutdown closes every connection with 1001 and waits for every goroutine
// until its context ends.
package core
