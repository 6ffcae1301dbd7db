package aisdk

import (
	"io"
	"net/http"

	"github.com/chatwire/chatwire/parts"
)

// sseHeaders returns the headers of a UI message stream response.
func sseHeaders() http.Header {
	return http.Header{
		"Content-Type":                  {"text/event-stream"},
		"Cache-Control":                 {"no-cache"},
		"Connection":                    {"keep-alive"},
		"X-Vercel-Ai-Ui-Message-Stream": {"v1"},
		"X-Accel-Buffering":             {"no"},
	}
}

// sseWriter writes SSE events: each chunk as "data: <json>\n\n". Events are buffered and
// written with one Write and one flush per send.
type sseWriter struct {
	w     io.Writer
	flush func() error
	buf   []byte
	err   error
}

func (s *sseWriter) chunk(c *parts.Chunk) {
	s.buf = append(s.buf, "data: "...)
	s.buf = parts.AppendChunk(s.buf, c)
	s.buf = append(s.buf, "\n\n"...)
}

func (s *sseWriter) done() { s.buf = append(s.buf, "data: [DONE]\n\n"...) }

func (s *sseWriter) comment() { s.buf = append(s.buf, ": keep-alive\n\n"...) }

// send writes what is buffered; after a failure (the client went away) it does nothing and
// returns the first error.
func (s *sseWriter) send() error {
	if s.err != nil || len(s.buf) == 0 {
		return s.err
	}
	if _, err := s.w.Write(s.buf); err != nil {
		s.err = err
	} else if s.flush != nil {
		s.err = s.flush()
	}
	s.buf = s.buf[:0]
	return s.err
}
