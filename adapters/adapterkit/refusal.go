package adapterkit

import (
	"errors"
	"net/http"

	"github.com/chatwire/chatwire/core"
)

// Refusal format. Every refusal of every adapter (the checks of CheckHandshake, an
// Authenticate or Admit refusal, the hub's own: shutting down, session unavailable) is
// written by Refuse and is byte-identical across adapters:
//
//	HTTP/1.1 <status> <reason phrase>
//	Content-Type: text/plain; charset=utf-8
//	X-Content-Type-Options: nosniff
//
//	<body>\n
//
// where body is the refusal's one-line text (core.HandshakeError.Body) followed by one
// newline, as net/http's http.Error writes it. Frameworks may add their usual headers
// (Date, Server, Content-Length).
const (
	refusalContentType = "text/plain; charset=utf-8"
)

// Refuse answers x with a refusal: status and the text body, in the format above. It is
// the one place where refusals are written; adapters also route their upgrader's own
// failures (e.g. a missing Sec-WebSocket-Key) through it.
func Refuse(x Exchange, status int, body string) error {
	h := make(http.Header, 2)
	h.Set("Content-Type", refusalContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	return x.Respond(status, h, []byte(body+"\n"))
}

// RefusalOf returns the HTTP status and body answered when an AdmitFunc (or the hub)
// refuses with err: a *core.HandshakeError's own, else 403 "Forbidden".
func RefusalOf(err error) (status int, body string) {
	return refusalOr(err, http.StatusForbidden)
}

// AuthRefusalOf returns the HTTP status and body answered when an adapter's Authenticate
// hook fails with err: a *core.HandshakeError's own, else 401 "Unauthorized".
func AuthRefusalOf(err error) (status int, body string) {
	return refusalOr(err, http.StatusUnauthorized)
}

func refusalOr(err error, status int) (int, string) {
	var he *core.HandshakeError
	if errors.As(err, &he) {
		return he.Status, he.Body
	}
	return status, http.StatusText(status)
}

// StatusError returns the refusal for a framework's own HTTP error (an *echo.HTTPError, a
// *fiber.Error) with status and text ("" for the status's standard text), wrapping cause;
// adapters return it from Exchange.Authenticate.
func StatusError(status int, text string, cause error) *core.HandshakeError {
	if text == "" {
		text = http.StatusText(status)
	}
	return &core.HandshakeError{Status: status, Body: text, Err: cause}
}

// RespondHTTP is Exchange.Respond for adapters that answer through a net/http
// ResponseWriter (wshttp, wsecho): header's values replace the writer's, then the status
// and body are written.
func RespondHTTP(w http.ResponseWriter, status int, header http.Header, body []byte) error {
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
