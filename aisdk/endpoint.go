package aisdk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/internal/hubport"
)

// Options configures an Endpoint. The zero value is ready to use; New copies it.
type Options struct {
	// AllowedOrigins lists the browser origins allowed to call the endpoint, exactly as
	// the WebSocket adapters' option of the same name (adapterkit.OriginAllowed): pass the
	// same list. Default: nil, which allows only origins whose host equals the request's
	// Host. Requests without an Origin header (non-browser clients) are allowed.
	AllowedOrigins []string

	// AllowedHosts lists the Host header values the endpoint answers to, as the adapters'
	// option of the same name (adapterkit.HostAllowed; it stops DNS rebinding). Default:
	// nil (every host).
	AllowedHosts []string

	// MaxBodySize bounds a POST body in bytes; a longer one is answered 413. useChat sends
	// the whole conversation with every message by default; see README for sending only the
	// newest message. Default: 1 MiB.
	MaxBodySize int64

	// Logger receives the endpoint's warnings (never message contents). Default: nil
	// (silent).
	Logger *slog.Logger
}

// Endpoint serves the AI SDK's UI message stream protocol over SSE on a Hub (see the
// package documentation for its routes). It is an http.Handler; Handle is its
// framework-neutral form.
type Endpoint struct {
	hub  *core.Hub
	port hubport.Hub
	opts Options
	log  *slog.Logger
}

var _ http.Handler = (*Endpoint)(nil)

// New returns an Endpoint serving hub.
func New(hub *core.Hub, opts Options) *Endpoint {
	opts.AllowedOrigins = append([]string(nil), opts.AllowedOrigins...)
	opts.AllowedHosts = append([]string(nil), opts.AllowedHosts...)
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = 1 << 20
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{hub: hub, port: hubport.Open(hub), opts: opts, log: log}
}

// Call is one HTTP request to the endpoint, framework-neutral. Every field must be a copy
// the caller owns (fasthttp reuses its request's memory once its handler returns).
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the request's URL path; the endpoint looks only at its last segments
	// ("/{id}/stream", "/{id}/stop"), so it works at any mount path.
	Path string
	// RawQuery is the query string without '?', as sent (parsed as the adapters parse it).
	RawQuery string
	// Header holds the request's headers.
	Header http.Header
	// Host is the request's Host.
	Host string
	// RemoteAddr is the client's address (host:port).
	RemoteAddr string
	// Body is the request body (read up to Options.MaxBodySize + 1 bytes).
	Body io.Reader
}

// Response is the Endpoint's answer to a Call: Status and Header, then either Body or, when
// Streaming reports true, the SSE stream written by Stream. Exactly one of Stream or Close
// must be called for a streaming Response; Close is harmless on any Response.
type Response struct {
	// Status is the HTTP status to answer.
	Status int
	// Header holds the response's header fields.
	Header http.Header
	// Body is the whole body of a response that does not stream.
	Body []byte

	stream func(ctx context.Context, w io.Writer, flush func() error) error
	close  func()
}

// Streaming reports whether the response body is an SSE stream to write with Stream.
func (r *Response) Streaming() bool { return r.stream != nil }

// Stream writes the SSE body to w, calling flush after each batch of events, until the
// reply ends, ctx ends or a write fails (the client went away: the reply goes on, and can
// be resumed). It releases the response's resources before returning.
func (r *Response) Stream(ctx context.Context, w io.Writer, flush func() error) error {
	if r.stream == nil {
		return nil
	}
	s := r.stream
	r.stream, r.close = nil, nil
	return s(ctx, w, flush)
}

// Close releases a streaming response that will not be streamed.
func (r *Response) Close() {
	if r.close != nil {
		c := r.close
		r.stream, r.close = nil, nil
		c()
	}
}

