package core

import (
	"context"
	"net/http"
)

// Request is one inbound message together with what the hub knows about its origin.
// The hub owns it; a handler must not keep it after returning.
type Request struct {
	// Message is the decoded envelope. The hub has already set its ID (the client's, else a
	// new one), its Timestamp (server time) and its Role (always RoleUser: a client cannot
	// write assistant or system turns into a history that is later fed to a model).
	Message Message
	// SessionID names the session the connection belongs to.
	SessionID string
	// ConnID identifies the connection within this hub.
	ConnID string
	// Principal is what the adapter's authentication hook returned; nil without one.
	Principal any
	// Header is a copy of the upgrade request's headers.
	Header http.Header
}

// Handler handles inbound messages. ServeChat is called once per inbound message, in the
// order a connection sent them, never concurrently for one connection (different connections
// are handled concurrently).
//
// When ctx ends depends on the mode:
//
//   - Without a Store (stateless), ctx ends when the connection ends or the hub shuts down:
//     nobody could receive the reply.
//   - With a Store, ctx is NOT tied to the connection: the reply is stored and delivered to
//     the session's other connections and to the client when it reconnects, so closing a
//     tab does not stop the work. ctx ends when a client cancels the stream (a cancel
//     request, see Stream), or when Hub.Shutdown's deadline passes. A handler that runs a
//     model must watch ctx; it keeps running (and billing) after the user left otherwise.
//
// Replies go through w, in order. A returned *Error sends its Text to the client as an
// error envelope with its Code; any other error (and a panic) sends a generic
// "Internal error processing message" envelope with code INTERNAL and is logged.
type Handler interface {
	ServeChat(ctx context.Context, req *Request, w *ReplyWriter) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request, w *ReplyWriter) error

// ServeChat calls f.
func (f HandlerFunc) ServeChat(ctx context.Context, req *Request, w *ReplyWriter) error {
	return f(ctx, req, w)
}

// ReplyFunc adapts a function that returns its replies, the shape of the seed's onMessage:
// zero, one or many envelopes, sent in order.
func ReplyFunc(f func(ctx context.Context, req *Request) ([]Message, error)) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request, w *ReplyWriter) error {
		msgs, err := f(ctx, req)
		for i := range msgs {
			if serr := w.Send(ctx, msgs[i]); serr != nil {
				return serr
			}
		}
		return err
	})
}
