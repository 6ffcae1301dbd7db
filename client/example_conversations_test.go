package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

// A user's conversations: create one (the connection switches to it), rename the first,
// list them, and switch back, all over one connection.
func ExampleClient_OpenConversation() {
	hub := core.NewHub(core.Options{
		Store:         core.NewMemoryStore(core.MemoryStoreOptions{}),
		Conversations: core.ConversationOptions{Enabled: true},
	})
	srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{
		// The principal owns the directory; a real server verifies a credential here.
		Authenticate: func(r *http.Request) (any, error) { return r.Header.Get("X-User"), nil },
	}))
	defer srv.Close()
	defer hub.Shutdown(context.Background())

	ctx := context.Background()
	c, err := client.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), client.Options{Header: http.Header{"X-User": {"alice"}}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	first := c.SessionID() // the conversation this connection started in

	if _, err := c.NewConversation(ctx, "Trip"); err != nil {
		log.Fatal(err)
	}
	if _, err := c.RenameConversation(ctx, first, "Groceries"); err != nil {
		log.Fatal(err)
	}
	page, err := c.Conversations(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	var titles []string
	for _, conv := range page.Conversations {
		titles = append(titles, conv.Title)
	}
	sort.Strings(titles)
	fmt.Println(titles)
	back, err := c.OpenConversation(ctx, first)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("opened:", back.Title)
	// Output:
	// [Groceries Trip]
	// opened: Groceries
}
