package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// exampleServer starts a chatwire server with persistent sessions and returns its
// ws:// URL and a function that stops it.
func exampleServer(h core.Handler) (url string, stop func()) {
	hub := core.NewHub(core.Options{Handler: h, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
	srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{}))
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		_ = hub.Shutdown(context.Background())
		srv.Close()
	}
}

// A client sends a message and reads the events: the server's echo of the message (it was
// stored) and the bot's reply.
func Example() {
	url, stop := exampleServer(core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
		return []core.Message{{Content: "Echo: " + req.Message.Content}}, nil
	}))
	defer stop()

	ctx := context.Background()
	c, err := client.Dial(ctx, url, client.Options{SessionID: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sent, err := c.SendText(ctx, "hello")
	if err != nil {
		log.Fatal(err)
	}
	for ev := range c.Events() {
		switch ev.Kind {
		case client.EventState:
			fmt.Println("state:", ev.State)
		case client.EventMessage:
			if ev.Message.ID == sent.ID {
				fmt.Println("stored:", ev.Message.Content)
				continue
			}
			fmt.Printf("%s: %s\n", ev.Message.Role, ev.Message.Content)
			return
		}
	}
	// Output:
	// state: connected
	// stored: hello
	// assistant: Echo: hello
}

// A streamed reply arrives as growing text, then ends with the stored whole.
func Example_stream() {
	url, stop := exampleServer(core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		for _, word := range strings.Fields("streams grow word by word") {
			if err := s.Delta(ctx, word+" "); err != nil {
				return err
			}
		}
		return s.Close(ctx)
	}))
	defer stop()

	ctx := context.Background()
	c, err := client.Dial(ctx, url, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.SendText(ctx, "go"); err != nil {
		log.Fatal(err)
	}
	for ev := range c.Events() {
		switch ev.Kind {
		case client.EventStream:
			// ev.Stream.Text is the text so far; a UI redraws it (deltas may be merged
			// when the client is behind, so the number of updates varies).
		case client.EventStreamEnd:
			fmt.Printf("%s (%s)\n", ev.Stream.Text, ev.Stream.State)
			return
		}
	}
	// Output:
	// streams grow word by word  (done)
}
