// Package demotest checks that a running example serves what every chatwire example serves:
// the demo page at /, the browser client at /chatwire.js and the chat endpoint at /chat.
// Each example's tests start the example's own routes on a loopback listener and run
// Endpoints against them, so every framework is held to the same list.
//
// Its functions are safe to call from parallel tests; each call uses its own connections.
package demotest
