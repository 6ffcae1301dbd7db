// Package envelope is chatwire's wire format: the Message envelope (id, type, role,
// content, metadata, timestamp) exchanged in both directions, one per WebSocket text frame,
// and its codec, AppendMessage and Decode. It is the format of the TypeScript package
// @workkit/chat; PROTOCOL.md in the repository root is the exact specification.
//
// Servers (package core, which re-exports Message, Type and Role so handlers need one
// import), clients (package client), stores (redisstore) and benchmarks share it. It
// imports only the standard library.
//
// # Codec
//
// AppendMessage and Decode convert between Message and its JSON wire form without
// reflection and without package unsafe, allocating nothing per encode when the caller
// reuses its buffer and at most two allocations per decode (none aliasing the input). The
// exact rules (escaping, depth, keys, allocation) are documented on the functions and in
// codec.go. The codec is fuzzed: see codec_fuzz_test.go and testdata/fuzz.
//
// # Concurrency
//
// Every function is safe for concurrent use. Message values may be shared for reading;
// Metadata is a shared slice that readers must not modify.
package envelope
