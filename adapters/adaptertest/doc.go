// Package adaptertest is the conformance suite every chatwire adapter passes: the wire
// behaviour of PROTOCOL.md exercised through real WebSocket connections over loopback.
// An adapter's test calls Run with a Mount that serves a hub on a fresh test server.
//
// RunCluster runs the multi-instance cases (two hubs sharing a backend) with a StoreFactory.
// A Client is used by one test goroutine at a time (one reader, one writer), like the
// WebSocket connection it wraps; Run and RunCluster are safe to call from parallel tests.
package adaptertest
