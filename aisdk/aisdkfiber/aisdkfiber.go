package aisdkfiber

import (
	"bufio"
	"bytes"
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/aisdk"
)

// New returns a fiber.Handler serving ep, the AI SDK UI message stream endpoint (package
// aisdk), natively on Fiber: the SSE body is written with fasthttp's body stream writer.
// Mount it at the chat path and below:
//
//	h := aisdkfiber.New(aisdk.New(hub, aisdk.Options{}))
//	app.All("/api/chat", h)
//	app.All("/api/chat/*", h)
//
// Fiber's own BodyLimit (default 4 MB) applies before aisdk.Options.MaxBodySize.
func New(ep *aisdk.Endpoint) fiber.Handler {
	return func(c *fiber.Ctx) error {
		fctx := c.Context()
		req := c.Request()
		// Copies only: fasthttp reuses the request's memory once this handler returns, and
		// the body stream writer runs after that.
		call := &aisdk.Call{
			Method:     string(fctx.Method()), // string conversions copy
			Path:       string(fctx.Path()),
			RawQuery:   string(fctx.QueryArgs().QueryString()),
			Header:     adapterkit.HeaderOf(req.Header.Len(), req.Header.VisitAll),
			Host:       string(fctx.Host()),
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
