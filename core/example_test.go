package core_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// serve mounts hub on a loopback server with the net/http adapter and returns its ws://
// URL and a function that stops both.
func serve(hub *core.Hub) (url string, stop func()) {
	srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{}))
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
		srv.Close()
	}
}

// ask sends text from a new client and prints what comes back until the first reply by
// the assistant that ends the exchange (a message, or the end of a stream).
func ask(url, text string) {
	ctx := context.Background()
	c, err := client.Dial(ctx, url, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sent, err := c.SendText(ctx, text)
	if err != nil {
		log.Fatal(err)
	}
	for ev := range c.Events() {
		switch ev.Kind {
		case client.EventMessage:
			if ev.Message.ID == sent.ID {
				continue // the stored copy of what we sent (session mode)
			}
			fmt.Printf("%s: %s\n", ev.Message.Role, ev.Message.Content)
			if strings.HasSuffix(ev.Message.Content, ".") {
				return
			}
		case client.EventStreamEnd:
			fmt.Printf("streamed: %s(%s)\n", ev.Stream.Text, ev.Stream.State)
			return
		case client.EventError:
			fmt.Println("error:", ev.Err)
			return
		}
	}
}

// A hub without a Store is a stateless transport: the handler's replies go back to the
// connection that asked. Mount it with any adapter (wshttp here).
func ExampleNewHub() {
	hub := core.NewHub(core.Options{
		Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			return w.Send(ctx, core.Message{Content: "You said " + req.Message.Content + "."})
		}),
	})
	url, stop := serve(hub)
	defer stop()
	ask(url, "hello")
	// Output:
	// assistant: You said hello.
}

// A HandlerFunc replies through the ReplyWriter, as many times as it likes. Returning a
// *core.Error sends its code and text to the client as an error envelope.
func ExampleHandlerFunc() {
	bot := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		if req.Message.Content == "" {
			return core.NewError("EMPTY", "Say something")
		}
		if err := w.Send(ctx, core.Message{Content: "Thinking"}); err != nil {
			return err
		}
		return w.Send(ctx, core.Message{Content: strings.ToUpper(req.Message.Content) + "."})
	})
	url, stop := serve(core.NewHub(core.Options{Handler: bot}))
	defer stop()
	ask(url, "shout")
	ask(url, "")
	// Output:
	// assistant: Thinking
	// assistant: SHOUT.
	// error: chatwire server error EMPTY: Say something
}

// ReplyFunc suits handlers that compute their replies and return them, like the seed's
// onMessage.
func ExampleReplyFunc() {
	bot := core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
		return []core.Message{
			{Content: "Two replies"},
			{Type: core.TypeSystem, Role: core.RoleSystem, Content: "in order."},
		}, nil
	})
	url, stop := serve(core.NewHub(core.Options{Handler: bot}))
	defer stop()
	ask(url, "hi")
	// Output:
	// assistant: Two replies
	// system: in order.
}

// A Stream sends a reply as it is produced (a model's tokens); Close stores the whole
// text as one message. Clients see the text grow, then the stored message.
func ExampleReplyWriter_Stream() {
	bot := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		s, err := w.Stream(ctx)
		if err != nil {
			return err
		}
		for _, token := range []string{"Once ", "upon ", "a ", "time. "} {
			if err := s.Delta(ctx, token); err != nil {
				return err // the client cancelled: s.Context() says why
			}
		}
		return s.Close(ctx)
	})
	hub := core.NewHub(core.Options{Handler: bot, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
	url, stop := serve(hub)
	defer stop()
	ask(url, "tell me a story")
	// Output:
	// streamed: Once upon a time. (done)
}

// A MemoryStore keeps each session's history in the process: a client that reconnects
// with the id of the last message it saw gets what it missed. Store methods can also be
// called directly.
func ExampleMemoryStore() {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	ctx := context.Background()
	for _, text := range []string{"first", "second", "third"} {
		m := core.Message{ID: text, Type: core.TypeMessage, Role: core.RoleUser, Content: text, Timestamp: 1700000000000}
		if _, err := store.Append(ctx, "room-1", m, 100); err != nil {
			log.Fatal(err)
		}
	}
	seq, ok, _ := store.Lookup(ctx, "room-1", "first")
	page, err := store.Read(ctx, "room-1", seq) // everything after "first"
	if err != nil || !ok {
		log.Fatal(err)
	}
	for _, r := range page.Records {
		fmt.Println(r.Seq, r.Message.Content)
	}
	// Output:
	// 2 second
	// 3 third
}
