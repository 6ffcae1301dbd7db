package wsfiber

import (
	"bufio"
	"bytes"
	"context"

	"github.com/chatwire/chatwire/aisdk"
	"github.com/gofiber/fiber/v2"
)

// AISDK serves ep, the AI SDK UI message stream endpoint (package aisdk), natively on
// Fiber: the SSE body is written with fasthttp's body stream writer. Mount it at the chat
// path and below:
//
//	h := wsfiber.AISDK(aisdk.New(hub, aisdk.Options{Admit: admit}))
//	app.All("/api/chat", h)
//	app.All("/api/chat/*", h)
//
// Fiber's own BodyLimit (default 4 MB) applies before aisdk.Options.MaxBodySize.
func AISDK(ep *aisdk.Endpoint) fiber.Handler {
	return func(c *fiber.Ctx) error {
		fctx := c.Context()
		req := c.Request()
		// Copies only: fasthttp reuses the request's memory once this handler returns, and
		// the body stream writer runs after that.
		call := &aisdk.Call{
			Method:     string(append([]byte(nil), fctx.Method()...)),
			Path:       string(append([]byte(nil), fctx.Path()...)),
			RawQuery:   string(append([]byte(nil), fctx.QueryArgs().QueryString()...)),
			Header:     headerCopy(&req.Header),
			Host:       string(append([]byte(nil), fctx.Host()...)),
			RemoteAddr: fctx.RemoteAddr().String(),
			Body:       bytes.NewReader(bytes.Clone(req.Body())),
		}
		resp := ep.Handle(context.Background(), call)
		for k, vs := range resp.Header {
			for _, v := range vs {
				c.Set(k, v)
			}
		}
		c.Status(resp.Status)
		if !resp.Streaming() {
			return c.Send(resp.Body)
		}
		fctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			_ = resp.Stream(context.Background(), w, w.Flush)
		})
		return nil
	}
}
