// Package aisdkfiber serves the AI SDK UI message stream endpoint (package aisdk: useChat's
// default transport over SSE) natively on Fiber v2, whose handlers are not net/http
// handlers. With net/http the endpoint is an http.Handler already, and Echo wraps it with
// echo.WrapHandler; only Fiber needs this package.
//
//	sse := aisdk.New(hub, aisdk.Options{})
//	app.All("/api/chat", aisdkfiber.New(sse))
//	app.All("/api/chat/*", aisdkfiber.New(sse))
//
// The handler copies what the endpoint needs out of the fasthttp request (method, path,
// query, headers, host, remote address, body) before it returns, because fasthttp reuses the
// request's memory, then streams the response with fasthttp's body stream writer. The
// adapter conformance cases for the endpoint (adaptertest.RunAISDK) run against it. The
// handler is safe for concurrent use.
package aisdkfiber
