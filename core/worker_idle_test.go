package core_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// handlerWorkers counts the goroutines running a connection's handler worker.
func handlerWorkers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "core.(*connection).handleLoop(")
}

// TestHandlerWorkerEndsWhenIdle checks the lifecycle of a connection's handler worker, with
// and without a store: it answers messages in order, ends once the connection has been idle
// for a while (it lingers for one to two seconds), and a later message starts a new one that
// answers it.
func TestHandlerWorkerEndsWhenIdle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store core.Store
	}{
		{"stateless", nil},
		{"memory store", core.NewMemoryStore(core.MemoryStoreOptions{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			echo := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
				return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
			})
			opts := core.Options{Handler: echo}
			if tc.store != nil {
				opts.Store = tc.store
			}
			url, stop := serve(core.NewHub(opts))
			defer stop()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, url, client.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			roundTrip := func(text string) {
				t.Helper()
				if _, err := c.SendText(ctx, text); err != nil {
					t.Fatal(err)
				}
				for {
					select {
					case ev := <-c.Events():
						if ev.Kind == client.EventError {
							t.Fatal(ev.Err)
						}
						if ev.Kind == client.EventMessage && ev.Message.Role == core.RoleAssistant {
							if ev.Message.Content != "Echo: "+text {
								t.Fatalf("reply %q, want %q", ev.Message.Content, "Echo: "+text)
							}
							return
						}
					case <-ctx.Done():
						t.Fatalf("no reply to %q", text)
					}
				}
			}
			for i := range 20 {
				roundTrip("steady " + string(rune('a'+i)))
			}
			if n := handlerWorkers(); n < 1 {
				t.Fatalf("%d handler workers right after a round trip, want one", n)
			}
			deadline := time.Now().Add(10 * time.Second) // it lingers for at most 2 s
			for handlerWorkers() != 0 {
				if time.Now().After(deadline) {
					t.Fatal("the handler worker of an idle connection did not end")
				}
				time.Sleep(50 * time.Millisecond)
			}
			roundTrip("after idle")
			roundTrip("again")
		})
	}
}