func jsonResponse(status int, v any) *Response {
	b, _ := json.Marshal(v)
	return &Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

func (p *problem) response() *Response {
	r := jsonResponse(p.status, nil)
	r.Body = p.body()
	return r
}

// ServeHTTP implements http.Handler. Mount it at the chat path and below, e.g.
// mux.Handle("/api/chat", ep) and mux.Handle("/api/chat/", ep).
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp := e.Handle(r.Context(), &Call{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header,
		Host: r.Host, RemoteAddr: r.RemoteAddr, Body: r.Body,
	})
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if !resp.Streaming() {
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
		return
	}
	w.WriteHeader(resp.Status)
	rc := http.NewResponseController(w)
	_ = resp.Stream(r.Context(), w, rc.Flush)
}

// Handle answers one call. ctx is the request's context: its values reach the handler
// (core.Request) and its end stops the SSE stream, not the reply.
func (e *Endpoint) Handle(ctx context.Context, call *Call) *Response {
	route, chatID := routeOf(call.Method, call.Path)
	if route == routeNone {
		return (&problem{status: http.StatusMethodNotAllowed, code: CodeMethodNotAllowed, message: "Use POST to send, GET .../{id}/stream to resume, POST .../{id}/stop to stop"}).response()
	}
	if !adapterkit.HostAllowed(call.Host, e.opts.AllowedHosts) {
		return (&problem{status: http.StatusForbidden, code: CodeHostNotAllowed, message: "Host not allowed"}).response()
	}
	if origin := call.Header.Get("Origin"); origin != "" && !adapterkit.OriginAllowed(origin, call.Host, e.opts.AllowedOrigins) {
		return (&problem{status: http.StatusForbidden, code: CodeOriginNotAllowed, message: "Origin not allowed"}).response()
	}
	if route != routeResume && !isJSONContentType(call.Header.Get("Content-Type")) {
		return (&problem{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType, message: "Content-Type must be application/json"}).response()
	}
	var turn userTurn
	var stop stopBody
	if route == routeChat || route == routeStop {
		body, err := readBody(call.Body, e.opts.MaxBodySize)
		switch {
		case errors.Is(err, errTooLarge):
			return (&problem{status: http.StatusRequestEntityTooLarge, code: CodeBodyTooLarge, message: "Body too large"}).response()
		case err != nil:
			return (&problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: "Body could not be read"}).response()
		}
		if route == routeChat {
			var p *problem
			if turn, p = parseChatRequest(body); p != nil {
				return p.response()
			}
			chatID = turn.chatID
		} else if len(strings.TrimSpace(string(body))) > 0 && json.Unmarshal(body, &stop) != nil {
			return (&problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: "Body is not valid JSON"}).response()
		}
	}
	if !core.ValidSessionID(chatID) {
		return (&problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: "Invalid chat id"}).response()
	}
	query, err := url.ParseQuery(call.RawQuery)
	if err != nil {
		return (&problem{status: http.StatusBadRequest, code: CodeInvalidRequest, message: "Invalid query"}).response()
	}
	info := hubport.ConnInfo{SessionID: chatID, Header: call.Header.Clone(), RemoteAddr: call.RemoteAddr}
	if _, err := e.port.Admit(ctx, &info, query); err != nil {
		status, text := adapterkit.RefusalOf(err)
		return (&problem{status: status, code: refusalCode(status), message: text}).response()
	}
	switch route {
	case routeChat:
		if len(turn.approvals) > 0 {
			return e.approve(ctx, info, turn)
		}
		return e.chat(ctx, info, turn)
	case routeResume:
		return e.resume(ctx, info)
	default:
		return e.stop(ctx, info, stop.MessageID)
	}
}

func refusalCode(status int) string {
	if status == http.StatusNotFound {
		return CodeNotFound
	}
	return CodeRefused
}

type route int

const (
	routeNone route = iota
	routeChat
	routeResume
	routeStop
)

// routeOf maps a method and path to a route and, for resume and stop, the chat id.
func routeOf(method, path string) (route, string) {
	path = strings.TrimSuffix(path, "/")
	segs := strings.Split(path, "/")
	n := len(segs)
	if n >= 2 {
		id, last := segs[n-2], segs[n-1]
		switch {
		case last == "stream" && method == http.MethodGet:
			return routeResume, id
		case last == "stop" && method == http.MethodPost:
			return routeStop, id
		}
	}
	if method == http.MethodPost {
		return routeChat, ""
	}
	return routeNone, ""
}
