// Package demo holds what the chatwire examples share: the echo bot, the command-line
// flags, the browser page and the run loop with graceful shutdown.
//
// Everything here is safe for concurrent use; FakeModel and EchoBot are stateless handlers.
package demo
